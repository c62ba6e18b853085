"""Reading a trace file for `dnsrace replay`: untrusted input, validated before it is used.

A trace file is the contract's trace object with `spec` and `constants` beside it (see
'Machine-readable results').  Everything replay reads is checked here or in the replayer
before it is used: the file (a regular file under a size limit), the JSON (no duplicate
keys, no NaN, bounded nesting and digits), the JSON type of every field, `length` and
`loop_start` against the steps, and the spec the trace names (a relative `.yaml` path).  The
states are checked against the spec's types by `replay.trace_states`.  Every problem is a
TraceError with a DR6xx code and the JSON path of the offending value, which `diagnostic`
turns into a positioned Diagnostic.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath

from . import input_files
from .diagnostics import Diagnostic, Pos, SourceFile
from .ir.layout import UNBOUNDED_INT, json_brief

TRACE_VERSION = 1
SPEC_SUFFIXES = (".yaml", ".yml")
QUOTED_LINE_MAX = 200   # a longer line (a one-line trace) is not quoted under a diagnostic


class TraceError(Exception):
    """A trace file that cannot be replayed: a DR6xx code, a message, the JSON path of the
    offending value (`("steps", 3, "action")`), or a (line, col) where no path applies."""

    def __init__(self, code: str, message: str, where: tuple | None = None,
                 hint: str | None = None, pos: tuple[int, int] | None = None):
        super().__init__(message)
        self.code, self.message, self.where, self.hint, self.pos = code, message, where, hint, pos
        self.text: str | None = None   # the trace's text, where it was read
        self.duplicate: str | None = None   # a key given twice in one object (to locate)
        self.constant: str | None = None    # NaN or Infinity, found in the text (to locate)


@dataclass
class TraceFile:
    path: str
    text: str
    obj: dict
    base: tuple = ()   # the JSON path of the trace in the file (inside check output)

    @property
    def steps(self) -> list[dict]:
        return self.obj["steps"]

    @property
    def spec(self) -> dict:
        return self.obj.get("spec") or {}

    @property
    def loop_start(self) -> int | None:
        """Where a lasso's cycle starts (None: not a lasso)."""
        return self.obj.get("loop_start")

    @property
    def constants(self) -> dict[str, int]:
        return self.obj.get("constants") or {}


SHAPE_HINT = "traces are written by `dnsrace check --trace-dir DIR`"


def read_trace(path: str, prop: str | None = None) -> TraceFile:
    """The trace at `path`, read and checked for shape; TraceError if there is none.

    The file is a trace file (`check --trace-dir`), an object holding one under `trace`, or
    the whole output of `check --format json` (one result, or a list of them): then the
    trace is that of property `prop`, which may be left out when only one property has a
    trace."""
    try:
        data = input_files.read_input_bytes(path, "trace", input_files.MAX_TRACE_BYTES)
        text = data.decode("utf-8")
    except input_files.InputFileError as exc:
        raise TraceError("DR601", str(exc), hint="give the path of a trace file") from None
    except UnicodeDecodeError as exc:
        raise TraceError("DR601", f"the trace is not UTF-8 text (byte {exc.start})",
                         hint=SHAPE_HINT) from None
    base: tuple = ()
    try:
        obj = parse_json(text)
        obj, base = select_trace(obj, prop)
        check_shape(obj)
    except TraceError as exc:
        exc.text = text
        if exc.where is not None:
            exc.where = base + exc.where
        raise
    return TraceFile(path, text, obj, base)


def select_trace(obj, prop: str | None) -> tuple[dict, tuple]:
    """The trace file object inside what was read, and its JSON path there."""
    def is_result(o) -> bool:
        return isinstance(o, dict) and "properties" in o and "steps" not in o

    if is_result(obj) or (isinstance(obj, list) and obj and all(map(is_result, obj))):
        return _from_results(obj if isinstance(obj, list) else [obj], isinstance(obj, list),
                             prop)
    if isinstance(obj, dict) and "trace" in obj and "steps" not in obj:
        inner = obj["trace"]
        _expect(isinstance(inner, dict), inner, "a trace object", ("trace",), "`trace`")
        outer = {k: obj[k] for k in ("version", "spec", "constants") if k in obj}
        return {**outer, **inner}, ("trace",)
    if prop is not None and isinstance(obj, dict) and obj.get("property") not in (None, prop):
        raise _shape(f"this trace file is of property {json_brief(obj.get('property'))}, "
                     f"not {json_brief(prop)}", ("property",))
    return obj, ()


