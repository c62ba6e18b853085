"""Results read back from JSON: a `CheckResult` rebuilt from what `CheckResult.to_json`
writes plus its *report extras* (`extras_to_json`: what reports need that the contract's
JSON leaves out: how variables are shown, the spec map, each property's `about`, the
wording of races, an error's source location, a lasso's fair units).

The JSON may come from a shared cache, so it is untrusted: every field is checked as it is
read, and anything that is not exactly what dnsrace writes raises `MalformedResult`; a
result is never rebuilt in part."""

from __future__ import annotations

import math

from .explain import FailureExplanation, StaleCheck, StaleRead
from .results import (
    CTI_LABEL,
    SCHEMA_VERSION,
    CheckResult,
    Coverage,
    Location,
    PropertyResult,
    SpecMap,
    Stats,
    Trace,
    TraceStep,
    TransitionSite,
)

KINDS = ("invariant", "transition", "reachable", "temporal", "assertion", "type", "error",
         "deadlock")
EXPECTED = ("holds", "violated", "reachable", "unreachable")
OUTCOMES = EXPECTED + ("unknown",)
ENGINES = ("auto", "bfs", "array", "bmc", "kind", "pdr", "all")
STOPPED = ("max-states", "max-depth", "time-limit", "stop-on-first", "memory-limit",
           "solver-unknown", "temporal-unchecked", "interrupted", "terminated", "worker-lost")
FIELD_KINDS = ("value", "array", "instances", "instances-array")
# deeper values than any state dnsrace writes: refused, so that no report recurses on them
MAX_VALUE_DEPTH = 64


class MalformedResult(ValueError):
    """JSON that is not a result as dnsrace writes it; the message says where."""


# ---------------------------------------------------------------- checked reads

def _fail(where: str, what: str):
    raise MalformedResult(f"{where}: {what}")


