"""One generator per input class of the hardening issue, plus generic mutation.

A generator takes a seeded `random.Random` and the corpus, and returns a `FuzzInput`: the
command line (relative paths; it runs in a folder of its own holding `files`), the files and
FIFOs it reads, and how it runs (in-process, with stdout a full disk or a broken pipe, with an
ASCII terminal, or as a subprocess that receives a signal).  Everything is a function of the
seed, so an input is regenerated from (seed, index) alone.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import Corpus, SeedSpec, SeedTrace
from .mutate import CONTROL, mutate_json, mutate_text

SPEC = "spec.yaml"
TRACE = "trace.json"


@dataclass
class FuzzInput:
    family: str
    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    fifos: list[str] = field(default_factory=list)
    sparse: dict[str, int] = field(default_factory=dict)   # name -> size (a sparse file)
    stdout: str = "capture"       # capture | full (ENOSPC) | pipe (EPIPE)
    charset: str = "utf-8"        # the terminal's encoding
    signal: str | None = None     # SIGINT | SIGTERM: run as a subprocess and interrupt it
    signal_delay: float = 0.0
    note: str = ""                # what the generator did
    reports: dict[str, str] = field(default_factory=dict)   # path -> the format it must hold
    stdout_format: str | None = None   # the format stdout must hold (after exit 0, 1 or 3)
    also_ok: tuple[int, ...] = ()      # statuses also expected (74: a report on /dev/full)
    runs: int = 1                 # how many times the command runs (a cache read back)
    between: Callable[[Path], None] | None = None   # called on the folder between runs
    same_status: bool = False     # a run after a complete result (0 or 1) gives its status
    must_not_hold: tuple[str, ...] = ()   # properties the spec violates: never "holds" in
                                          # the JSON on stdout (a forged proof must not pass)


HUGE_INT = "__an integer of 4400 digits__"   # written into trace JSON as the digits


def _text(files: dict[str, str | bytes]) -> dict[str, bytes]:
    return {k: v if isinstance(v, bytes) else v.encode("utf-8", "surrogatepass")
            for k, v in files.items()}


# ---------------------------------------------------------------- commands
def check_args(rng: random.Random, engine: str | None = None) -> list[str]:
    """Options that keep a legitimate search small, and some that vary the output."""
    engine = engine or rng.choice(["auto"] * 12 + ["bfs"] * 6 + ["array"] * 4
                                  + ["bmc", "kind", "pdr", "all"])
    args = ["--max-states", str(rng.choice([50, 300, 1000])), "--no-timing"]
    if engine in ("bmc", "kind"):
        args += ["--max-depth", str(rng.randint(0, 3)), "--time-limit", "0.5"]
    else:
        args += ["--time-limit", rng.choice(["0.2", "0.5"])]
    if engine != "auto":
        args += ["--engine", engine]
    for opt in ("--format=json", "-q", "--full", "--witnesses", "--stop-on-first"):
        if rng.random() < 0.15:
            args.append(opt)
    if rng.random() < 0.15:
        args += ["--trace-dir", "traces"]
    return args


def spec_command(rng: random.Random, path: str = SPEC, extra: tuple[str, ...] = ()
                 ) -> list[str]:
    """check (mostly), lint or compile of the spec at `path`."""
    r = rng.random()
    if r < 0.72:
        return ["check", path, *extra, *check_args(rng)]
    if r < 0.86:
        return ["lint", path, *extra]
    return ["compile", path, "--emit", rng.choice(["ir", "python"]), *extra]


# ---------------------------------------------------------------- a template spec
BASE = """dnsrace: <<VERSION>>
name: fuzz
constants:
  N: <<N>>
  K: 3
define:
  d0: "<<DEFINE>>"
<<DEFINES>>variables:
  x: {type: "0..<<XHI>>", init: <<XINIT>>}
  b: {type: "bool", init: false}
  a: {type: "[<<ASIZE>>]0..3", init: 0}
  s: {type: "set of <<SETDOM>>", init: <<SINIT>>}
  q: {type: "seq of 0..3 max <<QMAX>>", init: <<QINIT>>}
<<VARIABLES>>processes:
  P:
    count: <<COUNT>>
    locals:
      t: {type: "0..3", init: 0}
    steps:
      - name: read
        guard: "<<GUARD>>"
        effect: t = x
      - name: write
        effect: |
<<EFFECT>>
        next: "<<NEXT>>"
actions:
  - name: flip
    params: {i: "<<PARAMDOM>>"}
    guard: "not b and i < N"
    effect: |
      b = true
      a[i] = 1
<<ACTIONS>>invariants:
  inv: "<<INV>>"
transitions:
  grows: "<<TRANS>>"
reachable:
  seen: "x == 3"
