"""Random small specs with scalarsets (issue #13): the reduced explicit searches (bfs and
array engines) against a brute-force account of the orbits of the unreduced state space.

Each generated spec uses one scalarset S of 2 or 3 identities everywhere a scalarset may be
used (a process `count`, a global and a local of type S, an array `[S]0..1`, a `set of S`,
an action parameter), and sometimes a sequence of identities, a local set of identities,
an array `[S]S`, or a second scalarset K of 2 identities (an array `[K]S` and a parameter),
with guards and effects that use only `==`, `!=`, `in` and indexing (and `len`, `head`,
`tail`, `append` on the sequence).

The unreduced state space is walked here by the compiled spec's own successor function,
and checked against the reference evaluator (tests/reference) and against both engines
with `--symmetry off`.  Each state is then canonicalised by brute force (the least image
over every permutation of every scalarset, `canonical_by_all_permutations`), and a reduced
search must report: states = the number of orbits, depth = the largest shortest distance of
an orbit, transitions = the sum over the orbits of the enabled transitions of one state of
the orbit; and the same verdicts, with traces as short, as the unreduced search."""

from __future__ import annotations

import itertools
from collections import deque
from pathlib import Path

from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from dnsrace.api import check, compile_spec
from dnsrace.engines.limits import Limits
from dnsrace.engines.symmetry import apply_all, canonical_by_all_permutations
from dnsrace.frontend.build import load_model
from tests.reference.evaluator import explore

ENGINES = ("bfs", "array")
MAX_STATES = 3000   # larger unreduced spaces (a few drawn) are left out: the reference is slow
EXAMPLES = settings(max_examples=40, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])

# Each guard, effect and invariant with the optional part of the spec it needs (None: none):
# "K" a second scalarset K of 2 and an array o: [K]S, "q" a sequence of identities,
# "h" a local set of identities, "p" an array [S]S (identities inside the blocks).
# What a step of process P (instance `self`) may test and do:
STEP_GUARDS = [("true", None), ("g == self", None), ("g != self", None), ("self in m", None),
               ("self not in m", None), ("a[self] == 0", None), ("a[self] != 1", None),
               ("l == self", None), ("l != g", None), ("l in m", None), ("a[l] == 1", None),
               ("f == 0", None), ("q != []", "q"), ("self not in q", "q"), ("g in h", "h"),
               ("self not in h", "h"), ("p[self] != self", "p"), ("p[l] == g", "p")]
STEP_EFFECTS = [("g = self", None), ("g = l", None), ("m |= {self}", None),
                ("m = m - {self}", None), ("a[self] = 1", None), ("a[self] = 0", None),
                ("a[l] = 1", None), ("l = g", None), ("l = self", None), ("f = 1", None),
                ("f = 0", None), ("a[g] = 0", None),
                ("if len(q) < 2:\n    q = append(q, self)", "q"),
                ("if q != []:\n    l = head(q)\n    q = tail(q)", "q"),
                ("h |= {g}", "h"), ("h = h - {l}", "h"), ("h = {}", "h"),
                ("p[self] = l", "p"), ("p[g] = self", "p"), ("l = p[l]", "p")]
# What an action with parameter `e` (an identity) may test and do:
ACTION_GUARDS = [("true", None), ("e == g", None), ("e != g", None), ("e in m", None),
                 ("e not in m", None), ("a[e] == 1", None), ("P.l[e] == e", None),
                 ("P.l[e] != g", None), ("P.f[e] == 1", None), ("a[g] == 0", None),
                 ("e in q", "q"), ("g in P.h[e]", "h"), ("p[e] == e", "p"),
                 ("o[k] != e", "K"), ("o[k] == g", "K"), ("o[k] in m", "K")]
ACTION_EFFECTS = [("g = e", None), ("m |= {e}", None), ("m = m - {e}", None),
                  ("a[e] = 0", None), ("a[e] = 1", None), ("P.l[e] = g", None),
                  ("P.f[e] = 0", None), ("m = {}", None), ("for x in S:\n    a[x] = 0", None),
                  ("P.pc[e] = s0", None), ("q = []", "q"),
                  ("if len(q) < 2:\n    q = append(q, e)", "q"),
                  ("P.h[e] |= {g}", "h"), ("P.h[g] = P.h[g] - {e}", "h"),
                  ("p[e] = g", "p"), ("for x in S:\n    p[x] = x", "p"),
                  ("o[k] = e", "K"), ("o[k] = g", "K"), ("m |= {o[k]}", "K"),
                  ("a[o[k]] = 1", "K")]