def _from_results(results: list, is_list: bool, prop: str | None) -> tuple[dict, tuple]:
    """A property's trace out of `check --format json` output."""
    found, names = [], []
    for r, result in enumerate(results):
        at = (r,) if is_list else ()
        _expect(isinstance(result, dict), result, "a check result (an object)", at,
                f"result {r}")
        props = result.get("properties", [])
        _expect(isinstance(props, list), props, "a list", at + ("properties",),
                "`properties`")
        for i, p in enumerate(props):
            if isinstance(p, dict) and isinstance(p.get("trace"), dict):
                names.append(str(p.get("name")))
                if prop is None or p.get("name") == prop:
                    found.append((result, at, i, p))
    if not found:
        why = (f"no property {json_brief(prop)} with a trace" if prop is not None
               else "no property with a trace")
        raise TraceError("DR603", f"this check output has {why}", (),
                         "the properties with traces: " + (", ".join(names) or "none"))
    if len(found) > 1:
        raise TraceError("DR603", "this check output has traces of several properties"
                         + (f" named {json_brief(prop)}" if prop else ""), (),
                         "choose one with --property NAME: " + ", ".join(names))
    result, at, i, p = found[0]
    outer = {k: result[k] for k in ("version", "spec", "constants") if k in result}
    obj = {**outer, "property": p.get("name"), "kind": p.get("kind"), **p["trace"]}
    return obj, at + ("properties", i, "trace")


def parse_json(text: str):
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys,
                          parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise TraceError("DR602", f"the trace is not valid JSON: {exc.msg}", hint=SHAPE_HINT,
                         pos=(exc.lineno, exc.colno)) from None
    except RecursionError:
        raise TraceError("DR602", "the trace's JSON is nested too deeply to read",
                         hint=SHAPE_HINT, pos=_json_locate(text, deeper_than=MAX_JSON_DEPTH)
                         ) from None
    except TraceError as exc:
        if exc.pos is None and exc.duplicate is not None:
            exc.pos = _json_locate(text, duplicate=exc.duplicate)
        elif exc.pos is None and exc.constant is not None:
            exc.pos = _json_find(text, re.escape(exc.constant))
        raise
    except ValueError:   # Python's limit on the digits of an integer
        digits = sys.get_int_max_str_digits()
        raise TraceError("DR602", f"the trace holds an integer of more than {digits} digits",
                         hint=SHAPE_HINT,
                         pos=_json_find(text, r"-?[0-9]{%d,}" % (digits + 1))) from None


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    out = {}
    for k, v in pairs:
        if k in out:
            exc = TraceError("DR602", f"the trace's JSON has the key {json_brief(k)} twice in "
                             "one object", hint="a key may appear once per object")
            exc.duplicate = k
            raise exc
        out[k] = v
    return out


MAX_JSON_DEPTH = 100     # a trace nests 5 deep, plus its values' own nesting
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"\s*:?|[\[\]{}]')


def _json_locate(text: str, deeper_than: int | None = None, duplicate: str | None = None):
    """(line, column) of the first bracket nested deeper than `deeper_than`, or of the
    second occurrence of the key `duplicate` in one object; None if not found.  A scan of
    strings and brackets only (no recursion), used once a problem is known to be there."""
    keys: list[set | None] = []
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        if tok in "[{":
            keys.append(set() if tok == "{" else None)
            if deeper_than is not None and len(keys) > deeper_than:
                return _line_col(text, m.start())
        elif tok in "]}":
            if keys:
                keys.pop()
        elif tok.endswith(":") and keys and keys[-1] is not None and duplicate is not None:
            try:
                key = json.loads(tok[:-1].rstrip())
            except ValueError:
                continue
            if key == duplicate and key in keys[-1]:
                return _line_col(text, m.start())
            keys[-1].add(key)
    return None