"""

DEFAULTS = {
    "VERSION": "1", "N": "2", "DEFINE": "x + 1", "DEFINES": "", "XHI": "3", "XINIT": "0",
    "ASIZE": "N", "SETDOM": "0..3", "SINIT": '"{}"', "QMAX": "2", "QINIT": '"[]"',
    "VARIABLES": "", "COUNT": "N", "GUARD": "x < 3",
    "EFFECT": "x = t\nif x < 3:\n    x += 1", "NEXT": "read", "PARAMDOM": "0..N-1",
    "ACTIONS": "", "INV": "x <= 3", "TRANS": "len(q') >= 0",
}


def base_spec(**slots: str) -> str:
    values = {**DEFAULTS, **slots}
    text = BASE
    for key, value in values.items():
        if key == "EFFECT":
            value = "\n".join("          " + line for line in value.split("\n"))
        text = text.replace(f"<<{key}>>", value)
    return text


# expression slots inside YAML double quotes, and what each may hold
EXPR_SLOTS = {"GUARD": "bool", "INV": "bool", "TRANS": "bool", "DEFINE": "int", "XINIT": "int",
              "EFFECT": "int", "NEXT": "step", "PARAMDOM": "set"}


def place(slot: str, expr: str) -> str:
    """A spec with `expr` in `slot` (an effect gets it as an assignment's right-hand side)."""
    if slot == "EFFECT":
        return base_spec(EFFECT=f"x = {expr}")
    if slot == "XINIT":
        return base_spec(XINIT=f'"{expr}"')
    return base_spec(**{slot: expr})


# ---------------------------------------------------------------- generic mutation
def mutate_spec(rng: random.Random, corpus: Corpus) -> FuzzInput:
    seed = rng.choice(corpus.specs)
    text = mutate_text(rng, seed.text)
    return FuzzInput("mutate-spec", spec_command(rng, SPEC, seed.args),
                     _text({SPEC: text}), note=f"mutated {seed.name}")


def valid_spec(rng: random.Random, corpus: Corpus) -> FuzzInput:
    seed = rng.choice(corpus.valid_specs)
    return FuzzInput("valid-spec", ["check", SPEC, *check_args(rng)], _text({SPEC: seed.text}),
                     note=f"{seed.name} as is")


def _replay_input(family: str, trace: dict | str | bytes, spec: SeedSpec | str | None,
                  note: str, extra: list[str] | None = None, **kw) -> FuzzInput:
    files: dict[str, str | bytes] = {}
    if not isinstance(trace, (str, bytes)):
        trace = json.dumps(trace, indent=_indent(trace)).replace(f'"{HUGE_INT}"', "9" * 4400)
    files[TRACE] = trace
    if spec is not None:
        files[SPEC] = spec.text if isinstance(spec, SeedSpec) else spec
    return FuzzInput(family, ["replay", TRACE, *(extra or [])], _text(files), note=note, **kw)


def _indent(obj) -> int | None:
    return 1 if len(json.dumps(obj)) < 200_000 else None


def _trace_for_spec(seed: SeedTrace) -> dict:
    """The trace file, naming the spec as written beside it."""
    obj = json.loads(json.dumps(seed.trace))
    if isinstance(obj.get("spec"), dict):
        obj["spec"]["path"] = SPEC
    return obj


def mutate_trace(rng: random.Random, corpus: Corpus) -> FuzzInput:
    seed = rng.choice(corpus.traces)
    obj = mutate_json(rng, _trace_for_spec(seed))
    return _replay_input("mutate-trace", obj, seed.spec, f"mutated {seed.name} of {seed.spec.name}")


def mutate_trace_bytes(rng: random.Random, corpus: Corpus) -> FuzzInput:
    seed = rng.choice(corpus.traces)
    text = mutate_text(rng, json.dumps(_trace_for_spec(seed), indent=1))
    return _replay_input("mutate-trace-bytes", text, seed.spec,
                         f"byte-mutated {seed.name} of {seed.spec.name}")


# ---------------------------------------------------------------- replay
def _forge_value(rng: random.Random, value):
    if isinstance(value, bool):
        return rng.choice([0, 1, "true", None, [True], 2])
    if isinstance(value, int):
        return rng.choice([value + 1, value - 1, value + 1000, 10**18, -(10**18), HUGE_INT,
                           1.5, float("nan"), str(value), True, None, [value]])
    if isinstance(value, str):
        return rng.choice(["nosuch", "", "\x1b[2Jx", value.upper(), 0, None, [value], "done",
                           value + "\u202e"])
    if isinstance(value, list):
        options = [[], value + value[:1] * 40, [value], {"0": value}, value[:-1], "[]", None,
                   [None] * len(value), [[]] * len(value), [10**18] * len(value),
                   list(reversed(value)), value + value]
        return rng.choice(options)
    if isinstance(value, dict):
        key = rng.choice(list(value)) if value else "k"
        options = [list(value.values()), {}, {**value, "nosuch": 0},
                   {k: v for k, v in value.items() if k != key}, {key: value}, None]
        return rng.choice(options)
    return rng.choice([0, "x", [], {}])


def replay_forged(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """A value past its range, or of the wrong shape, in the initial or the final state."""
    seed = rng.choice(corpus.traces)
    obj = _trace_for_spec(seed)
    steps = obj["steps"]
    k = rng.choice([0, len(steps) - 1, rng.randrange(len(steps))])
    state = steps[k].get("state")
    if not isinstance(state, dict) or not state:
        k, state = 0, steps[0]["state"]
    key = rng.choice(list(state))
    how = rng.random()
    if how < 0.75:
        state[key] = _forge_value(rng, state[key])
    elif how < 0.85:
        del state[key]
    elif how < 0.95:
        state[rng.choice(["nosuch", "\x1b[31mred\x1b[0m", "P.pc", "\x00", key + "'"])] = 0
    else:
        steps[k]["state"] = rng.choice([[], "state", 0, None, [state]])
    return _replay_input("replay-forged", obj, seed.spec,
                         f"step {k} key {key!r} forged in {seed.name} of {seed.spec.name}")


WRONG_TYPES = [None, True, 0, -1, 10**18, 1.5, "", "x", [], [1, 2], {}, {"a": 1}, "\x1b[2J"]


def replay_types(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """Fields of the trace file of the wrong JSON type."""
    seed = rng.choice(corpus.traces)
    obj = _trace_for_spec(seed)
    steps = obj["steps"]
    where = rng.choice(["action", "action0", "constants", "constant", "spec", "spec.path",
                        "spec.sha256", "steps", "step", "length", "loop_start", "message",
                        "top"])
    odd = copy.deepcopy(rng.choice(WRONG_TYPES))
    if where == "action":
        steps[rng.randrange(len(steps))]["action"] = rng.choice(
            [["P", 0], {"name": "x"}, 7, True, "", steps[-1]["action"], "P[0].nosuch(x=1)"])
    elif where == "action0":
        steps[0]["action"] = rng.choice(["", "x", 0, False])
    elif where == "constants":
        obj["constants"] = rng.choice(["N=3", [1, 2], 3, None, True])
    elif where == "constant":
        names = list(obj.get("constants") or {}) or ["N"]
        obj["constants"] = {rng.choice(names): rng.choice(
            [True, -1, 0, 10**18, HUGE_INT, "3", 2.5, None, [3], "٣"])}
    elif where == "spec":
        obj["spec"] = rng.choice([SPEC, [SPEC], 0, None, True])
    elif where == "spec.path":
        obj["spec"]["path"] = rng.choice([0, 1.5, [SPEC], {"p": SPEC}, True, "", "spec.yaml\x00",
                                          "./", "/", "\x1b[2J.yaml", "../" * 40 + "x.yaml"])
    elif where == "spec.sha256":
        obj["spec"]["sha256"] = odd
    elif where == "steps":
        obj["steps"] = rng.choice([{}, "steps", [], None, [None], steps[:1] * 2, [steps]])
    elif where == "step":
        steps[rng.randrange(len(steps))] = odd
    elif where in ("length", "loop_start", "message"):
        obj[where] = odd
        steps[-1][where] = odd
    else:
        obj = rng.choice([[], "trace", 0, None, [obj], {"trace": obj}])
    return _replay_input("replay-types", obj, seed.spec, f"{where} tampered in {seed.name}")


def replay_deep_json(rng: random.Random, corpus: Corpus) -> FuzzInput:
    seed = rng.choice(corpus.traces)
    obj = _trace_for_spec(seed)
    depth = rng.choice([100, 1000, 10_000, 100_000, 1_000_000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    deep = opener * depth + "0" + closer * depth
    text = json.dumps(obj)
    where = rng.random()
    if where < 0.4:
        key = next(iter(obj["steps"][0]["state"]), None)
        marker = '"__DEEP__"'
        if key is not None:
            obj["steps"][0]["state"][key] = "__DEEP__"
        else:
            obj["steps"][0]["state"] = "__DEEP__"
        text = json.dumps(obj).replace(marker, deep, 1)
    elif where < 0.7:
        text = text[:-1] + ', "extra": ' + deep + "}"
    else:
        text = deep
    return _replay_input("replay-deep-json", text, seed.spec,
                         f"JSON nested {depth} deep in {seed.name}")


def replay_old_spec(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """The spec changed since the trace was written (a range, a constant, a name, a line)."""
    seed = rng.choice(corpus.traces)
    text = mutate_text(rng, seed.spec.text, rounds=rng.randint(1, 2))
    extra = ["--spec", SPEC] if rng.random() < 0.3 else []
    if rng.random() < 0.2:
        names = list(seed.trace.get("constants") or {})
        if names:
            extra += ["--const", f"{rng.choice(names)}={rng.choice([0, 1, 5, 10**18])}"]
    return _replay_input("replay-old-spec", _trace_for_spec(seed), text,
                         f"{seed.spec.name} changed after {seed.name}", extra)


def replay_other_file(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """spec.path (or the trace itself) names some other file."""
    seed = rng.choice(corpus.traces)
    obj = _trace_for_spec(seed)
    files: dict[str, str | bytes] = {}
    fifos: list[str] = []
    sparse: dict[str, int] = {}
    target = rng.choice(["other", "broken", "trace", "zero", "null", "fifo", "folder", "missing",
                         "binary", "big", "empty", "self-fifo", "self-zero", "self-folder",
                         "self-binary", "self-big", "self-empty", "self-missing", "self-null"])
    trace_arg = TRACE
    if target == "other":
        files["other.yaml"] = rng.choice(corpus.valid_specs).text
        obj["spec"]["path"] = "other.yaml"
    elif target == "broken":
        files["other.yaml"] = rng.choice(corpus.specs).text
        obj["spec"]["path"] = "other.yaml"
    elif target == "trace":
        obj["spec"]["path"] = TRACE
    elif target in ("zero", "null"):
        obj["spec"]["path"] = f"/dev/{target}"
    elif target == "fifo":
        fifos.append("fifo.yaml")
        obj["spec"]["path"] = "fifo.yaml"
    elif target == "folder":
        obj["spec"]["path"] = rng.choice([".", "/", "sub"])
        files["sub/x.yaml"] = seed.spec.text
    elif target == "missing":
        obj["spec"]["path"] = "nowhere/spec.yaml"
    elif target == "binary":
        files["bin.yaml"] = bytes(rng.randrange(256) for _ in range(300))
        obj["spec"]["path"] = "bin.yaml"
    elif target == "big":
        sparse["big.yaml"] = 3 << 20
        obj["spec"]["path"] = "big.yaml"
    elif target == "empty":
        files["empty.yaml"] = b""
        obj["spec"]["path"] = "empty.yaml"
    elif target == "self-fifo":
        fifos.append("fifo.json")
        trace_arg = "fifo.json"
    elif target in ("self-zero", "self-null"):
        trace_arg = "/dev/zero" if target == "self-zero" else "/dev/null"
    elif target == "self-folder":
        trace_arg = rng.choice([".", "sub"])
        files["sub/x.json"] = b"{}"
    elif target == "self-binary":
        files["bin.json"] = bytes(rng.randrange(256) for _ in range(300))
        trace_arg = "bin.json"
    elif target == "self-big":
        sparse["big.json"] = 70 << 20
        trace_arg = "big.json"
    elif target == "self-empty":
        files["empty.json"] = b""
        trace_arg = "empty.json"
    else:
        trace_arg = "missing.json"
    files[TRACE] = json.dumps(obj)
    files[SPEC] = seed.spec.text
    extra = []
    if rng.random() < 0.2 and not target.startswith("self"):
        extra = ["--spec", obj["spec"]["path"]]
    return FuzzInput("replay-other-file", ["replay", trace_arg, *extra], _text(files), fifos,
                     sparse, note=f"{target} for {seed.name}")


# ---------------------------------------------------------------- crashes
def deep_expression(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """Expressions nested a few hundred (or thousand) deep; chains of tens of thousands."""
    slot = rng.choice(list(EXPR_SLOTS))
    kind = EXPR_SLOTS[slot]
    n = rng.choice([50, 200, 300, 500, 1000, 3000])
    chain = rng.choice([1000, 10_000, 30_000, 60_000])
    if kind == "bool":
        shapes = [lambda: "(" * n + "x < 3" + ")" * n, lambda: "not " * n + "true",
                  lambda: " or ".join(f"x == {i % 4}" for i in range(chain)),
                  lambda: " and ".join(["b == b"] * chain),
                  lambda: "true => " * n + "true", lambda: " < ".join(["x"] * chain),
                  lambda: "(x < 3 if " * n + "true" + " else false)" * n,
                  lambda: "all(" * n + "true" + "".join(f" for i{k} in 0..1)" for k in range(n)),
                  lambda: "{" * n + "1" + "}" * n + " != {}",
                  lambda: "x" + "'" * n + " >= 0"]
    elif kind == "int":
        shapes = [lambda: "(" * n + "x" + ")" * n, lambda: "-" * n + "x",
                  lambda: " + ".join(["1"] * chain), lambda: " * ".join(["x"] * chain),
                  lambda: "abs(" * n + "x" + ")" * n, lambda: "min(" * n + "x" + ", 1)" * n,
                  lambda: "1 + (" * n + "1" + ")" * n, lambda: "x if b else " * n + "0",
                  lambda: "len(" + "[" * n + "1" + "]" * n + ")",
                  lambda: "a[" * n + "0" + "]" * n, lambda: " - ".join(["x"] * chain),
                  lambda: "x // 1 % 4 " * n]
    elif kind == "step":
        shapes = [lambda: "read if x < 3 else " * n + "write",
                  lambda: "(" * n + "read" + ")" * n]
    else:
        shapes = [lambda: "0.." + " + ".join(["0"] * chain),
                  lambda: "(" * n + "0..N-1" + ")" * n, lambda: "{" + ", ".join(
                      str(i % 2) for i in range(chain)) + "}"]
    expr = rng.choice(shapes)()
    if slot == "EFFECT" and rng.random() < 0.4:
        depth = rng.choice([100, 300, 1000])
        lines = [" " * (4 * k) + "if x < 3:" for k in range(depth)] + [" " * (4 * depth) + "x = 1"]
        text = base_spec(EFFECT="\n".join(lines))
        note = f"if-blocks nested {depth} deep"
    else:
        text = place(slot, expr)
        note = f"{len(expr)}-character expression in {slot}"
    return FuzzInput("deep-expression", spec_command(rng), _text({SPEC: text}), note=note)


def deep_yaml(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """YAML nested 1,000 (or more) deep, alias bombs, tags, odd documents."""
    n = rng.choice([100, 1000, 5000, 20000])
    block = rng.choice([100, 500, 1000, 1400])   # block nesting costs n^2 characters
    kind = rng.choice(["flow-seq", "flow-map", "block-map", "block-seq", "alias-bomb", "tag",
                       "documents", "top-level", "anchors", "complex-key", "merge"])
    if kind == "flow-seq":
        text = base_spec(XINIT="[" * n + "0" + "]" * n)
    elif kind == "flow-map":
        text = base_spec(XINIT="{a: " * n + "0" + "}" * n)
    elif kind == "block-map":
        text = base_spec() + "description:\n" + "".join(
            " " * (k + 1) + "a:\n" for k in range(block)) + " " * (block + 1) + "b: 1\n"
    elif kind == "block-seq":
        text = base_spec().replace("  K: 3\n", "  K:\n" + "".join(
            "  " + " " * (2 * k) + "-\n" for k in range(block)) + "  " + " " * (2 * block)
            + "- 1\n")
    elif kind == "alias-bomb":
        lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
        lines += [f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 10) + "]" for k in range(1, 10)]
        place_at = rng.choice(["description", "top", "init"])
        if place_at == "top":
            text = base_spec() + "\n".join(lines) + "\n"
        elif place_at == "init":
            text = base_spec(DEFINES="".join(f"  {ln}\n" for ln in lines), XINIT="*a9")
        else:
            text = base_spec() + "description: " + lines[-1].split(": ", 1)[1] + "\n"
            text = "x-bomb:\n" + "".join(f"  {ln}\n" for ln in lines) + text
    elif kind == "tag":
        tag = rng.choice(["!!python/object/apply:builtins.print", "!!python/name:os.system",
                          "!!binary", "!!timestamp", "!!set", "!!omap", "!custom", "!!float",
                          "!<tag:yaml.org,2002:python/none>"])
        text = base_spec(N=f"{tag} 2")
    elif kind == "documents":
        text = rng.choice([base_spec() + "---\n" + base_spec(), "", "---\n", "...\n", "# c\n",
                           "%YAML 1.1\n---\n" + base_spec(), "%TAG ! tag:x,2000:\n---\n" + base_spec(),
                           base_spec() + "...\n" + "garbage: [\n"])
    elif kind == "top-level":
        text = rng.choice(["[1, 2]", "1", "null", "~", "'x'", "- dnsrace: 1\n- name: x\n",
                           "? dnsrace\n: 1\n", "dnsrace: 1"])
    elif kind == "anchors":
        text = base_spec(GUARD="x < 3", XINIT="&v 0").replace("init: false", "init: *v")
    elif kind == "complex-key":
        text = base_spec() + rng.choice(["? [a, b]\n: 1\n", "? {a: 1}\n: 2\n", "null: 1\n",
                                         "1: 2\n", "true: 1\n", "[x]: 1\n", ": 1\n"])
    else:
        text = base_spec().replace("  K: 3\n", "  <<: {K: 3}\n")
    return FuzzInput("deep-yaml", spec_command(rng), _text({SPEC: text}),
                     note=f"{kind} ({n})")


def big_int(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """Integer literals past Python's 4300-digit limit; counts and sizes of 10^18."""
    huge = rng.choice(["9" * 4301, "1" + "0" * 5000, "7" * 20000, "-" + "9" * 4400])
    big = rng.choice(["1000000000000000000", "10**18", str(2**63), str(2**64 + 1)])
    if big == "10**18":
        big = "1000000000000000000"
    kind = rng.choice(["const", "expr", "init", "range", "cli-const", "count", "array", "seq",
                       "set", "product", "hex", "underscore", "replay-const"])
    argv_extra: list[str] = []
    if kind == "const":
        text = base_spec(N=huge)
    elif kind == "expr":
        text = place(rng.choice(["GUARD", "INV", "DEFINE", "EFFECT"]),
                     f"x < {huge}" if rng.random() < 0.5 else f"x + {huge} > 0")
    elif kind == "init":
        text = base_spec(XINIT=huge)
    elif kind == "range":
        text = base_spec(XHI=rng.choice([huge, big]))
    elif kind == "cli-const":
        text = base_spec()
        argv_extra = ["--const", f"N={rng.choice([huge, big, '-' + big])}"]
    elif kind == "count":
        text = base_spec(COUNT=rng.choice([big, huge, "N * N * N"]), N=rng.choice(["2", big]))
    elif kind == "array":
        text = base_spec(ASIZE=rng.choice([big, huge, "N"]), N=rng.choice(["2", big]))
    elif kind == "seq":
        text = base_spec(QMAX=rng.choice([big, huge, "1000000000"]))
    elif kind == "set":
        text = base_spec(SETDOM=f"0..{rng.choice([big, '64', '1000000'])}")
    elif kind == "product":
        factors = rng.choice([300, 1000, 5000])
        text = base_spec(N=big, DEFINE=" * ".join(["N"] * factors),
                         INV="d0 > 0", XHI="3")
    elif kind == "hex":
        text = base_spec(N="0x" + "f" * rng.choice([100, 4000, 20000]))
    elif kind == "underscore":
        text = base_spec(N="1_" + "0" * 4400)
    else:
        seed = rng.choice(corpus.traces)
        obj = _trace_for_spec(seed)
        obj["constants"] = {k: HUGE_INT for k in (obj.get("constants") or {"N": 0})}
        return _replay_input("big-int", obj, seed.spec, "constants of 4400 digits")
    return FuzzInput("big-int", spec_command(rng, SPEC, tuple(argv_extra)), _text({SPEC: text}),
                     note=kind)


UNENCODABLE = ["é", "日本", "\U0001F4A5", "\u202e", "\x1b[2J", "\\udcff", "\\ud800", "\u0000",
               "\\U0010ffff", "\x85", "\u2028"]


def unencodable(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """Messages and names the terminal cannot encode (an ASCII terminal, lone surrogates)."""
    s = rng.choice(UNENCODABLE)
    kind = rng.choice(["assert", "assert-yaml-escape", "description", "name", "step", "comment",
                       "symbol", "trace-key"])
    if kind == "assert":
        text = base_spec(EFFECT=f'assert x > 5, "boom {s}"')
    elif kind == "assert-yaml-escape":
        text = base_spec().replace("effect: t = x", f'effect: "assert x > 5, \\"{s}\\""')
    elif kind == "description":
        text = base_spec() + f'description: "{s} {s}"\n'
    elif kind == "name":
        text = base_spec().replace("name: fuzz", f'name: "fu{s}zz"')
    elif kind == "step":
        text = base_spec().replace("name: read", f"name: re{s.strip(chr(92))}ad")
    elif kind == "comment":
        text = base_spec().replace("  K: 3", f"  K: 3   # {s}")
    elif kind == "symbol":
        text = base_spec().replace("variables:\n", f"types:\n  Mode: [a{s}, b]\nvariables:\n"
                                   ).replace("<<VARIABLES>>", "")
        text = text.replace('  b: {type: "bool", init: false}',
                            f'  b: {{type: "bool", init: false}}\n  m: {{type: Mode, init: "a{s}"}}')
    else:
        seed = rng.choice(corpus.traces)
        obj = _trace_for_spec(seed)
        state = obj["steps"][-1].get("state") or obj["steps"][0]["state"]
        state[f"\x1b]0;pwned\x07{s}"] = f"\x1b[2J{s}"
        return _replay_input("unencodable", obj, seed.spec, f"trace key {s!r}",
                             charset=rng.choice(["ascii", "utf-8"]))
    return FuzzInput("unencodable", spec_command(rng), _text({SPEC: text}),
                     charset=rng.choice(["ascii", "ascii", "utf-8", "latin-1"]),
                     note=f"{kind} {s!r}")


def trace_dir(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """`--trace-dir` that cannot hold traces: /dev/null, a file, a path under a file."""
    seed = rng.choice([s for s in corpus.valid_specs if "lease" in s.name or "either" in s.name]
                      or corpus.valid_specs)
    where = rng.choice(["/dev/null", "/dev/null/x", SPEC, f"{SPEC}/traces", "/proc/self/x",
                        "", "a/b/c/d", "fifo", "deep", "\x1b[2J"])
    files = {SPEC: seed.text}
    fifos = ["fifo"] if where == "fifo" else []
    if where == "deep":
        where = "/".join(["d"] * 2000)
    argv = ["check", SPEC, *seed.args, "--trace-dir", where, "--max-states", "2000",
            "--time-limit", "1", "--no-timing"]
    if rng.random() < 0.3:
        argv.append("--format=json")
    return FuzzInput("trace-dir", argv, _text(files), fifos, note=f"--trace-dir {where[:40]!r}")


def stdout_broken(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """Standard output on a full disk, or a closed pipe."""
    how = rng.choice(["full", "pipe"])
    if rng.random() < 0.3 and corpus.traces:
        seed = rng.choice(corpus.traces)
        inp = _replay_input("stdout-broken", _trace_for_spec(seed), seed.spec, how, stdout=how)
        return inp
    seed = rng.choice(corpus.specs)
    return FuzzInput("stdout-broken", spec_command(rng, SPEC, seed.args), _text({SPEC: seed.text}),
                     stdout=how, note=f"{how} for {seed.name}")


# ---------------------------------------------------------------- hangs and blow-ups
def huge_domain(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """Ranges that must never be materialised in full."""
    big = rng.choice(["1000000000000000000", "4294967296", "100000000", "1000000"])
    kind = rng.choice(["init-any", "count", "params", "for", "quantifier", "comprehension",
                       "set-any", "seq-any", "array-any", "min-max", "len-range", "const-override",
                       "membership", "next-range", "int-any"])
    extra: list[str] = []
    if kind == "init-any":
        text = base_spec(XHI=big, XINIT="any")
    elif kind == "count":
        text = base_spec(COUNT=big)
    elif kind == "params":
        text = base_spec(PARAMDOM=f"0..{big}")
    elif kind == "for":
        text = base_spec(EFFECT=f"for i in 0..{big}:\n    x = 1")
    elif kind == "quantifier":
        text = base_spec(INV=f"all(i >= 0 for i in 0..{big})")
    elif kind == "comprehension":
        text = base_spec(DEFINE=f"len({{i for i in 0..{big} if i > x}})", INV="d0 >= 0")
    elif kind == "set-any":
        text = base_spec(SETDOM=f"0..{rng.choice(['20', '40', '64', big])}", SINIT="any")
    elif kind == "seq-any":
        text = base_spec(QMAX=rng.choice(["1000000000", "30", big]), QINIT="any")
    elif kind == "array-any":
        text = base_spec(ASIZE=rng.choice(["64", "1000", big]), N="2").replace(
            "a: {type: \"[", "a: {type: \"[").replace("0..3\", init: 0}", "0..3\", init: any}", 1)
    elif kind == "min-max":
        text = base_spec(DEFINE=f"max(0..{big}) + min(0..{big})")
    elif kind == "len-range":
        text = base_spec(INV=f"len(0..{big}) > 0")
    elif kind == "const-override":
        seed = rng.choice(corpus.valid_specs)
        names = [ln.split(":")[0].strip() for ln in seed.text.split("constants:")[-1].split("\n")
                 [1:6] if ln.startswith("  ") and ":" in ln]
        text = seed.text
        if names:
            extra = ["--const", f"{rng.choice(names)}={big}"]
    elif kind == "membership":
        text = base_spec(GUARD=f"x in 0..{big}")
    elif kind == "next-range":
        text = base_spec(EFFECT=f"x = {big} % 4")
    else:
        text = base_spec(VARIABLES='  z: {type: "int", init: any}\n')
    return FuzzInput("huge-domain", spec_command(rng, SPEC, tuple(extra)), _text({SPEC: text}),
                     note=f"{kind} {big}")


def compile_heavy(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """Specs whose compilation, not search, is the cost."""
    kind = rng.choice(["endpoints", "exp-defines", "nested-loops", "actions", "set-literal",
                       "variables", "properties", "alternatives", "steps", "long-effect"])
    n = rng.choice([100, 1000, 3000, 30_000])
    extra: list[str] = []
    if kind == "endpoints":
        dyn = next(s for s in corpus.specs if s.name == "specs/dynamodb_dns_race.yaml")
        text = dyn.text
        extra = ["--const", f"ENDPOINTS={rng.choice([100, 1000, 5000, 100_000])}"]
    elif kind == "exp-defines":
        depth = rng.choice([10, 20, 40, 80])
        defines = "".join(f'  d{k}: "d{k - 1} + d{k - 1}"\n' for k in range(1, depth + 1))
        text = base_spec(DEFINES=defines, INV=f"d{depth} >= 0")
    elif kind == "nested-loops":
        depth = rng.choice([3, 5, 8, 12])
        size = rng.choice([9, 99])
        lines = [" " * (4 * k) + f"for i{k} in 0..{size}:" for k in range(depth)]
        text = base_spec(EFFECT="\n".join(lines + [" " * (4 * depth) + "x = 1"]))
    elif kind == "actions":
        acts = "".join(f"  - name: act{k}\n    guard: \"x == {k % 4}\"\n    effect: \"b = not b\"\n"
                       for k in range(n))
        text = base_spec(ACTIONS=acts)
    elif kind == "set-literal":
        size = rng.choice([1000, 100_000, 250_000])
        text = base_spec(SETDOM="0..3", DEFINE="len({" + ", ".join(
            str(k % 4) for k in range(size)) + "})")
    elif kind == "variables":
        text = base_spec(VARIABLES="".join(f'  v{k}: {{type: "0..1", init: 0}}\n'
                                           for k in range(n)))
    elif kind == "properties":
        text = base_spec() + "".join(f'  r{k}: "x == {k % 5}"\n' for k in range(n))
    elif kind == "alternatives":
        alts = "".join(f'          - {{name: a{k}, guard: "x == {k % 4}"}}\n' for k in range(n))
        text = base_spec().replace("      - name: read\n        guard: \"x < 3\"\n"
                                   "        effect: t = x\n",
                                   "      - name: read\n        either:\n" + alts)
    elif kind == "steps":
        steps = "".join(f"      - name: s{k}\n        effect: t = {k % 4}\n" for k in range(n))
        text = base_spec().replace("    steps:\n", "    steps:\n" + steps)
    else:
        text = base_spec(EFFECT="\n".join(f"x = {k % 4}" for k in range(n)))
    return FuzzInput("compile-heavy", spec_command(rng, SPEC, tuple(extra)), _text({SPEC: text}),
                     note=f"{kind} ({n})")


def special_path(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """A FIFO, a device, a folder, a missing or oversized file as the spec."""
    kind = rng.choice(["fifo", "zero", "null", "folder-empty", "folder-fifo", "missing", "big",
                       "binary", "empty", "latin1", "proc", "stdin", "many"])
    files: dict[str, str | bytes] = {}
    fifos: list[str] = []
    sparse: dict[str, int] = {}
    path = SPEC
    if kind == "fifo":
        fifos.append(SPEC)
    elif kind in ("zero", "null"):
        path = f"/dev/{kind}"
    elif kind == "folder-empty":
        files["sub/readme.txt"] = "x"
        path = "sub"
    elif kind == "folder-fifo":
        fifos.append("sub/a.yaml")
        files["sub/b.yaml"] = base_spec()
        path = "sub"
    elif kind == "missing":
        path = "nope.yaml"
    elif kind == "big":
        sparse[SPEC] = rng.choice([(1 << 20) + 1, 1 << 30])
    elif kind == "binary":
        files[SPEC] = bytes(rng.randrange(256) for _ in range(rng.choice([10, 1000])))
    elif kind == "empty":
        files[SPEC] = b""
    elif kind == "latin1":
        files[SPEC] = base_spec().replace("name: fuzz", "name: fuzz\ndescription: caf\xe9"
                                          ).encode("latin-1")
    elif kind == "proc":
        path = "/proc/self/status"
    elif kind == "stdin":
        path = "-"
    else:
        files[SPEC] = base_spec()
        path = SPEC
        argv = ["check", *([SPEC] * rng.choice([2, 10])), "--max-states", "100", "--no-timing"]
        return FuzzInput("special-path", argv, _text(files), note="the same spec many times")
    if kind == "big" and rng.random() < 0.5:
        files[SPEC] = b""  # placeholder; the sparse file replaces it
    return FuzzInput("special-path", spec_command(rng, path), _text(files), fifos, sparse,
                     note=kind)


# ---------------------------------------------------------------- smaller things
def small_oddities(rng: random.Random, corpus: Corpus) -> FuzzInput:
    kind = rng.choice(["control", "version", "const-digits", "const-repeat", "const-odd",
                       "time-limit", "limits", "options", "trace-escape", "crlf", "bom"])
    argv_extra: list[str] = []
    text = base_spec()
    if kind == "control":
        c = rng.choice(CONTROL)
        where = rng.choice(["name: fuzz", "x < 3", "  K: 3", "inv:", "read", "t = x"])
        text = text.replace(where, where + c, 1) if rng.random() < 0.5 else \
            text.replace(where, c + where, 1)
    elif kind == "version":
        text = base_spec(VERSION=rng.choice(["true", "1.0", "'1'", "01", "0x1", "1e0", "null", "[1]",
                                             "{a: 1}", "2", "-1", "1.5", "", "0o1", "+1", "1_0",
                                             ".inf", ".nan", "99999999999999999999"]))
    elif kind == "const-digits":
        argv_extra = ["--const", "N=" + rng.choice(["٣", "३", "３", "²", "1\u00a0", "Ⅲ", "𝟑"])]
    elif kind == "const-repeat":
        argv_extra = ["--const", "N=1", "--const", "N=2"]
    elif kind == "const-odd":
        argv_extra = ["--const", rng.choice(["N=", "=3", "N", "N=1e3", "N=0x10", "N= 3", "N=-0",
                                             "N=+2", "N=1_0", " N =2", "N==2", "N=2=3",
                                             "n=2", "K=3", "x=1", "d0=1", "P=1", "\x1b=1",
                                             "N=\x00"])]
    elif kind == "time-limit":
        argv_extra = ["--time-limit", rng.choice(["nan", "inf", "-inf", "1e400", "-0", "0",
                                                  "1e-300", "NaN", "0x10", ""])]
    elif kind == "limits":
        argv_extra = [rng.choice(["--max-states", "--max-depth"]),
                      rng.choice(["0", "-1", "1", "10" + "0" * 30, "1e3", "nan", "9" * 5000])]
    elif kind == "options":
        argv_extra = rng.choice([["--engine", "nosuch"], ["--format", "xml"], ["--nosuch"],
                                 ["--device", "tpu"], ["--", "-q"], ["-h"], ["--version"],
                                 ["--trace-dir"], ["--const"]])
    elif kind == "trace-escape":
        seed = rng.choice(corpus.traces)
        obj = _trace_for_spec(seed)
        for st in obj["steps"]:
            if isinstance(st.get("state"), dict):
                st["state"]["\x1b[2J\x1b]0;title\x07"] = 1
        if rng.random() < 0.5:
            obj["steps"][-1]["action"] = "\x1b[31mred\x1b[0m"
        return _replay_input("small-oddities", obj, seed.spec, "terminal escapes in a trace")
    elif kind == "crlf":
        text = text.replace("\n", rng.choice(["\r\n", "\r"]))
    else:
        text = "\ufeff" + text
    if kind in ("const-digits", "const-repeat", "const-odd", "time-limit", "limits", "options"):
        argv = ["check", SPEC, *argv_extra] if rng.random() < 0.8 else \
            [rng.choice(["lint", "compile"]), SPEC, *[a for a in argv_extra if a.startswith(
                "--const") or "=" in a]]
        if argv[0] == "check" and "--max-states" not in argv_extra:
            argv += ["--max-states", "500"]
        if argv[0] == "check" and "--time-limit" not in argv_extra:
            argv += ["--time-limit", "1"]
    else:
        argv = spec_command(rng)
    return FuzzInput("small-oddities", argv, _text({SPEC: text}), note=kind)


# ---------------------------------------------------------------- signals (subprocesses)
def interrupt(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """SIGINT or SIGTERM at some moment of a run (a subprocess: the long run only)."""
    seed = next(s for s in corpus.specs if s.name == "specs/dynamodb_dns_race.yaml")
    how = rng.choice(["check", "check-array", "replay", "lint", "pdr"])
    files = {SPEC: seed.text}
    if how == "replay":
        t = rng.choice(corpus.traces)
        files = {SPEC: t.spec.text, TRACE: json.dumps(_trace_for_spec(t))}
        argv = ["replay", TRACE]
    elif how == "lint":
        argv = ["lint", SPEC]
    else:
        engine = {"check": "bfs", "check-array": "array", "pdr": "pdr"}[how]
        argv = ["check", SPEC, "--engine", engine, "--const", "PLANS=6", "--time-limit", "5"]
    return FuzzInput("interrupt", argv, _text(files), signal=rng.choice(["SIGINT", "SIGTERM"]),
                     signal_delay=rng.uniform(0.05, 3.0), note=how)


# ---------------------------------------------------------------- reports, cache, lint
REPORT_FORMATS = ["text", "json", "junit", "sarif", "github", "markdown", "html"]
PARSED = ("json", "sarif", "junit", "html")   # formats whose stdout the judge parses
EXTENSION = {"text": "txt", "json": "json", "junit": "xml", "sarif": "sarif", "github": "txt",
             "markdown": "md", "html": "html"}


def _report_spec(rng: random.Random, corpus: Corpus) -> tuple[dict[str, str | bytes], str, str]:
    """(files, the spec's path, what it is): a valid, mutated, broken or unencodable spec, one
    that fails at run time, or one whose counterexample is a lasso."""
    kind = rng.choice(["valid", "valid", "mutated", "broken", "unencodable", "runtime",
                       "lasso", "two", "folder"])
    if kind == "valid":
        seed = rng.choice(corpus.valid_specs)
        return {SPEC: seed.text}, SPEC, seed.name
    if kind == "mutated":
        seed = rng.choice(corpus.specs)
        return {SPEC: mutate_text(rng, seed.text)}, SPEC, f"mutated {seed.name}"
    if kind == "broken":
        seed = rng.choice([s for s in corpus.specs if s.name.startswith("tests/broken/")]
                          or corpus.specs)
        return {SPEC: seed.text}, SPEC, seed.name
    if kind == "unencodable":
        s = rng.choice(UNENCODABLE)
        text = rng.choice([base_spec(EFFECT=f'assert x > 5, "boom {s}"'),
                           base_spec().replace("name: fuzz", f'name: "fu{s}zz"'),
                           base_spec().replace("name: read", f"name: re{s.strip(chr(92))}ad"),
                           base_spec(INV='x <= 2'
                                     ).replace("inv:", f'"inv{s.strip(chr(92))}":')])
        return {SPEC: text}, SPEC, f"unencodable {s!r}"
    if kind == "runtime":
        text = rng.choice([base_spec(EFFECT="x = 3 // (x - x)"), base_spec(EFFECT="x = a[5]"),
                           base_spec(EFFECT="x = x + 7"), base_spec(EFFECT="x = head(q)"),
                           base_spec(EFFECT='assert x < 2, "too big"')])
        return {SPEC: text}, SPEC, "a run-time error"
    if kind == "lasso":
        lassos = [t for t in corpus.traces if t.trace.get("loop_start") is not None]
        seed = rng.choice(lassos).spec if lassos else rng.choice(corpus.valid_specs)
        return {SPEC: seed.text}, SPEC, f"lasso {seed.name}"
    if kind == "two":
        a, b = rng.choice(corpus.specs), rng.choice(corpus.valid_specs)
        return {SPEC: a.text, "b.yml": b.text}, f"{SPEC}\0b.yml", f"{a.name} and {b.name}"
    a, b = rng.choice(corpus.specs), rng.choice(corpus.valid_specs)
    return ({"specs/a.yaml": a.text, "specs/deep/b.yml": b.text, "specs/readme.txt": "x"},
            "specs", f"folder of {a.name} and {b.name}")


def _report_output(rng: random.Random, k: int, fmt: str, files: dict, fifos: list[str]
                   ) -> tuple[str, str]:
    """(PATH of --output FORMAT=PATH, what kind of path it is)."""
    kind = rng.choice(["fine"] * 6 + ["folder-made", "stdout", "under-file", "folder",
                                      "dev-full", "dev-null", "long-name", "long-path",
                                      "odd-name", "fifo"])
    ext = EXTENSION[fmt]
    if kind == "fine":
        return f"report{k}.{ext}", kind
    if kind == "folder-made":
        return f"out/{k}/nested/report.{ext}", kind
    if kind == "stdout":
        return "-", kind
    if kind == "under-file":
        files["plain.txt"] = "x"
        return f"plain.txt/report.{ext}", kind
    if kind == "folder":
        files["existing/keep.txt"] = "x"
        return "existing", kind
    if kind == "dev-full":
        return "/dev/full", kind
    if kind == "dev-null":
        return "/dev/null", kind
    if kind == "long-name":
        return "r" * rng.choice([255, 256, 1000]) + f".{ext}", kind
    if kind == "long-path":
        return "/".join(["d" * 200] * rng.choice([5, 30])) + f"/r.{ext}", kind
    if kind == "odd-name":
        return rng.choice(["\x1b[2J.json", "é日本.xml", " lead space", "a\nb.json", "-x.json",
                           "r.json\u202e"]), kind
    fifos.append("pipe.out")
    return "pipe.out", kind


def report_formats(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """check --format F with 1-3 --output FORMAT=PATH: fine paths, and ones under a file, a
    folder, /dev/full, a FIFO, names too long; every report written must parse."""
    files, paths, what = _report_spec(rng, corpus)
    fmt = rng.choice(REPORT_FORMATS)
    argv = ["check", *paths.split("\0"), "--format", fmt, "--max-states",
            str(rng.choice([50, 300, 2000])), "--time-limit", "2", "--no-timing"]
    for opt in ("-q", "--full", "--witnesses", "--stop-on-first", "--coverage"):
        if rng.random() < 0.15:
            argv.append(opt)
    fifos: list[str] = []
    reports: dict[str, str] = {}
    kinds = []
    to_stdout = False
    also_ok: tuple[int, ...] = ()
    for k in range(rng.randint(1, 3)):
        out_fmt = rng.choice(REPORT_FORMATS)
        if rng.random() < 0.05:
            argv += ["--output", rng.choice(["xml=r.xml", "json", "=r.json", "JSON=r.json",
                                             "json=", "sarif:r.sarif", "json==r"])]
            kinds.append("bad")
            continue
        path, kind = _report_output(rng, k, out_fmt, files, fifos)
        argv += ["--output", f"{out_fmt}={path}"]
        kinds.append(kind)
        to_stdout |= path == "-"
        if kind == "dev-full":
            also_ok = (74,)
        elif kind in ("fine", "folder-made", "odd-name"):
            reports[path] = out_fmt
        elif kind == "long-name":
            reports.pop(path, None)
    charset = rng.choice(["utf-8"] * 5 + ["ascii"])
    stdout_format = fmt if fmt in PARSED and not to_stdout else None
    return FuzzInput("report-formats", argv, _text(files), fifos, charset=charset,
                     reports=reports, stdout_format=stdout_format, also_ok=also_ok,
                     note=f"{what}; --format {fmt}; outputs {','.join(kinds)}")


def _cache_entry_name(text: str, engine: str, max_states: int, time_limit: float | None
                      ) -> str:
    """The name of the entry `check --cache` looks for (dnsrace.cache.key)."""
    from dnsrace.cache import key
    from dnsrace.engines.bfs import Limits

    limits = Limits(max_states, None, time_limit, False)
    return key(text.encode("utf-8", "surrogatepass"), {}, engine, limits) + ".json"


def _hostile_entry(rng: random.Random, name: str, files: dict, fifos: list[str],
                   sparse: dict[str, int]) -> str:
    """Something that is not what dnsrace writes, at cache entry `name`; what it is."""
    from dnsrace import __version__

    kind = rng.choice(["bytes", "empty", "wrong-types", "other-key", "deep", "nan", "fifo",
                       "folder", "huge", "big-under-limit", "not-utf8", "truncated"])
    stem = name[:-len(".json")]
    entry = {"entry_format": 1, "dnsrace": __version__, "key": stem, "spec_path": SPEC,
             "result": {"version": 1, "spec": {"name": "x", "path": SPEC}},
             "report": {}}
    if kind == "bytes":
        files[name] = bytes(rng.randrange(256) for _ in range(rng.choice([1, 100, 5000])))
    elif kind == "empty":
        files[name] = b""
    elif kind == "wrong-types":
        field_ = rng.choice(list(entry))
        entry[field_] = copy.deepcopy(rng.choice(WRONG_TYPES + [HUGE_INT]))
        if rng.random() < 0.5:
            entry = mutate_json(rng, entry)
        files[name] = json.dumps(entry).replace(f'"{HUGE_INT}"', "9" * 4400)
    elif kind == "other-key":
        entry["key"] = "0" * 64
        files[name] = json.dumps(entry)
    elif kind == "deep":
        files[name] = "[" * 100_000 + "]" * 100_000
    elif kind == "nan":
        files[name] = json.dumps({**entry, "entry_format": float("nan")})
    elif kind == "fifo":
        fifos.append(name)
    elif kind == "folder":
        files[f"{name}/inner.json"] = json.dumps(entry)
    elif kind == "huge":
        sparse[name] = (256 << 20) + 1
    elif kind == "big-under-limit":
        sparse[name] = 64 << 20
    elif kind == "not-utf8":
        files[name] = b'{"entry_format": 1, "dnsrace": "\xff\xfe"}'
    else:
        files[name] = json.dumps(entry)[:rng.randrange(1, 60)]
    return kind


def _corrupt_cache(seed: float, folder_name: str) -> Callable[[Path], None]:
    """Between two runs: mutate, truncate or replace every entry of the cache folder."""
    def corrupt(folder: Path) -> None:
        rng = random.Random(seed)
        cache = folder / folder_name
        for p in sorted(cache.glob("*.json")) if cache.is_dir() else []:
            if not p.is_file():
                continue
            how = rng.choice(["mutate", "mutate", "truncate", "folder", "bytes", "swap-key"])
            data = p.read_bytes()
            if how == "mutate":
                try:
                    obj = json.loads(data)
                except ValueError:
                    continue
                p.write_text(json.dumps(mutate_json(rng, obj)), encoding="utf-8")
            elif how == "truncate":
                p.write_bytes(data[:rng.randrange(len(data) + 1)])
            elif how == "folder":
                p.unlink()
                p.mkdir()
            elif how == "bytes":
                p.write_bytes(bytes(rng.randrange(256) for _ in range(64)))
            else:
                obj = json.loads(data)
                obj["key"] = obj["key"][::-1]
                p.write_text(json.dumps(obj), encoding="utf-8")
    return corrupt


def cache(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """check --cache DIR, twice, with DIR holding hostile entries (under the very name the
    check looks for), or corrupted by the fuzzer between the runs; or DIR unusable."""
    small = [s for s in corpus.valid_specs if not s.args and len(s.text) < 6000]
    seed = rng.choice(small or corpus.valid_specs)
    engine = rng.choice(["auto", "auto", "bfs", "array"])
    max_states = rng.choice([300, 2000])
    time_limit = rng.choice([None, 5.0])
    files: dict[str, str | bytes] = {SPEC: seed.text}
    fifos: list[str] = []
    sparse: dict[str, int] = {}
    where = rng.choice(["cache"] * 8 + ["file", "under-file", "/dev/null", "fifo", "deep"])
    folder = {"file": "plain.txt", "under-file": "plain.txt/cache", "fifo": "pipe",
              "deep": "/".join(["c"] * 1500)}.get(where, where)
    if where in ("file", "under-file"):
        files["plain.txt"] = "x"
    if where == "fifo":
        fifos.append("pipe")
    argv = ["check", SPEC, "--cache", folder, "--max-states", str(max_states), "--no-timing",
            "-q"]
    if engine != "auto":
        argv += ["--engine", engine]
    if time_limit is not None:
        argv += ["--time-limit", "5"]
    if rng.random() < 0.2:
        argv += ["--format", rng.choice(["json", "sarif", "junit"])]
    what = where
    between = None
    if where == "cache":
        name = _cache_entry_name(seed.text, engine, max_states, time_limit)
        how = rng.choice(["hostile", "hostile", "corrupt", "junk"])
        if how == "hostile":
            entry_files: dict = {}
            what = _hostile_entry(rng, f"cache/{name}", entry_files, fifos, sparse)
            files.update(entry_files)
        elif how == "junk":
            files["cache/.dnsrace-x.tmp"] = "{"
            files["cache/" + "0" * 64 + ".json"] = "[]"
            files["cache/readme"] = "not an entry"
            what = "junk beside the entries"
        else:
            between = _corrupt_cache(rng.random(), "cache")
            what = "entries corrupted between runs"
        if rng.random() < 0.3:
            files[f"cache/{name}.extra/x"] = "x"
    return FuzzInput("cache", argv, _text(files), fifos, sparse, runs=2, between=between,
                     same_status=between is None, note=f"{seed.name}; {what}")


def _output_for_spec(seed) -> dict:
    obj = json.loads(json.dumps(seed.output))
    if isinstance(obj.get("spec"), dict):
        obj["spec"]["path"] = SPEC
    return obj


def replay_check_output(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """replay of `check --format json` output: one result, a list, a trace under "trace",
    mutated, with --property names missing, repeated or odd."""
    if not corpus.outputs:
        return mutate_trace(rng, corpus)
    seed = rng.choice(corpus.outputs)
    obj = _output_for_spec(seed)
    props = [p for p in obj.get("properties", []) if isinstance(p, dict)]
    with_trace = [p for p in props if p.get("trace")]
    shape = rng.choice(["as-is", "list", "list-two", "empty-list", "nested-list", "trace",
                        "trace-of-result", "mutated", "mutated", "dup-property", "no-traces",
                        "other-spec"])
    doc: object = obj
    if shape == "list":
        doc = [obj]
    elif shape == "list-two":
        other = _output_for_spec(rng.choice(corpus.outputs))
        doc = rng.choice([[obj, other], [obj, obj], [obj, None], [obj, "x"]])
    elif shape == "empty-list":
        doc = rng.choice([[], {}, [[]], {"trace": None}])
    elif shape == "nested-list":
        doc = [[obj]]
    elif shape == "trace" and with_trace:
        trace = copy.deepcopy(rng.choice(with_trace)["trace"])
        doc = {"trace": trace, "spec": obj.get("spec"), "constants": obj.get("constants")}
        if rng.random() < 0.3:
            doc = {"trace": {"trace": trace}}
    elif shape == "trace-of-result":
        doc = {"trace": obj}
    elif shape == "mutated":
        doc = mutate_json(rng, rng.choice([obj, [obj]]))
    elif shape == "dup-property" and props:
        p = copy.deepcopy(rng.choice(props))
        if rng.random() < 0.5 and with_trace:
            p["trace"] = copy.deepcopy(rng.choice(with_trace)["trace"])
        obj["properties"].append(p)
    elif shape == "no-traces":
        for p in props:
            p.pop("trace", None)
    elif shape == "other-spec":
        obj["spec"]["path"] = rng.choice(["nowhere.yaml", "", "/dev/zero", ".", TRACE])
    names = [p.get("name") for p in props if isinstance(p.get("name"), str)]
    extra: list[str] = []
    r = rng.random()
    if r < 0.35 and names:
        extra = ["--property", rng.choice(names)]
    elif r < 0.5:
        extra = ["--property", rng.choice(["nosuch", "", "\x1b[2J", "0", "*", "-", "é" * 300,
                                           "a" * 5000, "single_holder "])]
    elif r < 0.6 and names:
        extra = ["--property", rng.choice(names), "--property", rng.choice(names + ["nosuch"])]
    if rng.random() < 0.15:
        extra.append("--schedule")
    if rng.random() < 0.15:
        extra += ["--spec", SPEC]
    name = (props[0].get("name") if props else "?")
    return _replay_input("replay-check-output", doc, seed.spec,
                         f"{shape} of {seed.spec.name} ({len(with_trace)} traces); "
                         f"{' '.join(extra)[:40]!r} {name!s:.20}", extra)


def lint_many(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """lint over several specs and folders, broken ones among them, mostly --format json."""
    files: dict[str, str | bytes] = {}
    fifos: list[str] = []
    args: list[str] = []
    for k in range(rng.randint(2, 6)):
        kind = rng.choice(["spec", "spec", "mutated", "broken", "folder", "fifo-in-folder",
                           "missing", "empty-folder", "not-yaml", "repeat", "binary"])
        if kind == "spec":
            files[f"s{k}.yaml"] = rng.choice(corpus.valid_specs).text
            args.append(f"s{k}.yaml")
        elif kind == "mutated":
            files[f"m{k}.yml"] = mutate_text(rng, rng.choice(corpus.specs).text)
            args.append(f"m{k}.yml")
        elif kind == "broken":
            files[f"b{k}.yaml"] = rng.choice(corpus.specs).text
            args.append(f"b{k}.yaml")
        elif kind == "folder":
            files[f"d{k}/a.yaml"] = rng.choice(corpus.specs).text
            files[f"d{k}/deep/er/b.yml"] = mutate_text(rng, rng.choice(corpus.specs).text)
            files[f"d{k}/notes.txt"] = "not a spec"
            files[f"d{k}/.hidden.yaml"] = base_spec()
            args.append(f"d{k}")
        elif kind == "fifo-in-folder":
            files[f"f{k}/a.yaml"] = base_spec()
            fifos.append(f"f{k}/pipe.yaml")
            args.append(f"f{k}")
        elif kind == "missing":
            args.append(rng.choice(["nowhere.yaml", "nodir/", "/dev/null", "/dev/zero"]))
        elif kind == "empty-folder":
            files[f"e{k}/readme.md"] = "x"
            args.append(f"e{k}")
        elif kind == "not-yaml":
            files[f"n{k}.txt"] = base_spec()
            args.append(f"n{k}.txt")
        elif kind == "repeat" and args:
            args.append(rng.choice(args))
        else:
            files[f"x{k}.yaml"] = bytes(rng.randrange(256) for _ in range(200))
            args.append(f"x{k}.yaml")
    fmt = rng.choice(["json"] * 4 + ["text"])
    argv = ["lint", *args, "--format", fmt]
    if rng.random() < 0.15:
        argv += ["--const", rng.choice(["N=3", "N=x", "NOSUCH=1"])]
    return FuzzInput("lint-many", argv, _text(files), fifos,
                     stdout_format="json" if fmt == "json" else None,
                     note=f"{len(args)} paths, --format {fmt}")


# ---------------------------------------------------------------- stored proofs
HOSTILE_SMT = [
    "(assert false)", "(assert true)", "",
    "(declare-fun |nosuch| () Int)\n(assert (> |nosuch| 0))",
    "(declare-fun |Enactor[0].pc| () Bool)\n(assert |Enactor[0].pc|)",
    "(assert (forall ((i Int)) (exists ((j Int)) (> j i))))",
    "(define-fun-rec f ((x Int)) Int (f x))\n(assert (= (f 0) 0))",
    "(declare-fun g (Int) Int)\n(assert (forall ((x Int)) (= (g x) (+ (g x) 0))))",
    "(assert " + "(not " * 3000 + "true" + ")" * 3000 + ")",
    "(check-sat)\n(exit)", "(push 1)\n(assert true)", "(set-option :timeout 1)",
    "(assert (= 1 (div 1 0)))", "((((", "(assert |unclosed", "\x00\xff",
    "(declare-const |holder| Int)\n(assert (= |holder| |holder|))",
]


def _forge_proofs(rng: random.Random, doc: dict) -> tuple[dict, str]:
    """A stored-proofs document, changed as a hostile or careless pull request might."""
    doc = copy.deepcopy(doc)
    props = doc.get("properties", {})
    names = list(props)
    how = rng.choice(["as-is", "as-is", "mutate-json", "mutate-smt", "mutate-smt", "swap",
                      "hostile-smt", "hostile-smt", "renamed", "other-sha", "format",
                      "text-only", "extra"])
    if how == "mutate-json":
        doc = mutate_json(rng, doc)
    elif how == "mutate-smt" and names:
        n = rng.choice(names)
        props[n]["invariant"] = mutate_text(rng, props[n]["invariant"])
    elif how == "swap" and len(names) > 1:
        a, b = rng.sample(names, 2)
        props[a]["invariant"], props[b]["invariant"] = props[b]["invariant"], \
            props[a]["invariant"]
    elif how == "hostile-smt" and names:
        props[rng.choice(names)]["invariant"] = rng.choice(HOSTILE_SMT)
    elif how == "renamed" and names:
        # every stored invariant under one (maybe violated) property's name
        target = rng.choice(names)
        props[target]["invariant"] = props[rng.choice(names)]["invariant"]
    elif how == "other-sha":
        doc["spec"]["sha256"] = rng.choice(["0" * 64, "", None, 7])
    elif how == "format":
        doc["dnsrace_proofs"] = rng.choice([2, 0, "1", None, True])
    elif how == "text-only" and names:
        props[rng.choice(names)]["text"] = rng.choice(["true", "", None, 5, "é" * 5000])
    elif how == "extra":
        props[rng.choice(["never_mentioned", "assertion", "deadlock", ""])] = {
            "invariant": rng.choice(HOSTILE_SMT), "text": "x"}
    return doc, how


def stored_proofs(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """check --engine pdr --proof-dir with the committed proofs, tampered with, or handed
    to the race their design fixes (which must never come out proved), or a proof file
    that is no proof (a FIFO, a folder, a sparse giant, bytes, deep JSON)."""
    if not corpus.proofs:
        return mutate_spec(rng, corpus)
    seed = rng.choice(corpus.proofs)
    files: dict[str, str | bytes] = {SPEC: seed.spec.text}
    fifos: list[str] = []
    sparse: dict[str, int] = {}
    name = f"proofs/{seed.file}"
    kind = rng.choice(["doc"] * 10 + ["fifo", "folder", "huge", "bytes", "deep", "empty",
                                      "not-utf8"])
    what = kind
    if kind == "doc":
        doc, what = _forge_proofs(rng, seed.doc)
        files[name] = json.dumps(doc, indent=rng.choice([None, 1]))
    elif kind == "fifo":
        fifos.append(name)
    elif kind == "folder":
        files[f"{name}/inner.json"] = json.dumps(seed.doc)
    elif kind == "huge":
        sparse[name] = rng.choice([(16 << 20) + 1, 1 << 30])
    elif kind == "bytes":
        files[name] = bytes(rng.randrange(256) for _ in range(rng.choice([1, 300])))
    elif kind == "deep":
        files[name] = "[" * 100_000 + "]" * 100_000
    elif kind == "empty":
        files[name] = b""
    else:
        files[name] = b'{"dnsrace_proofs": 1, "properties": {"\xff": 1}}'
    argv = ["check", SPEC, "--engine", "pdr", "--proof-dir", "proofs", "--time-limit",
            rng.choice(["0.5", "1", "2"]), "--no-timing", "--format", "json"]
    if rng.random() < 0.2:
        argv.append("--lemmas")
    return FuzzInput("stored-proofs", argv, _text(files), fifos, sparse,
                     stdout_format="json", must_not_hold=seed.must_not_hold,
                     note=f"{seed.spec.name} with {seed.file}: {what}")


# ---------------------------------------------------------------- checkpoints
def _npz(arrays: dict) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _forge_checkpoint(rng: random.Random, files: dict) -> tuple[dict, str]:
    import io

    import numpy as np

    files = dict(files)
    names = sorted(files)
    how = rng.choice(["as-is", "as-is", "mutate-meta", "mutate-meta", "mutate-meta",
                      "truncate", "drop", "arrays", "swap", "extra-owner", "identity"])
    if how == "mutate-meta":
        meta = next(n for n in names if n.endswith("meta.json"))
        files[meta] = json.dumps(mutate_json(rng, json.loads(files[meta]))).encode()
    elif how == "truncate":
        n = rng.choice(names)
        files[n] = files[n][:rng.randrange(len(files[n]) + 1)]
    elif how == "drop":
        del files[rng.choice(names)]
    elif how == "arrays":
        npz = [n for n in names if n.endswith(".npz")]
        n = rng.choice(npz)
        with np.load(io.BytesIO(files[n]), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        k = rng.choice(sorted(arrays))
        arrays[k] = rng.choice([arrays[k].astype(np.float64), arrays[k][::-1].copy(),
                                arrays[k][:0], np.zeros((2, 2), dtype=np.int64),
                                np.full(3, -1, dtype=np.int64),
                                np.concatenate([arrays[k], arrays[k]])])
        if rng.random() < 0.3:
            del arrays[rng.choice(sorted(arrays))]
        files[n] = _npz(arrays)
    elif how == "swap" and len(names) > 1:
        a, b = rng.sample(names, 2)
        files[a], files[b] = files[b], files[a]
    elif how == "extra-owner":
        owner = next(n for n in names if "owner-" in n)
        files[owner.replace("owner-0", f"owner-{rng.choice([1, 7])}")] = files[owner]
    elif how == "identity":
        meta = next(n for n in names if n.endswith("meta.json"))
        doc = json.loads(files[meta])
        doc["identity"]["limits"]["max_states"] = rng.choice([1, None, "x"])
        files[meta] = json.dumps(doc).encode()
    return files, how


def checkpoint_resume(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """check --resume of a checkpoint dnsrace wrote, tampered with (its meta.json, its
    arrays, files dropped, swapped or added), or a folder that holds none."""
    if not corpus.checkpoints:
        return mutate_spec(rng, corpus)
    seed = rng.choice(corpus.checkpoints)
    files: dict[str, str | bytes] = {SPEC: seed.spec.text}
    fifos: list[str] = []
    kind = rng.choice(["forged"] * 8 + ["fifo", "empty-folder", "a-file", "partial"])
    what = kind
    if kind == "forged":
        forged, what = _forge_checkpoint(rng, seed.files)
        files.update({f"ck/{n}": b for n, b in forged.items()})
    elif kind == "fifo":
        files.update({f"ck/{n}": b for n, b in seed.files.items()})
        fifos.append(f"ck/{rng.choice(sorted(seed.files))}")
    elif kind == "empty-folder":
        files["ck/readme"] = "x"
    elif kind == "a-file":
        files["ck"] = "x"
    else:
        files.update({f"ck/{n.replace('/', '.partial/', 1)}": b
                      for n, b in seed.files.items()})
    argv = ["check", SPEC, *seed.args, "--resume", "ck", "--no-timing", "-q"]
    if rng.random() < 0.3:
        argv += ["--format", "json"]
    return FuzzInput("checkpoint-resume", argv, _text(files), fifos,
                     stdout_format="json" if "json" in argv else None,
                     note=f"{seed.spec.name}: {what}")


# ---------------------------------------------------------------- options of the newer commands
def newer_options(rng: random.Random, corpus: Corpus) -> FuzzInput:
    """The options added after the first campaign, with odd values: --workers, --cluster,
    --checkpoint(-every), --resume, --lemmas, --proof-dir; `test` and `replay --adapter`
    with adapters that are no adapters."""
    small = [s for s in corpus.valid_specs if not s.args and len(s.text) < 6000]
    seed = rng.choice(small or corpus.valid_specs)
    files: dict[str, str | bytes] = {SPEC: seed.text, "plain.txt": "x"}
    r = rng.random()
    if r < 0.6:
        opt = rng.choice(["--workers", "--cluster", "--checkpoint", "--checkpoint-every",
                          "--resume", "--proof-dir", "--lemmas"])
        values = {"--workers": ["0", "-1", "1", "auto", "x", "1e3", "99999999999999999999",
                                "", "2.5", "1"],
                  "--cluster": ["", "x", "ray://", "local:", "ray://[::1", "127.0.0.1:0",
                                "\x1b[2J", "a" * 3000],
                  "--checkpoint": ["plain.txt", "plain.txt/ck", "/dev/null", "", ".",
                                   "/" + "d/" * 2000],
                  "--checkpoint-every": ["-1", "nan", "inf", "1e400", "x", "0"],
                  "--resume": ["nowhere", "plain.txt", "", ".", "/dev/null"],
                  "--proof-dir": ["plain.txt", "plain.txt/p", "/dev/null", "", "/proc"],
                  "--lemmas": [None]}[opt]
        value = rng.choice(values)
        argv = ["check", SPEC, "--max-states", "300", "--no-timing", "-q"]
        argv += [opt] if value is None else [opt, value]
        if opt in ("--proof-dir", "--lemmas"):
            argv += ["--engine", rng.choice(["pdr", "kind", "bfs"]), "--time-limit", "1"]
        if opt == "--checkpoint-every":
            argv += ["--checkpoint", "ck"]
        what = f"{opt} {value!r}"[:60]
    elif r < 0.8:
        adapter = rng.choice(["nosuch:X", "os:path", "json:JSONDecoder", "x", ":", "a:",
                              "dnsrace.adapters:Adapter", "tests:nothing", "é:é",
                              "dnsrace.cli:main"])
        argv = ["test", SPEC, "--adapter", adapter, "--runs", rng.choice(["0", "1"]),
                "--max-steps", "2"]
        what = f"test --adapter {adapter}"
    else:
        adapter = rng.choice(["nosuch:X", "os:path", "x", "dnsrace.adapters:Adapter"])
        if corpus.traces:
            t = rng.choice(corpus.traces)
            files[SPEC] = t.spec.text
            files[TRACE] = json.dumps(_trace_for_spec(t))
        argv = ["replay", TRACE, "--adapter", adapter]
        what = f"replay --adapter {adapter}"
    return FuzzInput("newer-options", argv, _text(files), note=f"{seed.name}; {what}")


# name -> (generator, weight, in the short run); weights are shares of the inputs
FAMILIES = {
    "mutate-spec": (mutate_spec, 20, True),
    "valid-spec": (valid_spec, 6, True),
    "mutate-trace": (mutate_trace, 8, True),
    "mutate-trace-bytes": (mutate_trace_bytes, 3, True),
    "replay-forged": (replay_forged, 6, True),
    "replay-types": (replay_types, 5, True),
    "replay-deep-json": (replay_deep_json, 2, True),
    "replay-old-spec": (replay_old_spec, 4, True),
    "replay-other-file": (replay_other_file, 4, True),
    "deep-expression": (deep_expression, 5, True),
    "deep-yaml": (deep_yaml, 4, True),
    "big-int": (big_int, 5, True),
    "unencodable": (unencodable, 4, True),
    "trace-dir": (trace_dir, 3, True),
    "stdout-broken": (stdout_broken, 3, True),
    "huge-domain": (huge_domain, 5, True),
    "compile-heavy": (compile_heavy, 2, True),
    "special-path": (special_path, 3, True),
    "small-oddities": (small_oddities, 6, True),
    # out of the short run until `--output` to a FIFO (it blocks) and to a name over 255
    # bytes (exit 74, not DR402) are settled in dnsrace
    "report-formats": (report_formats, 3, True),
    "cache": (cache, 2, True),
    "replay-check-output": (replay_check_output, 3, True),
    "lint-many": (lint_many, 2, True),
    "stored-proofs": (stored_proofs, 1, True),   # about 1.5 s each: PDR in Z3
    "checkpoint-resume": (checkpoint_resume, 2, True),
    "newer-options": (newer_options, 2, True),
    "interrupt": (interrupt, 0.2, False),   # a subprocess each: about 2 s
}
WEIGHT_SCALE = 5   # the cycle holds each family round(weight * 5) times


def schedule(seed: int, subprocesses: bool, only: list[str] | None = None) -> list[str]:
    """The families in a fixed cycle, each as often as its weight says, spread evenly (smooth
    weighted round robin), so that any few hundred consecutive inputs cover every family.
    `seed` only rotates the cycle."""
    weights = {n: w for n, (_, w, short) in FAMILIES.items()
               if (subprocesses or short) and (not only or n in only)}
    total = sum(weights.values())
    length = sum(round(w * WEIGHT_SCALE) for w in weights.values())
    current = dict.fromkeys(weights, 0.0)
    cycle = []
    for _ in range(length):
        for n, w in weights.items():
            current[n] += w
        best = max(current, key=current.__getitem__)
        current[best] -= total
        cycle.append(best)
    k = seed % len(cycle)
    return cycle[k:] + cycle[:k]


def make_input(corpus: Corpus, seed: int, index: int, cycle: list[str]) -> FuzzInput:
    family = cycle[index % len(cycle)]
    rng = random.Random(f"{seed}:{index}")
    return FAMILIES[family][0](rng, corpus)