def _obj(x, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(x, dict):
        _fail(where, "not an object")
    missing = [k for k in required if k not in x]
    extra = [k for k in x if k not in required and k not in optional]
    if missing or extra:
        _fail(where, f"missing {missing}" if missing else f"unexpected {extra}")
    return x


def _int(x, where: str, low: int | None = 0) -> int:
    if not isinstance(x, int) or isinstance(x, bool) or (low is not None and x < low):
        _fail(where, "not a count" if low is not None else "not an integer")
    return x


def _opt_int(x, where: str, low: int | None = 0) -> int | None:
    return None if x is None else _int(x, where, low)


def _str(x, where: str) -> str:
    if not isinstance(x, str):
        _fail(where, "not a string")
    return x


def _opt_str(x, where: str) -> str | None:
    return None if x is None else _str(x, where)


def _one_of(x, choices: tuple[str, ...], where: str) -> str:
    if x not in choices or not isinstance(x, str):
        _fail(where, f"not one of {', '.join(choices)}")
    return x


def _list(x, where: str) -> list:
    if not isinstance(x, list):
        _fail(where, "not a list")
    return x


def _strs(x, where: str) -> list[str]:
    return [_str(s, f"{where}[{i}]") for i, s in enumerate(_list(x, where))]


def _value(x, where: str, depth: int = 0):
    """A JSON value of a state (as `json.loads` gives it), not too deep."""
    if depth > MAX_VALUE_DEPTH:
        _fail(where, "nested too deeply")
    if isinstance(x, float) and not math.isfinite(x):
        _fail(where, "not a finite number")
    if isinstance(x, list):
        for v in x:
            _value(v, where, depth + 1)
    elif isinstance(x, dict):
        for k, v in x.items():
            _str(k, where)
            _value(v, where, depth + 1)
    elif not (x is None or isinstance(x, (bool, int, float, str))):
        _fail(where, "not a JSON value")
    return x


def _values(x, where: str) -> dict:
    if not isinstance(x, dict):
        _fail(where, "not an object")
    return _value(x, where)


# ---------------------------------------------------------------- the report extras

def extras_to_json(r: CheckResult) -> dict:
    """What reports need beyond `r.to_json()`, as JSON (`result_from_json` reads it)."""
    return {
        "field_kinds": dict(r.field_kinds),
        "spec_map": _spec_map_to_json(r.spec_map),
        "seconds": r.stats.seconds,
        "queue": r.stats.queue,
        "properties": [{"about": p.about, "trace": _trace_extras(p.trace),
                        "cti": _trace_extras(p.cti)} for p in r.properties],
    }


def _loc_json(loc: Location | None):
    return None if loc is None else [loc.line, loc.col]


def _spec_map_to_json(m: SpecMap) -> dict:
    return {"properties": {k: _loc_json(v) for k, v in m.properties.items()},
            "transitions": {k: {"family": t.family, "instance": t.instance,
                                "location": _loc_json(t.location)}
                            for k, t in m.transitions.items()},
            "instances": list(m.instances)}


def _trace_extras(t: Trace | None) -> dict | None:
    if t is None:
        return None
    races = []
    for c in t.races:
        if c.kind == "check":
            races.append({"kind": "check", "checked_by": c.checked_by,
                          "made_false_by": c.made_false_by, "taken": c.taken})
        else:
            races.append({"kind": "read", "changed_by": c.changed_by, "taken": c.taken})
    errors = {str(k): list(s.error.location) for k, s in enumerate(t.steps)
              if s.error is not None}
    return {"fair_steps": list(t.fair_steps), "races": races, "error_locations": errors}


# ---------------------------------------------------------------- reading back

def result_from_json(data, extras) -> CheckResult:
    """The `CheckResult` whose `to_json()` is `data` and whose `extras_to_json()` is
    `extras`; MalformedResult when either is not exactly what dnsrace writes."""
    d = _obj(data, "result", ("version", "spec", "constants", "engine", "complete", "passed",
                              "stats", "properties", "warnings"),
             ("stopped", "symbolic", "coverage"))
    if d["version"] != SCHEMA_VERSION or isinstance(d["version"], bool):
        _fail("result.version", f"not {SCHEMA_VERSION}")
    e = _obj(extras, "report", ("field_kinds", "spec_map", "seconds", "queue", "properties"))
    spec = _obj(d["spec"], "result.spec", ("name", "path", "sha256"))
    constants = _dict_of(d["constants"], "result.constants", lambda v, w: _int(v, w, None))
    if "stopped" in d and d["stopped"] is not None:
        stopped = _one_of(d["stopped"], STOPPED, "result.stopped")
    elif "stopped" in d:
        _fail("result.stopped", "null is never written")
    else:
        stopped = None
    props_json = _list(d["properties"], "result.properties")
    props_extra = _list(e["properties"], "report.properties")
    if len(props_json) != len(props_extra):
        _fail("report.properties", "not one per property")
    props = [_property(p, x, f"result.properties[{i}]")
             for i, (p, x) in enumerate(zip(props_json, props_extra))]
    result = CheckResult(
        spec_name=_str(spec["name"], "result.spec.name"),
        spec_path=_str(spec["path"], "result.spec.path"),
        spec_sha256=_str(spec["sha256"], "result.spec.sha256"),
        constants=constants,
        engine=_one_of(d["engine"], ENGINES, "result.engine"),
        complete=_bool(d["complete"], "result.complete"),
        stats=_stats(d["stats"], e["seconds"], e["queue"]),
        properties=props,
        stopped=stopped,
        warnings=_strs(d["warnings"], "result.warnings"),
        symbolic=_dict_of(d.get("symbolic", {}), "result.symbolic", _str),
        coverage=_coverage(d["coverage"]) if "coverage" in d else None,
        field_kinds=_dict_of(e["field_kinds"], "report.field_kinds",
                             lambda v, w: _one_of(v, FIELD_KINDS, w)),
        spec_map=_spec_map(e["spec_map"]),
    )
    if _bool(d["passed"], "result.passed") != result.passed:
        _fail("result.passed", "does not follow from the properties")
    if "symbolic" in d and not result.symbolic:
        _fail("result.symbolic", "empty symbolic constants are never written")
    return result


def _bool(x, where: str) -> bool:
    if not isinstance(x, bool):
        _fail(where, "not true or false")
    return x


def _dict_of(x, where: str, item) -> dict:
    if not isinstance(x, dict):
        _fail(where, "not an object")
    return {k: item(v, f"{where}.{k}") for k, v in x.items()}


def _stats(x, seconds, queue) -> Stats:
    s = _obj(x, "result.stats", ("states", "transitions", "depth", "seconds"),
             ("symmetry", "symmetry_off"))
    written = s["seconds"]
    for v, where in ((written, "result.stats.seconds"), (seconds, "report.seconds")):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                or v < 0:
            _fail(where, "not a number of seconds")
    if round(seconds, 3) != written:
        _fail("report.seconds", "does not match result.stats.seconds")
    return Stats(_int(s["states"], "result.stats.states"),
                 _int(s["transitions"], "result.stats.transitions"),
                 _int(s["depth"], "result.stats.depth"), seconds,
                 _int(queue, "report.queue"),
                 _strs(s["symmetry"], "result.stats.symmetry") if "symmetry" in s else None,
                 _str(s["symmetry_off"], "result.stats.symmetry_off")
                 if "symmetry_off" in s else None)


def _coverage(x) -> list[Coverage]:
    out = []
    for i, c in enumerate(_list(x, "result.coverage")):
        where = f"result.coverage[{i}]"
        c = _obj(c, where, ("transition", "enabled", "new"))
        out.append(Coverage(_str(c["transition"], f"{where}.transition"),
                            _int(c["enabled"], f"{where}.enabled"),
                            _int(c["new"], f"{where}.new")))
    return out


def _location(x, where: str) -> Location | None:
    if x is None:
        return None
    pair = _list(x, where)
    if len(pair) != 2:
        _fail(where, "not [line, col]")
    return Location(_int(pair[0], where), _int(pair[1], where))


def _spec_map(x) -> SpecMap:
    m = _obj(x, "report.spec_map", ("properties", "transitions", "instances"))
    props = _dict_of(m["properties"], "report.spec_map.properties", _location)
    if any(v is None for v in props.values()):
        _fail("report.spec_map.properties", "a property without a location")

    def site(v, where: str) -> TransitionSite:
        t = _obj(v, where, ("family", "instance", "location"))
        return TransitionSite(_str(t["family"], where), _opt_str(t["instance"], where),
                              _location(t["location"], where))

    return SpecMap(props, _dict_of(m["transitions"], "report.spec_map.transitions", site),
                   _strs(m["instances"], "report.spec_map.instances"))


def _property(x, extra, where: str) -> PropertyResult:
    p = _obj(x, where, ("name", "kind", "expected", "outcome", "trace", "engine"),
             ("message", "invariant", "counterexample_to_induction"))
    e = _obj(extra, f"report.{where[7:]}", ("about", "trace", "cti"))
    trace = None
    if p["trace"] is not None:
        trace = _trace(p["trace"], e["trace"], f"{where}.trace")
    elif e["trace"] is not None:
        _fail(f"{where}.trace", "report details for a trace that is not there")
    cti, k = None, None
    if "counterexample_to_induction" in p:
        c = p["counterexample_to_induction"]
        if not isinstance(c, dict):
            _fail(f"{where}.counterexample_to_induction", "not an object")
        if c.get("label") != CTI_LABEL:
            _fail(f"{where}.counterexample_to_induction.label", "not the label dnsrace writes")
        k = _opt_int(c.get("k"), f"{where}.counterexample_to_induction.k")
        rest = {key: v for key, v in c.items() if key not in ("k", "label")}
        if "k" not in c:
            _fail(f"{where}.counterexample_to_induction", "missing ['k']")
        cti = _trace(rest, e["cti"], f"{where}.counterexample_to_induction")
    elif e["cti"] is not None:
        _fail(f"{where}.counterexample_to_induction", "report details for a missing one")
    return PropertyResult(
        name=_str(p["name"], f"{where}.name"),
        kind=_one_of(p["kind"], KINDS, f"{where}.kind"),
        expected=_one_of(p["expected"], EXPECTED, f"{where}.expected"),
        outcome=_one_of(p["outcome"], OUTCOMES, f"{where}.outcome"),
        trace=trace,
        about=_opt_str(e["about"], f"report.{where[7:]}.about"),
        message=_str(p["message"], f"{where}.message") if "message" in p else None,
        engine=_one_of(p["engine"], ENGINES, f"{where}.engine"),
        invariant_text=_str(p["invariant"], f"{where}.invariant") if "invariant" in p
        else None,
        cti=cti, k=k)


def _trace(x, extra, where: str) -> Trace:
    t = _obj(x, where, ("length", "steps"), ("loop_start", "stale_checks", "stale_reads"))
    if extra is None:
        _fail(where, "no report details for this trace")
    e = _obj(extra, f"{where} (report)", ("fair_steps", "races", "error_locations"))
    locations = _dict_of(e["error_locations"], f"{where} (report).error_locations", _strs)
    steps_json = _list(t["steps"], f"{where}.steps")
    if not steps_json:
        _fail(f"{where}.steps", "empty")
    steps = [_step(s, locations.pop(str(i), None), f"{where}.steps[{i}]")
             for i, s in enumerate(steps_json)]
    if locations:
        _fail(f"{where} (report).error_locations", "a location for a step without an error")
    if _int(t["length"], f"{where}.length") != len(steps) - 1:
        _fail(f"{where}.length", "not the number of steps")
    last = len(steps) - 1
    loop = None
    if "loop_start" in t:
        loop = _int(t["loop_start"], f"{where}.loop_start")
        if loop > last:
            _fail(f"{where}.loop_start", "past the last step")
    return Trace(steps, loop, _races(t, e["races"], last, where),
                 _strs(e["fair_steps"], f"{where} (report).fair_steps"))


def _step(x, location: list[str] | None, where: str) -> TraceStep:
    s = _obj(x, where, ("action", "state"), ("message", "error"))
    state = None if s["state"] is None else _values(s["state"], f"{where}.state")
    error = None
    if "error" in s:
        if location is None:
            _fail(where, "an error without its report location")
        f = _obj(s["error"], f"{where}.error", ("line", "col", "message", "values"))
        error = FailureExplanation(_opt_int(f["line"], f"{where}.error.line"),
                                   _opt_int(f["col"], f"{where}.error.col"),
                                   _str(f["message"], f"{where}.error.message"),
                                   _values(f["values"], f"{where}.error.values"), location)
    elif location is not None:
        _fail(where, "a report location without an error")
    message = _str(s["message"], f"{where}.message") if "message" in s else None
    return TraceStep(_opt_str(s["action"], f"{where}.action"), state, message, error)


def _races(t: dict, extra, last: int, where: str) -> list:
    """The trace's stale checks and stale reads, in the order the trace had them (the
    report extras keep it, and the wording the JSON leaves out)."""
    checks = iter(_list(t.get("stale_checks", []), f"{where}.stale_checks"))
    reads = iter(_list(t.get("stale_reads", []), f"{where}.stale_reads"))
    if t.get("stale_checks") == [] or t.get("stale_reads") == []:
        _fail(where, "empty race lists are never written")
    out = []
    for i, x in enumerate(_list(extra, f"{where} (report).races")):
        w = f"{where} (report).races[{i}]"
        kind = x.get("kind") if isinstance(x, dict) else None
        if kind == "check":
            out.append(_stale_check(next(checks, None), x, last, w))
        elif kind == "read":
            out.append(_stale_read(next(reads, None), x, last, w))
        else:
            _fail(w, "not a check or a read")
    if next(checks, None) is not None or next(reads, None) is not None:
        _fail(where, "races without their report details")
    return out


def _step_no(x, last: int, where: str) -> int:
    k = _int(x, where)
    if k > last:
        _fail(where, "past the last step")
    return k


def _stale_check(x, extra: dict, last: int, where: str) -> StaleCheck:
    if x is None:
        _fail(where, "no stale check in the trace for it")
    c = _obj(x, where, ("step", "checked_at", "made_false_at", "instance", "check", "values"))
    e = _obj(extra, where, ("kind", "checked_by", "made_false_by", "taken"))
    return StaleCheck(_step_no(c["step"], last, f"{where}.step"),
                      _step_no(c["checked_at"], last, f"{where}.checked_at"),
                      _step_no(c["made_false_at"], last, f"{where}.made_false_at"),
                      _str(c["instance"], where), _str(c["check"], where),
                      _str(e["checked_by"], where), _str(e["made_false_by"], where),
                      _taken(e["taken"], where), _values(c["values"], f"{where}.values"))


def _stale_read(x, extra: dict, last: int, where: str) -> StaleRead:
    if x is None:
        _fail(where, "no stale read in the trace for it")
    c = _obj(x, where, ("step", "read_at", "changed_at", "instance", "local", "value",
                        "fresh"))
    e = _obj(extra, where, ("kind", "changed_by", "taken"))
    return StaleRead(_step_no(c["step"], last, f"{where}.step"),
                     _step_no(c["read_at"], last, f"{where}.read_at"),
                     _step_no(c["changed_at"], last, f"{where}.changed_at"),
                     _str(c["instance"], where), _str(c["local"], where),
                     _value(c["value"], f"{where}.value"), _value(c["fresh"], f"{where}.fresh"),
                     _str(e["changed_by"], where), _taken(e["taken"], where))


def _taken(x, where: str) -> str:
    """A transition's trace name; the text report splits `Process[i].step`."""
    s = _str(x, where)
    if "." not in s:
        _fail(where, "not a process step")
    return s


# ---------------------------------------------------------------- another path

def at_path(r: CheckResult, path: str) -> CheckResult:
    """`r` as checked at `path` (the same spec text found elsewhere): its spec path, and
    the file named in the locations of the errors its traces end in."""
    old, r.spec_path = r.spec_path, path
    for p in r.properties:
        for t in (p.trace, p.cti):
            for step in (t.steps if t is not None else ()):
                if step.error is not None and step.error.location and \
                        step.error.location[0].startswith(old + ":"):
                    step.error.location[0] = path + step.error.location[0][len(old):]
    return r