def _json_find(text: str, pattern: str):
    """(line, column) of the first match of `pattern` outside the JSON's strings, or None."""
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|(' + pattern + ")", text):
        if m.group(1) is not None:
            return _line_col(text, m.start(1))
    return None


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _no_constant(name: str):
    exc = TraceError("DR602", f"the trace holds {name}, which is not a JSON number",
                     hint=SHAPE_HINT)
    exc.constant = name
    raise exc


# ------------------------------------------------------------------------------ shape
def json_kind(v) -> str:
    """The JSON type of v, as a message names it."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    return "a list" if isinstance(v, list) else "an object"


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _shape(message: str, where: tuple) -> TraceError:
    return TraceError("DR603", message, where,
                      "see 'Machine-readable results' in the spec language; " + SHAPE_HINT)


def _expect(ok: bool, v, what: str, where: tuple, label: str) -> None:
    if not ok:
        raise _shape(f"{label} must be {what}, not {json_kind(v)} ({json_brief(v)})", where)


def check_shape(obj) -> None:
    """Check every field replay reads for its JSON type (not the states' values)."""
    _expect(isinstance(obj, dict), obj, "a JSON object", (), "a trace")
    if "version" in obj:
        v = obj["version"]
        _expect(_is_int(v), v, "an integer", ("version",), "`version`")
        if v != TRACE_VERSION:
            raise _shape(f"this dnsrace reads trace files of version {TRACE_VERSION}, not "
                         f"{json_brief(v)}", ("version",))
    if "steps" not in obj:
        raise _shape("the trace has no `steps`", ())
    steps = obj["steps"]
    _expect(isinstance(steps, list) and steps != [], steps, "a non-empty list", ("steps",),
            "`steps`")
    for k, step in enumerate(steps):
        check_step(step, k, k == len(steps) - 1)
    check_length(obj, len(steps))
    check_constants(obj)
    check_spec(obj)


def check_step(step, k: int, last: bool) -> None:
    at = ("steps", k)
    _expect(isinstance(step, dict), step, "an object", at, f"step {k}")
    for key in ("action", "state"):
        if key not in step:
            raise _shape(f"step {k} has no `{key}`", at)
    action, state = step["action"], step["state"]
    if k == 0:
        _expect(action is None, action, "null (step 0 is an initial state)",
                at + ("action",), "step 0's `action`")
    else:
        _expect(isinstance(action, str), action, "the name of a transition (a string)",
                at + ("action",), f"step {k}'s `action`")
    if state is None and (k == 0 or not last):
        raise _shape(f"step {k}'s `state` is null, which only a failing last step may have",
                     at + ("state",))
    _expect(state is None or isinstance(state, dict), state, "an object", at + ("state",),
            f"step {k}'s `state`")
    if "message" in step:
        _expect(isinstance(step["message"], str), step["message"], "a string",
                at + ("message",), f"step {k}'s `message`")


def check_length(obj: dict, n_steps: int) -> None:
    if "length" in obj:
        v = obj["length"]
        _expect(_is_int(v), v, "an integer", ("length",), "`length`")
        if v != n_steps - 1:
            raise _shape(f"`length` is {json_brief(v)}, but the trace has {n_steps - 1} "
                         f"transition{'s' if n_steps != 2 else ''} ({n_steps} steps)",
                         ("length",))
    if "loop_start" in obj:
        v = obj["loop_start"]
        _expect(_is_int(v), v, "an integer", ("loop_start",), "`loop_start`")
        if not 0 <= v <= n_steps - 1:
            raise _shape(f"`loop_start` is {json_brief(v)}, not the index of a step "
                         f"(0..{n_steps - 1})", ("loop_start",))
        if obj["steps"][-1]["state"] is None:
            raise _shape("a lasso (`loop_start`) cannot end with a failing step",
                         ("loop_start",))


def check_constants(obj: dict) -> None:
    if "constants" not in obj:
        return
    consts = obj["constants"]
    _expect(isinstance(consts, dict), consts, "an object of NAME: integer",
            ("constants",), "`constants`")
    for name, v in consts.items():
        _expect(_is_int(v) and -UNBOUNDED_INT <= v <= UNBOUNDED_INT, v,
                "an integer within +-2^62", ("constants", name),
                f"constant {json_brief(name, 40)}")


def check_spec(obj: dict) -> None:
    if "spec" not in obj:
        return
    spec = obj["spec"]
    _expect(isinstance(spec, dict), spec, "an object", ("spec",), "`spec`")
    for key in ("name", "path", "sha256"):
        if key in spec:
            _expect(isinstance(spec[key], str), spec[key], "a string", ("spec", key),
                    f"`spec.{key}`")


# ------------------------------------------------------------------------------ spec
def spec_of(trace: TraceFile) -> str:
    """The spec file a trace names: a relative `.yaml`/`.yml` path to a regular file, from
    the trace's folder or else the current one.  Anything else is refused before it is read
    (a trace is untrusted: it must not make replay read, and quote, an arbitrary file)."""
    recorded = trace.spec.get("path")
    hint = "give the spec with --spec SPEC"
    if not recorded:
        raise TraceError("DR604", "the trace does not name its spec", ("spec",),
                         "give it with --spec SPEC")
    where = ("spec", "path")
    shown = json_brief(recorded)
    pure = PurePath(recorded)
    if pure.is_absolute() or re.match(r"^[A-Za-z]:|^~", recorded) or "\0" in recorded:
        raise TraceError("DR604", f"the trace's spec path {shown} is not a relative path; "
                         "replay reads only a spec relative to the trace", where, hint)
    if pure.suffix not in SPEC_SUFFIXES:
        raise TraceError("DR604", f"the trace's spec path {shown} does not name a .yaml or "
                         ".yml file", where, hint)
    folder = Path(trace.path).parent
    for candidate in (folder / pure, Path(pure)):
        if candidate.is_file():
            return _shortest_name(candidate)
    raise TraceError("DR604", f"the trace's spec {shown} is not a file in the trace's "
                     f"folder ({folder}) or in the current one", where,
                     "give it with --spec SPEC")


def _shortest_name(path: Path) -> str:
    """`traces/../spec.yaml` as `spec.yaml` when both name the same file (a symbolic link
    on the way could make them differ: then the path stays as it is)."""
    short = os.path.normpath(path)
    try:
        return short if os.path.samefile(short, path) else str(path)
    except OSError:
        return str(path)


# ------------------------------------------------------------------------------ reporting
def diagnostic(path: str, text: str | None, exc: TraceError) -> tuple[Diagnostic,
                                                                      SourceFile | None]:
    """The Diagnostic of a TraceError, positioned in the trace's text, and the source to
    quote (None where the line is too long to be worth quoting)."""
    pos = exc.pos
    if pos is None and exc.where is not None and text is not None:
        pos = locate(text, exc.where)
    source = None
    if pos is not None and text is not None:
        source = SourceFile(path, text)
        line = source.line(pos[0])
        if line is None or len(line) > QUOTED_LINE_MAX:
            source = None
    return Diagnostic(exc.code, exc.message, path, Pos(*pos) if pos else None, exc.hint), source


_WS = re.compile(r"[ \t\n\r]*")


def locate(text: str, where: tuple) -> tuple[int, int] | None:
    """The (line, col) of the JSON value at path `where` in `text`, or None."""
    decoder = json.JSONDecoder()
    try:
        i = _WS.match(text, 0).end()
        for part in where:   # a member that is missing: the object or list that lacks it
            child = _child(text, i, part, decoder)
            if child is None:
                break
            i = child
    except (ValueError, IndexError, RecursionError):
        return None
    line = text.count("\n", 0, i) + 1
    return line, i - (text.rfind("\n", 0, i) + 1) + 1


def _child(text: str, i: int, part, decoder: json.JSONDecoder) -> int | None:
    """The offset of member `part` of the object or list at offset i."""
    opening = text[i]
    if opening not in "{[":
        return None
    closing = "}" if opening == "{" else "]"
    i = _WS.match(text, i + 1).end()
    n = 0
    while text[i] != closing:
        key = None
        if opening == "{":
            key, i = decoder.raw_decode(text, i)
            i = _WS.match(text, i).end() + 1           # past ':'
            i = _WS.match(text, i).end()
        if (key if opening == "{" else n) == part:
            return i
        _, i = decoder.raw_decode(text, i)
        i = _WS.match(text, i).end()
        if text[i] == ",":
            i = _WS.match(text, i + 1).end()
        n += 1
    return None
