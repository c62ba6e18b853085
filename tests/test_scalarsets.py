"""Scalarsets (issue #13), without reduction: the language's static rules, the lowered
system's metadata (`TransitionSystem.scalarsets`), and that a scalarset changes nothing
else: the counts, the JSON, the traces and the proof engines' verdicts are those of the
same spec with `count: N` and integer ranges.

The diagnostics of the rules are also in the broken-spec corpus (tests/broken/scalarset_*).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dnsrace.api import compile_spec
from dnsrace.backends.python_codegen import compile_predicates
from dnsrace.cli import main
from dnsrace.frontend.build import load_model
from dnsrace.ir.symmetry import Scalarset

try:
    from tests.reference.evaluator import explore
except ImportError:   # run from inside tests/
    from reference.evaluator import explore

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "tests" / "scalarsets"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def check_json(path: Path, *args: str) -> dict:
    result = run("check", str(path), "--format", "json", *args)
    assert result.exit_code in (0, 1, 3), result.output   # 3: incomplete (bmc's bound)
    return json.loads(result.stdout)


def as_counted(text: str) -> str:
    """The DNS race spec with `count: ENACTORS` instead of the scalarset."""
    text = text.replace("types:\n  Enactor: {scalarset: ENACTORS}\n", "")
    return text.replace("count: Enactor", "count: ENACTORS")


# ------------------------------------------------------------------ the lowered metadata
def reachable(ts, cs) -> set[int]:
    pk = cs.packing
    seen = {pk.pack(s) for s in ts.initial}
    frontier = list(seen)
    while frontier:
        nxt = []
        for s in frontier:
            for _, n in cs.expand(s, []):
                if n >= 0 and n not in seen:
                    seen.add(n)
                    nxt.append(n)
        frontier = nxt
    return seen


def symmetry_problems(ts, cs, scalarsets: list[Scalarset], seen: set[int],
                      samples: int) -> list[str]:
    """Where a permutation of some scalarset's identities (by `apply`) fails to be a
    symmetry of the lowered system, on random reachable states: the image must be
    reachable, keep every state property's value, and have as successors the images of
    the state's successors (and as many failing transitions)."""
    pk = cs.packing
    props = compile_predicates(ts, pk, [p.term for p in ts.state_properties])
    rng = random.Random(13)
    problems = []

    def successors(s):
        out = cs.expand(s, [])
        return {n for _, n in out if n >= 0}, sum(1 for _, n in out if n < 0)

    for s in rng.sample(sorted(seen), min(samples, len(seen))):
        state = pk.unpack(s)
        for sc in scalarsets:
            p = tuple(rng.sample(range(sc.size), sc.size))
            image = pk.pack(sc.apply(p, state))
            if image not in seen:
                problems.append(f"{sc.name} {p}: {state} maps to an unreachable state")
                continue
            if [f(s) for f in props] != [f(image) for f in props]:
                problems.append(f"{sc.name} {p}: a property differs at {state}")
            succ, fails = successors(s)
            moved = {pk.pack(sc.apply(p, pk.unpack(n))) for n in succ}
            if (moved, fails) != successors(image):
                problems.append(f"{sc.name} {p}: the successors of {state} differ")
    return problems


@pytest.mark.parametrize("spec, consts", [
    ("holders.yaml", {}),
    ("mixed.yaml", {}),
    ("locals.yaml", {}),
    ("dns_race.yaml", {"ENACTORS": 3, "MAX_PLAN": 4}),
])
def test_a_permutation_of_identities_is_a_symmetry_of_the_lowered_system(spec, consts):
    _, ts, cs = compile_spec(SPECS / spec, consts)
    assert ts.scalarsets
    seen = reachable(ts, cs)
    initial = {cs.packing.pack(s) for s in ts.initial}
    for sc in ts.scalarsets:
        for p in ([1, 0] + list(range(2, sc.size)), list(range(sc.size))[::-1]):
            moved = {cs.packing.pack(sc.apply(tuple(p), cs.packing.unpack(s)))
                     for s in initial}
            assert moved == initial
    assert symmetry_problems(ts, cs, ts.scalarsets, seen, 150) == []


