"""A slow, obviously correct reference for temporal properties: a plain Python BFS over the
compiled successor function, the whole graph in networkx, and the textbook recursive fair-SCC
search over Python sets.  It shares only the compiled model (guards, effects, P and Q) with
the engine, never its graph code."""

from __future__ import annotations

from collections import deque

import networkx as nx

from dnsrace.backends.python_codegen import compile_predicates


class RefGraph:
    def __init__(self, ts, cs):
        self.ts, self.cs = ts, cs
        self.unit_of = {t: fu.name for fu in ts.fairness for t in fu.transitions}
        self.kind = {fu.name: fu.kind for fu in ts.fairness}
        self.g = nx.MultiDiGraph()
        self.dist: dict[int, int] = {}
        self.enabled: dict[int, set[str]] = {}
        queue = deque()
        for init in ts.initial:
            s = cs.packing.pack(init)
            if s not in self.dist:
                self.dist[s] = 0
                queue.append(s)
        while queue:
            s = queue.popleft()
            self.g.add_node(s)
            self.enabled[s] = set()
            for tid, n in cs.expand(s, []):
                if n < 0:
                    continue               # a failing effect adds no edge
                self.g.add_edge(s, n, tid=tid)
                if tid in self.unit_of:
                    self.enabled[s].add(self.unit_of[tid])
                if n not in self.dist:
                    self.dist[n] = self.dist[s] + 1
                    queue.append(n)

    def stuck(self, s) -> bool:
        return self.g.out_degree(s) == 0

    def inner_units(self, comp: set) -> set[str]:
        return {self.unit_of[d["tid"]] for a, b, d in self.g.edges(data=True)
                if a in comp and b in comp and d["tid"] in self.unit_of}

    def fair_sccs(self, nodes: set) -> list[set]:
        out = []
        for comp in nx.strongly_connected_components(self.g.subgraph(nodes)):
            comp = set(comp)
            one = next(iter(comp))
            cyclic = len(comp) > 1 or self.g.has_edge(one, one) or self.stuck(one)
            if not cyclic:
                continue
            taken = self.inner_units(comp)
            if any(k == "weak" and u not in taken and all(u in self.enabled[s] for s in comp)
                   for u, k in self.kind.items()):
                continue
            starved = {s for s in comp for u in self.enabled[s]
                       if self.kind[u] == "strong" and u not in taken}
            if starved:
                out += self.fair_sccs(comp - starved)
            else:
                out.append(comp)
        return out

    def values(self, term, failures) -> dict:
        fns = compile_predicates(self.ts, self.cs.packing, [term] + [f.cond for f in failures])
        return {s: (None if any(f(s) for f in fns[1:]) else bool(fns[0](s))) for s in self.dist}

    def verdict(self, prop) -> tuple[bool, set]:
        """(violated, the states a lasso's cycle may start from / the traps)."""
        pv = self.values(prop.p, prop.failures)
        qv = self.values(prop.q, prop.failures) if prop.q is not None else None
        every = set(self.dist)
        if prop.form == "recoverable":
            good = {s for s in every if pv[s] is True}
            can = set(good)
            for s in good:
                can |= nx.ancestors(self.g, s)
            traps = {s for s in every if s not in can and pv[s] is not None}
            return bool(traps), traps
        if prop.form == "always_eventually":
            bad = set().union(*self.fair_sccs({s for s in every if pv[s] is False}))
        elif prop.form == "eventually_always":
            bad = set().union(*[c for c in self.fair_sccs(every)
                                if any(pv[s] is False for s in c)])
        else:
            not_q = {s for s in every if qv[s] is False}
            sub = self.g.subgraph(not_q)
            reach = set()
            for t in not_q:
                if pv[t] is True:
                    reach |= {t} | nx.descendants(sub, t)
            bad = set().union(*self.fair_sccs(not_q)) & reach
        return bool(bad), bad
