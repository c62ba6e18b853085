"""Random small specs with scalarsets (issue #13): the reduced explicit searches (bfs and
array engines) against a brute-force account of the orbits of the unreduced state space.

Each generated spec uses one scalarset S of 2 or 3 identities everywhere a scalarset may be
used (a process `count`, a global and a local of type S, an array `[S]0..1`, a `set of S`,
an action parameter), and, when S has 2, sometimes a second scalarset K of 2 identities
(an array `[K]S` and a parameter), with guards and effects that use only `==`, `!=`, `in` and indexing.

The unreduced state space is walked here by the compiled spec's own successor function,
and checked against the reference evaluator (tests/reference) and against both engines
with `--symmetry off`.  Each state is then canonicalised by brute force (the least image
over every permutation of every scalarset, `canonical_by_all_permutations`), and a reduced
search must report: states = the number of orbits, depth = the largest shortest distance of
an orbit, transitions = the sum over the orbits of the enabled transitions of one state of
the orbit; and the same verdicts, with traces as short, as the unreduced search."""

from __future__ import annotations

from collections import deque
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dnsrace.api import check, compile_spec
from dnsrace.engines.limits import Limits
from dnsrace.engines.symmetry import canonical_by_all_permutations
from dnsrace.frontend.build import load_model
from tests.reference.evaluator import explore

ENGINES = ("bfs", "array")
EXAMPLES = settings(max_examples=40, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])

# what a step of process P (instance `self`) may test and do
STEP_GUARDS = ["true", "g == self", "g != self", "self in m", "self not in m", "a[self] == 0",
               "a[self] != 1", "l == self", "l != g", "l in m", "a[l] == 1", "f == 0"]
STEP_EFFECTS = ["g = self", "g = l", "m |= {self}", "m = m - {self}", "a[self] = 1",
                "a[self] = 0", "a[l] = 1", "l = g", "l = self", "f = 1", "f = 0", "a[g] = 0"]
# what an action with parameter `e` (an identity) may test and do
ACTION_GUARDS = ["true", "e == g", "e != g", "e in m", "e not in m", "a[e] == 1",
                 "P.l[e] == e", "P.l[e] != g", "P.f[e] == 1", "a[g] == 0"]
ACTION_EFFECTS = ["g = e", "m |= {e}", "m = m - {e}", "a[e] = 0", "a[e] = 1", "P.l[e] = g",
                  "P.f[e] = 0", "m = {}", "for x in S:\n    a[x] = 0", "P.pc[e] = s0"]
INVARIANTS = ["g in m or a[g] == 0", "all(a[x] != 1 for x in S)", "m != S",
              "any(P.l[x] == g for x in S)", "not (g in m and P.f[g] == 1)",
              "all(P.l[x] != x or a[x] == 0 for x in S)"]
# with the second scalarset K: a parameter k, an array o: [K]S
KEY_GUARDS = ["o[k] != e", "o[k] == g", "o[k] in m", "e not in m"]
KEY_EFFECTS = ["o[k] = e", "o[k] = g", "m |= {o[k]}", "a[o[k]] = 1"]
KEY_INVARIANTS = ["all(o[k] in m or a[o[k]] == 0 for k in K)", "any(o[k] != g for k in K)"]


def block(text: str, indent: int) -> str:
    pad = " " * indent
    return "|\n" + "\n".join(pad + line for line in text.splitlines())


def conj(guards: list[str]) -> str:
    return " and ".join(f"({g})" for g in guards) if guards else "true"