INVARIANTS = [("g in m or a[g] == 0", None), ("all(a[x] != 1 for x in S)", None),
              ("m != S", None), ("any(P.l[x] == g for x in S)", None),
              ("not (g in m and P.f[g] == 1)", None),
              ("all(P.l[x] != x or a[x] == 0 for x in S)", None),
              ("g not in q", "q"), ("all(x not in P.h[x] for x in S)", "h"),
              ("any(p[x] == x for x in S)", "p"),
              ("all(o[k] in m or a[o[k]] == 0 for k in K)", "K"),
              ("any(o[k] != g for k in K)", "K")]
PARTS = ("K", "q", "h", "p")


def block(text: str, indent: int) -> str:
    pad = " " * indent
    return "|\n" + "\n".join(pad + line for line in text.splitlines())


def conj(guards: list[str]) -> str:
    return " and ".join(f"({g})" for g in guards) if guards else "true"


@st.composite
def scalarset_specs(draw) -> str:
    size = draw(st.integers(2, 3))
    # at most one optional part with S of 3, so the unreduced space stays small
    chosen = draw(st.lists(st.sampled_from(PARTS), max_size=2 if size == 2 else 1, unique=True))
    parts = {None, *chosen}

    def pick(options, lo: int, hi: int) -> list[str]:
        texts = [t for t, part in options if part in parts]
        return draw(st.lists(st.sampled_from(texts), min_size=lo, max_size=hi, unique=True))

    lines = ["dnsrace: 1", "name: symmetric", "types:", f"  S: {{scalarset: {size}}}"]
    if "K" in parts:
        lines.append("  K: {scalarset: 2}")
    m_init = draw(st.sampled_from(['"{}"', "S"]))
    lines += ["variables:",
              "  g: {type: S, init: any}",
              '  a: {type: "[S]0..1", init: 0}',
              f'  m: {{type: "set of S", init: {m_init}}}']
    if "K" in parts:
        lines.append('  o: {type: "[K]S", init: any}')
    if "q" in parts:
        lines.append('  q: {type: "seq of S max 2", init: "[]"}')
    if "p" in parts:
        lines.append('  p: {type: "[S]S", init: any}')
    lines += ["processes:", "  P:", "    count: S", "    locals:",
              "      l: {type: S, init: any}",
              '      f: {type: "0..1", init: 0}']
    if "h" in parts:
        lines.append('      h: {type: "set of S", init: "{}"}')
    lines.append("    steps:")
    for k in range(draw(st.integers(1, 2))):
        lines += [f"      - name: s{k}",
                  f'        guard: "{conj(pick(STEP_GUARDS, 0, 2))}"',
                  "        effect: " + block("\n".join(pick(STEP_EFFECTS, 1, 2)), 10)]
    lines.append("actions:")
    for k in range(draw(st.integers(1, 2))):
        params = "{e: S, k: K}" if "K" in parts and draw(st.booleans()) else "{e: S}"
        guards = pick(ACTION_GUARDS, 0, 2)
        effects = pick(ACTION_EFFECTS, 1, 2)
        if "k: K" not in params:
            guards = [g for g in guards if "o[k]" not in g]
            effects = [e for e in effects if "o[k]" not in e] or ["g = e"]
        if "P.pc[e] = s0" in effects:   # after the effects on the instance's locals
            effects = [e for e in effects if e != "P.pc[e] = s0"] + ["P.pc[e] = s0"]
        lines += [f"  - name: act{k}",
                  f"    params: {params}",
                  f'    guard: "{conj(guards)}"',
                  "    effect: " + block("\n".join(effects), 6)]
    lines.append("invariants:")
    lines += [f'  inv{k}: "{text}"' for k, text in enumerate(pick(INVARIANTS, 1, 3))]
    lines += ["reachable:", f'  seen: "{pick(INVARIANTS, 1, 1)[0]}"', "deadlock: ignore"]
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


def assert_closed_under_permutations(ts, cs, dist) -> None:
    """Every image of a reachable state under the scalarsets' permutations is reachable (the
    spec treats identities alike, as lowering describes them), at the same distance."""
    pk = cs.packing
    groups = [list(itertools.permutations(range(s.size))) for s in ts.scalarsets]
    for n, d in dist.items():
        state = pk.unpack(n)
        for perms in itertools.product(*groups):
            image = pk.pack(apply_all(ts.scalarsets, perms, state))
            assert dist.get(image) == d, "a permutation leaves the reachable states"


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
    assert_the_orbits_counted(path, text)


def assert_the_orbits_counted(path: Path, text: str) -> None:
    """The whole check of one generated spec (written at `path`)."""
    _, ts, cs = compile_spec(path)
    assert [s.name for s in ts.scalarsets] == (["S", "K"] if "  K:" in text else ["S"])
    dist, enabled = unreduced_graph(ts, cs)
    assume(len(dist) <= MAX_STATES)
    full = (len(dist), sum(enabled.values()), max(dist.values()))
    assert_closed_under_permutations(ts, cs, dist)

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