def test_the_symmetry_check_catches_wrong_metadata():
    """The negative control: forgetting where the identities are held is caught."""
    _, ts, cs = compile_spec(SPECS / "mixed.yaml")
    seen = reachable(ts, cs)
    node = next(sc for sc in ts.scalarsets if sc.name == "Node")
    for wrong in (Scalarset(node.name, node.size, node.blocks, (), node.masks),
                  Scalarset(node.name, node.size, node.blocks, node.values, ()),
                  Scalarset(node.name, node.size, tuple(b[:1] for b in node.blocks),
                            node.values, node.masks)):
        assert symmetry_problems(ts, cs, [wrong], seen, 60)


def test_metadata_of_the_mixed_spec():
    _, ts, _ = compile_spec(SPECS / "mixed.yaml")
    names = [s.name for s in ts.slots]
    node, key = ts.scalarsets
    assert (node.name, node.size, key.name, key.size) == ("Node", 3, "Key", 2)
    # instance i's pc and local `peer` move together; `peer` also holds an identity
    assert [[names[s] for s in b] for b in node.blocks] == [
        [f"Node[{i}].pc", f"Node[{i}].peer"] for i in range(3)]
    held = {names[s]: (None if ln is None else names[ln], k) for s, ln, k in node.values}
    assert held == {"owner[0]": (None, 0), "owner[1]": (None, 0),
                    "queue[0]": ("len(queue)", 0), "queue[1]": ("len(queue)", 1),
                    "Node[0].peer": (None, 0), "Node[1].peer": (None, 0),
                    "Node[2].peer": (None, 0)}
    assert [names[s] for s in node.masks] == ["up"]
    assert [[names[s] for s in b] for b in key.blocks] == [["owner[0]"], ["owner[1]"]]
    assert (key.values, [names[s] for s in key.masks]) == ((), ["locked"])


# ------------------------------------------------------------------ nothing else changes
@pytest.mark.parametrize("consts, expected", [
    ((), (495, 1130, 20, 11)),
    (("--const", "ENACTORS=3"), (3640, 10756, 19, 9)),
])
def test_counts_and_traces_are_those_of_count_n(tmp_path, consts, expected):
    counted = tmp_path / "counted.yaml"
    counted.write_text(as_counted((SPECS / "dns_race.yaml").read_text()))
    for engine in ("bfs", "array"):
        # unreduced, a scalarset spec is its `count: N` twin, state for state
        scal = check_json(SPECS / "dns_race.yaml", "--engine", engine, "--symmetry", "off",
                          *consts)
        plain = check_json(counted, "--engine", engine, *consts)
        s, p = scal["stats"], plain["stats"]
        trace = scal["properties"][0]["trace"]
        assert (s["states"], s["transitions"], s["depth"], trace["length"]) == expected
        assert (p["states"], p["transitions"], p["depth"]) == expected[:3]
        assert trace == plain["properties"][0]["trace"]


@pytest.mark.parametrize("spec", ["holders.yaml", "locals.yaml", "dns_race.yaml"])
def test_the_reference_evaluator_agrees(spec):
    ref = explore(load_model(SPECS / spec))
    real = check_json(SPECS / spec, "--engine", "bfs", "--symmetry", "off")
    assert (ref["states"], ref["transitions"], ref["depth"]) == \
        tuple(real["stats"][k] for k in ("states", "transitions", "depth"))
    assert {p["name"]: p["outcome"] for p in ref["properties"]} == \
        {p["name"]: p["outcome"] for p in real["properties"]}


