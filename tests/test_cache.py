"""The result cache: a result read back is the result written (the text report and the JSON
are the same), the key changes with everything that decides a result, a corrupt or hostile
entry is a miss, only complete results are kept, and entries are written whole."""

from __future__ import annotations

import functools
import dataclasses
import json
import os
import shutil
from dataclasses import replace

import pytest

from dnsrace import __version__
from dnsrace.api import check
from dnsrace.cache import CacheUnwritable, ResultCache, key
from dnsrace.engines.bfs import Limits
from dnsrace.report.text import render
from dnsrace.results_json import MalformedResult, extras_to_json, result_from_json
from tests.helpers import ROOT

SPECS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs").glob("*.yaml"))
# one spec each for the other engines (small ones: Z3 is slow on the DNS specs), a
# counterexample to induction, and the run-time errors (traces ending in a failing step)
OTHERS = [("bfs", "specs/dynamodb_dns_race.yaml", None),
          ("bmc", "specs/lease_handoff.yaml", None),
          ("kind", "specs/lease_handoff.yaml", None),
          ("pdr", "specs/lease_handoff.yaml", None),
          ("pdr", "specs/dns_fix_cas.yaml", (("PLANS", 3),)),
          ("kind", "tests/models/peterson2.yaml", None, 1),
          ("array", "specs/dynamodb_dns_race.yaml", None),
          ("all", "specs/lease_handoff.yaml", None),
          ("auto", "tests/runtime/division.yaml", None),
          ("auto", "tests/runtime/index.yaml", None)]
CASES = [("auto", s, None) for s in SPECS] + OTHERS
REPORTS = [{}, {"witnesses": True, "coverage": True}, {"show_full": True, "witnesses": True},
           {"quiet": True}]


@functools.cache
def checked(engine: str, spec: str, constants=None, max_depth=None):
    return check(str(ROOT / spec), dict(constants or ()), engine=engine, max_depth=max_depth)


def text(r, **kw) -> str:
    return render(r, r.field_kinds, timing=False, **kw)


def assert_same(got, want, same_run: bool = True) -> None:
    """`same_run` False: `want` was checked again, so only its timings may differ.  A
    cached result is the same but for saying it is cached."""
    got = dataclasses.replace(got, cached=False)
    for kw in REPORTS:
        assert text(got, **kw) == text(want, **kw)
    a, b = got.to_json(), want.to_json()
    if not same_run:
        a["stats"]["seconds"] = b["stats"]["seconds"] = 0
    assert a == b
    assert json.dumps(a) == json.dumps(b)
    assert got.field_kinds == want.field_kinds and got.spec_map == want.spec_map


def a_key(spec: str = "specs/lease_handoff.yaml", **change) -> str:
    parts = {"spec_bytes": (ROOT / spec).read_bytes(), "constants": {}, "engine": "auto",
             "limits": Limits(), "device": "cpu", "version": __version__}
    parts.update(change)
    return key(**parts)


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_a_result_read_back_reports_the_same(case):
    r = checked(*case)
    data = json.loads(json.dumps({"result": r.to_json(), "report": extras_to_json(r)}))
    assert_same(result_from_json(data["result"], data["report"]), r)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_a_cached_result_is_the_result_stored(tmp_path, case):
    r = checked(*case)
    cache = ResultCache(tmp_path / "cache")
    k = a_key(case[1])
    assert cache.get(k) is None
    if not r.complete:   # bmc, and kind to depth 1: cut by the depth limit
        assert r.stopped and not cache.put(k, r) and cache.get(k) is None
        return
    assert cache.put(k, r)
    got = cache.get(k, r.spec_path)
    assert got.cached and not r.cached
    assert_same(got, r)


def test_the_cases_cover_every_engine_and_every_part_of_a_result():
    """The round trips above cover every part of a result."""
    results = [checked(*c) for c in CASES]
    props = [p for r in results for p in r.properties]
    traces = [p.trace for p in props if p.trace] + [p.cti for p in props if p.cti]
    assert {r.engine for r in results} >= {"bfs", "array", "bmc", "kind", "pdr", "all"}
    assert any(t.loop_start is not None and t.fair_steps for t in traces)
    assert {c.kind for t in traces for c in t.races} == {"check", "read"}
    assert any(t.steps[-1].error is not None for t in traces)
    assert any(p.invariant_text for p in props) and any(r.symbolic for r in results)
    assert any(p.about for p in props)


def test_the_same_spec_at_another_path_hits_and_reports_that_path(tmp_path):
    """Not even the path in an error's location is the old one."""
    cache = ResultCache(tmp_path / "cache")
    for spec in ("tests/runtime/division.yaml", "specs/dynamodb_dns_race.yaml"):
        r = checked("auto", spec)
        k = a_key(spec)
        cache.put(k, r)
        moved = str(tmp_path / os.path.basename(spec))
        shutil.copy(ROOT / spec, moved)
        assert a_key(spec) == key((ROOT / spec).read_bytes(), {}, "auto", Limits(), "cpu")
        got = cache.get(k, moved)
        assert got.spec_path == moved
        assert_same(got, check(moved), same_run=False)