@st.composite
def scalarset_specs(draw) -> str:
    size = draw(st.integers(2, 3))
    keys = size == 2 and draw(st.booleans())     # with S of 3 the space grows too large
    pick = lambda xs, lo, hi: draw(st.lists(st.sampled_from(xs), min_size=lo, max_size=hi,
                                            unique=True))
    lines = ["dnsrace: 1", "name: symmetric", "types:", f"  S: {{scalarset: {size}}}"]
    if keys:
        lines.append("  K: {scalarset: 2}")
    m_init = draw(st.sampled_from(['"{}"', "S"]))
    lines += ["variables:",
              "  g: {type: S, init: any}",
              '  a: {type: "[S]0..1", init: 0}',
              f'  m: {{type: "set of S", init: {m_init}}}']
    if keys:
        lines.append('  o: {type: "[K]S", init: any}')
    lines += ["processes:", "  P:", "    count: S", "    locals:",
              "      l: {type: S, init: any}",
              '      f: {type: "0..1", init: 0}',
              "    steps:"]
    for k in range(draw(st.integers(1, 2))):
        lines += [f"      - name: s{k}",
                  f'        guard: "{conj(pick(STEP_GUARDS, 0, 2))}"',
                  "        effect: " + block("\n".join(pick(STEP_EFFECTS, 1, 2)), 10)]
    lines.append("actions:")
    for k in range(draw(st.integers(1, 2))):
        effects = pick(ACTION_EFFECTS, 1, 2)
        if any("P.pc" in e for e in effects):
            effects = [e for e in effects if "P.pc" not in e] + ["P.pc[e] = s0"]
        lines += [f"  - name: act{k}",
                  "    params: {e: S}",
                  f'    guard: "{conj(pick(ACTION_GUARDS, 0, 2))}"',
                  "    effect: " + block("\n".join(effects), 6)]
    if keys:
        lines += ["  - name: keyed",
                  "    params: {k: K, e: S}",
                  f'    guard: "{conj(pick(KEY_GUARDS, 0, 2))}"',
                  "    effect: " + block("\n".join(pick(KEY_EFFECTS, 1, 2)), 6)]
    invariants = pick(INVARIANTS, 1, 2) + (pick(KEY_INVARIANTS, 0, 1) if keys else [])
    lines.append("invariants:")
    lines += [f'  inv{k}: "{text}"' for k, text in enumerate(invariants)]
    lines += ["reachable:", f'  seen: "{draw(st.sampled_from(INVARIANTS))}"', "deadlock: ignore"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- brute force


def unreduced_graph(ts, cs):
    """Every reachable packed state with its shortest distance from an initial state, and
    its number of enabled transitions (successor function of the compiled spec)."""
    pk = cs.packing
    dist: dict[int, int] = {}
    queue = deque()
    for s in ts.initial:
        n = pk.pack(s)
        if n not in dist:
            dist[n] = 0
            queue.append(n)
    enabled: dict[int, int] = {}
    while queue:
        n = queue.popleft()
        succ = [m for _t, m in cs.expand(n, [])]
        assert all(m >= 0 for m in succ), "generated specs never fail"
        enabled[n] = len(succ)
        for m in succ:
            if m not in dist:
                dist[m] = dist[n] + 1
                queue.append(m)
    return dist, enabled


def orbits(ts, cs, dist, enabled) -> tuple[int, int, int]:
    """(orbits, transitions of one state per orbit, largest shortest distance of an orbit)."""
    pk = cs.packing
    best: dict[tuple, tuple[int, int]] = {}   # canonical -> (shortest distance, enabled)
    for n, d in dist.items():
        c = canonical_by_all_permutations(pk.unpack(n), ts.scalarsets)[0]
        if c in best:
            assert best[c][1] == enabled[n], "an orbit's states differ in enabled transitions"
        best[c] = (min(d, best.get(c, (d,))[0]), enabled[n])
    return len(best), sum(e for _d, e in best.values()), max(d for d, _e in best.values())


def verdicts(result) -> dict:
    return {p.name: (p.outcome, p.trace.length if p.trace else None) for p in result.properties}


def counts(result) -> tuple[int, int, int]:
    return result.stats.states, result.stats.transitions, result.stats.depth


@given(scalarset_specs())
@EXAMPLES
def test_reduced_searches_count_the_orbits_of_the_unreduced_space(tmp_path_factory, text):
    path = Path(tmp_path_factory.mktemp("spec")) / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    _, ts, cs = compile_spec(path)
    assert [s.name for s in ts.scalarsets] == (["S", "K"] if "K:" in text else ["S"])
    dist, enabled = unreduced_graph(ts, cs)
    full = (len(dist), sum(enabled.values()), max(dist.values()))

    ref = explore(load_model(path))
    assert (ref["states"], ref["transitions"], ref["depth"]) == full, text
    unreduced = {e: check(path, engine=e, limits=Limits(symmetry=False)) for e in ENGINES}
    for e, result in unreduced.items():
        assert counts(result) == full, f"{e} --symmetry off\n{text}"
        assert not result.stats.symmetry
    expected_verdicts = verdicts(unreduced["bfs"])
    assert verdicts(unreduced["array"]) == expected_verdicts, text
    assert {p["name"]: p["outcome"] for p in ref["properties"]} == \
        {name: v[0] for name, v in expected_verdicts.items()}, text

    reduced_counts = orbits(ts, cs, dist, enabled)
    for e in ENGINES:
        reduced = check(path, engine=e, limits=Limits(symmetry=True))
        assert reduced.complete
        assert counts(reduced) == reduced_counts, f"{e} --symmetry on\n{text}"
        assert reduced.stats.symmetry == [s.name for s in ts.scalarsets]
        assert verdicts(reduced) == expected_verdicts, f"{e} --symmetry on\n{text}"