def test_json_and_traces_show_identities_as_integers(tmp_path):
    out = check_json(SPECS / "holders.yaml", "--engine", "bfs")
    prop = next(p for p in out["properties"] if p["name"] == "not_all_held")
    steps = prop["trace"]["steps"]
    assert [s["action"] for s in steps] == [None, "Enactor[0].grab", "Enactor[1].grab",
                                            "Enactor[2].grab"]
    assert steps[0]["state"] == {"holders": [], "stage": [0, 0, 0], "last": 0,
                                 "Enactor.pc": ["grab", "grab", "grab"], "Enactor.k": [0, 0, 0]}
    assert steps[-1]["state"]["holders"] == [0, 1, 2]
    assert steps[-1]["state"]["last"] == 2


def test_a_trace_replays(tmp_path):
    result = run("check", str(SPECS / "mixed.yaml"), "--trace-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    trace = tmp_path / "scalarset-mixed.peers_differ.json"
    replayed = run("replay", str(trace))
    assert replayed.exit_code == 0, replayed.output
    dns = tmp_path / "dns"
    assert run("check", str(SPECS / "dns_race.yaml"), "--trace-dir", str(dns)).exit_code == 0
    replayed = run("replay", str(dns / "aws-dns-race-tla.never_delete_active.json"))
    assert replayed.exit_code == 0, replayed.output


@pytest.mark.parametrize("engine", ["bmc", "kind", "pdr"])
def test_proof_engines_take_a_scalarset_as_a_finite_domain(engine):
    explicit = check_json(SPECS / "holders.yaml", "--engine", "bfs")
    proved = check_json(SPECS / "holders.yaml", "--engine", engine)
    want = {p["name"]: p["outcome"] for p in explicit["properties"]}
    got = {p["name"]: p["outcome"] for p in proved["properties"]}
    if engine == "bmc":   # bounded: it finds the violation, and proves nothing
        assert got["not_all_held"] == "violated"
        assert {got[n] for n in got if n != "not_all_held"} == {"unknown"}
    else:
        assert got == want
    found = next(p for p in proved["properties"] if p["name"] == "not_all_held")
    assert found["trace"]["length"] == 3


# ------------------------------------------------------------------ the static rules
BASE = """\
dnsrace: 1
name: rules
constants:
  N: 3
types:
  Node: {scalarset: N}
variables:
  seen: {type: "[Node]0..3", init: 0}
  group: {type: "set of Node", init: "{}"}
processes:
  Node:
    count: Node
    locals:
      mark: {type: "0..1", init: 0}
    steps:
      - name: go
        guard: "GUARD"
        effect: "group |= {self}"
actions:
  - name: act
    params: {n: Node}
    effect: |
      EFFECT
"""


def diagnose(tmp_path, guard="true", effect="pass", extra=""):
    spec = tmp_path / "rules.yaml"
    spec.write_text(BASE.replace("GUARD", guard).replace("EFFECT", effect) + extra)
    result = run("check", str(spec))
    return result


@pytest.mark.parametrize("guard, effect, code, line, col", [
    ("self + 1 > 0", "pass", "DR332", 17, 17),
    ("-self == self", "pass", "DR332", 17, 18),
    ("abs(self) == 0", "pass", "DR332", 17, 21),
    ("self >= self", "pass", "DR331", 17, 17),
    ("Node.pc[0] == go", "pass", "DR333", 17, 25),
    ("self in 0..2", "pass", "DR333", 17, 17),
    ("max({x for x in Node}) == self", "pass", "DR332", 17, 21),
    ("group == {0}", "pass", "DR333", 17, 26),
    ("(self if true else 0) in group", "pass", "DR333", 17, 18),
    ("{self, 1} == group", "pass", "DR333", 17, 24),
    ("len(group | {1}) > 0", "pass", "DR333", 17, 21),
    ("append([], self) == [0]", "pass", "DR333", 17, 37),
    ("true", "for x in seen:\n          pass", "DR336", 23, 16),
    ("true", "for x in Node:\n          Node.mark[n] = 1", "DR336", 24, 11),
    ("true", "for x in Node:\n          Node.mark[x] = Node.mark[n]", "DR336", 24, 26),
])
def test_each_rule_is_a_positioned_diagnostic_with_a_hint(tmp_path, guard, effect, code,
                                                          line, col):
    result = diagnose(tmp_path, guard, effect)
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert re.match(rf".*rules\.yaml:{line}:{col}: error\[{code} [a-z-]+\]: ", first), \
        result.stderr
    assert "\n  hint: " in result.stderr
    assert "Traceback" not in result.stderr


def test_a_process_local_indexed_by_its_own_scalarset_is_refused(tmp_path):
    spec = tmp_path / "rules.yaml"
    spec.write_text(BASE.replace('mark: {type: "0..1", init: 0}',
                                 'mark: {type: "[Node]bool", init: false}')
                    .replace("GUARD", "true").replace("EFFECT", "pass"))
    result = run("check", str(spec))
    assert result.exit_code == 2
    assert re.match(r".*rules\.yaml:14:7: error\[DR337 scalarset-nested\]",
                    result.stderr), result.stderr


def test_allowed_uses_check(tmp_path):
    """A type and a process share a name; identities compared, tested, stored, looped over."""
    result = diagnose(tmp_path, "self not in group and all(seen[x] <= 3 for x in Node)",
                      "for x in group:\n          seen[x] = 1\n      group = group - {n}",
                      extra="invariants:\n  fine:\n    expr: \"len(group) <= N and "
                      "any(x == x for x in Node) and group <= Node\"\n")
    assert result.exit_code == 0, result.output


def test_a_scalarset_name_is_global(tmp_path):
    spec = tmp_path / "rules.yaml"
    spec.write_text(BASE.replace("GUARD", "true").replace("EFFECT", "pass")
                    .replace("  N: 3\n", "  N: 3\n  Node: 2\n", 1))
    result = run("check", str(spec))
    assert result.exit_code == 2
    assert "error[DR208 redefined]" in result.stderr


def test_fairness_names_a_process_that_shares_its_type_name(tmp_path):
    spec = tmp_path / "fair.yaml"
    spec.write_text((SPECS / "holders.yaml").read_text() + "temporal:\n  regrab: \"always "
                    "eventually holders == {}\"\nfairness:\n  weak: [Enactor, reset]\n")
    out = check_json(spec, "--engine", "bfs")
    regrab = next(p for p in out["properties"] if p["name"] == "regrab")
    assert (regrab["outcome"], regrab["trace"]["length"]) == ("violated", 8)


def test_the_ir_listing_shows_where_the_identities_live():
    result = run("compile", str(SPECS / "holders.yaml"), "--emit", "ir")
    assert result.exit_code == 0, result.output
    assert "\nscalarset Enactor (3 identities):\n" \
           "  identity 0: stage[0], Enactor[0].pc, Enactor[0].k\n" \
           "  identity 1: stage[1], Enactor[1].pc, Enactor[1].k\n" \
           "  identity 2: stage[2], Enactor[2].pc, Enactor[2].k\n" \
           "  holding an identity: last\n" \
           "  sets of identities: holders\n" in result.stdout


def test_nested_minuses_and_ranges_are_typed_once_each(tmp_path, monkeypatch):
    """The scalarset rule on `-` and `..` must not type an operand twice: 30 nested minuses
    took 2^30 steps (found by the fuzzer)."""
    from dnsrace.frontend import checker

    calls = 0
    real = checker.Checker._expr

    def counted(self, e, scope):
        nonlocal calls
        calls += 1
        return real(self, e, scope)

    monkeypatch.setattr(checker.Checker, "_expr", counted)
    spec = tmp_path / "minus.yaml"
    deep = "-" * 40 + "len(group) <= 3 and 0 in " + "-" * 20 + "0.." + "-" * 20 + "0"
    spec.write_text(BASE.replace("GUARD", deep).replace("EFFECT", "seen[n] = 1"))
    load_model(spec)
    assert calls < 400