# ---------------------------------------------------------------- the key

def test_the_key_changes_with_each_part_that_decides_a_result():
    text = (ROOT / "specs/lease_handoff.yaml").read_bytes()
    keys = [a_key(),
            a_key(spec_bytes=text + b"\n"),
            a_key(constants={"N": 2}),
            a_key(constants={"N": 3}),
            a_key(engine="bfs"),
            a_key(limits=Limits(max_states=1000)),
            a_key(limits=Limits(max_depth=10)),
            a_key(limits=Limits(time_limit=60.0)),
            a_key(limits=Limits(stop_on_first=True)),
            a_key(device="gpu"),
            a_key(version="0.0.0-other")]
    assert len(set(keys)) == len(keys)
    assert all(len(k) == 64 and int(k, 16) >= 0 for k in keys)


def test_the_key_does_not_depend_on_the_order_of_the_constants():
    assert a_key(constants={"A": 1, "B": 2}) == a_key(constants={"B": 2, "A": 1})


def test_a_change_to_any_key_part_misses(tmp_path):
    cache = ResultCache(tmp_path)
    cache.put(a_key(), checked("auto", "specs/lease_handoff.yaml"))
    assert cache.get(a_key()) is not None
    assert cache.get(a_key(engine="bfs")) is None
    assert cache.get(a_key(version="9.9.9")) is None
    assert cache.get(a_key(limits=Limits(max_states=10))) is None


# ---------------------------------------------------------------- what is not kept

def test_a_result_cut_short_is_not_stored(tmp_path):
    cache = ResultCache(tmp_path / "cache")
    cut = check(str(ROOT / "specs/dynamodb_dns_race.yaml"), max_states=50)
    assert cut.stopped == "max-states"
    assert not cache.put(a_key(), cut)
    whole = checked("auto", "specs/lease_handoff.yaml")
    for stopped in ("interrupted", "terminated", "time-limit"):
        assert not cache.put(a_key(), replace(whole, stopped=stopped))
    assert not cache.put(a_key(), replace(whole, complete=False))
    assert not (tmp_path / "cache").exists()


# ---------------------------------------------------------------- untrusted entries

@pytest.fixture
def stored(tmp_path):
    """A cache with one entry: (cache, key, the entry's file, its JSON)."""
    cache = ResultCache(tmp_path / "cache")
    k = a_key("specs/dynamodb_dns_race.yaml")
    cache.put(k, checked("auto", "specs/dynamodb_dns_race.yaml"))
    path = cache.path(k)
    return cache, k, path, json.loads(path.read_text(encoding="utf-8"))


def test_a_truncated_entry_is_a_miss(stored):
    cache, k, path, _ = stored
    data = path.read_bytes()
    for n in (0, 1, len(data) // 3, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:n])
        assert cache.get(k) is None


@pytest.mark.parametrize("garbage", [b"\xff\xfe not utf-8", b"[]", b"null", b'"text"',
                                     b"[" * 100_000, b"{}", b'{"a": NaN}'])
def test_garbage_is_a_miss(stored, garbage):
    cache, k, path, _ = stored
    path.write_bytes(garbage)
    assert cache.get(k) is None


def test_an_entry_that_is_not_a_file_is_a_miss(stored):
    cache, k, path, _ = stored
    path.unlink()
    os.mkfifo(path)   # a reader that opened it would wait for a writer forever
    assert cache.get(k) is None
    path.unlink()
    path.mkdir()
    assert cache.get(k) is None


def _edit(entry: dict, where: str | tuple, value) -> dict:
    """`entry` with the value at `where` ("result.stats.states", "a.b.0") replaced; a
    value of DELETE removes it."""
    entry = json.loads(json.dumps(entry))
    *path, last = where.split(".") if isinstance(where, str) else where
    node = entry
    for part in path:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return entry


DELETE = object()
NO_EMPTY = "result.properties.0"   # no_empty_record: 11 steps, stale checks and reads
TEMPORAL = "result.properties.5"   # regional_heals: a lasso
HOSTILE = [
    ("key", "0" * 64), ("entry_format", 2), ("spec_path", 3), ("extra", 1), ("report", DELETE),
    ("result.version", 2), ("result.version", True), ("result.spec.name", None),
    ("result.constants.PLANS", "3"), ("result.constants.PLANS", True),
    ("result.engine", "z3"), ("result.complete", False), ("result.complete", 1),
    ("result.passed", False), ("result.stopped", "max-states"), ("result.stopped", None),
    ("result.stats.states", -1), ("result.stats.states", 1.5), ("result.stats.seconds", "1"),
    ("result.stats.seconds", 1e308 * 10), ("result.warnings", "w"), ("result.warnings", [7]),
    ("result.coverage.0.enabled", None), ("result.coverage.0", []),
    ("result.symbolic", {}), ("result.properties.0.name", 1),
    (f"{NO_EMPTY}.kind", "liveness"), (f"{NO_EMPTY}.outcome", "holds"),
    (f"{NO_EMPTY}.trace.length", 3), (f"{NO_EMPTY}.trace.steps", []),
    (f"{NO_EMPTY}.trace.steps.0", []), (f"{NO_EMPTY}.trace.steps.1.action", 5),
    (f"{NO_EMPTY}.trace.steps.1.state", [1]),
    (f"{NO_EMPTY}.trace.steps.1.state.deep", json.loads("[" * 80 + "]" * 80)),
    (f"{NO_EMPTY}.trace.stale_checks.0.step", 99), (f"{NO_EMPTY}.trace.stale_checks", []),
    (f"{NO_EMPTY}.trace.stale_checks.0", DELETE), (f"{NO_EMPTY}.trace.stale_reads.0.local", 0),
    (f"{NO_EMPTY}.trace.stale_reads.0.extra", 0), (f"{NO_EMPTY}.trace.steps.11.error", {}),
    (f"{TEMPORAL}.trace.loop_start", 99), (f"{TEMPORAL}.trace.loop_start", -1),
    ("report.field_kinds.x", "matrix"), ("report.spec_map.properties.no_empty_record", None),
    ("report.spec_map.transitions", []), ("report.seconds", -1.0), ("report.seconds", 99.0),
    ("report.queue", "0"), ("report.properties.0", DELETE), ("report.properties.0.about", 1),
    ("report.properties.0.trace", None), ("report.properties.0.trace.races.0.kind", "race"),
    ("report.properties.0.trace.races.0.taken", "nodot"),
    ("report.properties.0.trace.races.0", DELETE),
    ("report.properties.0.trace.error_locations", {"3": ["x"]}),
    ("report.properties.5.trace.fair_steps", [1]),
]


@pytest.mark.parametrize("where,value", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_an_edited_entry_is_a_miss(stored, where, value):
    cache, k, path, entry = stored
    assert cache.get(k) is not None
    path.write_text(json.dumps(_edit(entry, where, value)), encoding="utf-8")
    assert cache.get(k) is None


def test_a_wrong_type_anywhere_never_crashes_the_reader(stored):
    """Every value in the entry replaced in turn by one of another type: the reader
    answers a miss or a result it can report, never an exception."""
    cache, k, path, entry = stored
    leaves = list(_paths(entry))
    assert len(leaves) > 300
    for n, where in enumerate(leaves[::7]):
        bad = ["x", 1, None, [], {}, True, -1][n % 7]
        path.write_text(json.dumps(_edit(entry, where, bad)), encoding="utf-8")
        got = cache.get(k)
        if got is not None:
            text(got, witnesses=True, coverage=True)


def _paths(node, prefix=()):
    """Where each value in `node` is, as a tuple of keys (they may hold dots)."""
    items = enumerate(node) if isinstance(node, list) else \
        node.items() if isinstance(node, dict) else ()
    for name, child in items:
        where = (*prefix, str(name))
        yield where
        yield from _paths(child, where)


def test_result_from_json_says_what_is_wrong():
    r = checked("auto", "specs/lease_handoff.yaml")
    bad = r.to_json()
    bad["stats"]["depth"] = "deep"
    with pytest.raises(MalformedResult, match="result.stats.depth"):
        result_from_json(bad, extras_to_json(r))


# ---------------------------------------------------------------- writing

def test_entries_are_written_whole_and_leave_no_temporary_files(tmp_path, monkeypatch):
    cache = ResultCache(tmp_path / "a" / "b")
    r = checked("auto", "specs/lease_handoff.yaml")
    assert cache.put(a_key(), r)
    assert cache.put(a_key(), r)   # overwritten in place
    assert os.listdir(cache.folder) == [f"{a_key()}.json"]

    def crash(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(CacheUnwritable, match="No space left on device"):
        cache.put(a_key(engine="bfs"), r)
    assert os.listdir(cache.folder) == [f"{a_key()}.json"]
    assert cache.get(a_key()) is not None


def test_an_unwritable_folder_is_a_cache_unwritable_oserror(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(CacheUnwritable, match="cannot write the cache folder") as err:
        ResultCache(tmp_path / "file").put(a_key(), checked("auto", "specs/lease_handoff.yaml"))
    assert isinstance(err.value, OSError)
    assert ResultCache(tmp_path / "file").get(a_key()) is None
