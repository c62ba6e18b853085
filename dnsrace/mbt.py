"""`dnsrace test`: model-based testing of a real system against a spec, through an adapter.

Runs come from the spec, never from the system:
  1. directed runs, from one breadth-first search of the spec's states (at most
     BFS_LIMIT states): for every kind of transition (`Enactor.write`, `crash`), the first
     shortest run that ends by taking it; for every state property whose event the spec can
     reach (a reachable property's witness, an invariant's counterexample), the first
     shortest run that reaches it;
  2. `runs` random walks of at most `max_steps` steps, each step chosen uniformly among the
     transitions enabled in the spec's state (a step whose effect fails is never chosen),
     from a `random.Random(seed)`: the same seed gives the same runs.
Each run is performed on the system (`conformance.Conformance`) and compared after every
step; testing stops at the first run that fails, and shrinks it (`shrink`): the shortest run
the search knows to the state before the failing step, then removing steps while the
run still fails, at most SHRINK_RUNS runs on the system.  See docs/SEMANTICS.md.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from .adapters import AdapterError
from .backends.python_codegen import CompiledSystem
from .conformance import Conformance, RunReport, action_of
from .ir.layout import state_json
from .ir.system import TransitionSystem

BFS_LIMIT = 200_000      # spec states the directed runs' search visits at most
SHRINK_RUNS = 100        # runs on the system spent shrinking a failing run, at most


@dataclass
class Run:
    """A run of the spec: why it was made, its initial state and its transitions."""

    why: str                       # "takes Enactor.write", "witness cleanup_ran", "random walk 3"
    start: int                     # the packed initial state
    tids: list[int]


@dataclass
class Failure:
    run: Run                       # the run as generated
    report: RunReport              # how it failed on the system
    shortest: Run                  # the shortest failing run found
    shortest_report: RunReport
    tried: int                     # runs on the system spent shrinking


@dataclass
class SystemTestReport:
    runs: list[Run] = field(default_factory=list)      # the runs performed, in order
    steps: int = 0                                     # steps performed on the system
    kinds: dict[str, int] = field(default_factory=dict)      # transition kind -> times taken
    never_enabled: list[str] = field(default_factory=list)   # kinds the search never enabled
    witnesses: dict[str, bool] = field(default_factory=dict)  # property -> a run reached it
    found: dict[str, tuple[int, int]] = field(default_factory=dict)  # property -> (run, step)
                                   # where the system first showed its event (1-based run)
    broken: list[str] = field(default_factory=list)   # invariants expected to hold that the
                                   # system broke (the spec breaks them too: see `check`)
    unreachable: list[str] = field(default_factory=list)     # events the search never reached
    search_complete: bool = True
    failure: Failure | None = None
    observed: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failure is None and not self.broken


class Generator:
    """The runs of one spec (see the module's docstring)."""

    def __init__(self, ts: TransitionSystem, cs: CompiledSystem):
        self.ts, self.cs = ts, cs
        self.kind_of = [action_of(t).kind for t in ts.transitions]
        self.initial = list(dict.fromkeys(cs.packing.pack(s) for s in ts.initial))
        self.parent: dict[int, tuple[int, int] | None] = {}
        self.complete = True

    def successors(self, state: int) -> list[tuple[int, int]]:
        return [(t, n) for t, n in self.cs.expand(state, []) if n >= 0]

    def search(self) -> tuple[dict[str, tuple[int, int]], dict[str, int]]:
        """Breadth-first search: per transition kind, the first (state, transition) taking
        it; per state property, the first state where its event happens."""
        first_kind: dict[str, tuple[int, int]] = {}
        first_event: dict[str, int] = {}
        props = self.ts.state_properties
        active = (1 << len(props)) - 1
        queue = deque()
        for s in self.initial:
            self.parent[s] = None
            queue.append(s)
        while queue:
            s = queue.popleft()
            for k, code in self.cs.state_props(s, active):
                if code == 0 and props[k].name not in first_event:
                    first_event[props[k].name] = s
            for t, n in self.successors(s):
                first_kind.setdefault(self.kind_of[t], (s, t))
                if n not in self.parent:
                    if len(self.parent) >= BFS_LIMIT:
                        self.complete = False
                        continue
                    self.parent[n] = (s, t)
                    queue.append(n)
        return first_kind, first_event

    def path_to(self, state: int) -> tuple[int, list[int]]:
        """The initial state and transitions of the search's shortest run to `state`."""
        tids = []
        while self.parent[state] is not None:
            state, t = self.parent[state]
            tids.append(t)
        return state, tids[::-1]

    def directed(self, first_kind, first_event) -> list[Run]:
        runs = []
        for kind, (s, t) in first_kind.items():
            start, tids = self.path_to(s)
            runs.append(Run(f"takes {kind}", start, tids + [t]))
        for name, s in first_event.items():
            start, tids = self.path_to(s)
            runs.append(Run(f"reaches {name}", start, tids))
        return runs

    def random_walks(self, seed: int, count: int, max_steps: int) -> list[Run]:
        rng = random.Random(seed)
        runs = []
        for r in range(count):
            start = cur = rng.choice(self.initial)
            tids = []
            for _ in range(max_steps):
                succ = self.successors(cur)
                if not succ:
                    break
                t, cur = rng.choice(succ)
                tids.append(t)
            runs.append(Run(f"random walk {r + 1}", start, tids))
        return runs

    def states(self, run: Run) -> list[int] | None:
        """The spec's states along `run` (None if one of its transitions is not enabled, or
        fails, where it is taken)."""
        out = [run.start]
        for t in run.tids:
            n = dict(self.cs.expand(out[-1], [])).get(t)
            if n is None or n < 0:
                return None
            out.append(n)
        return out


class SystemTester:
    """Performs a spec's runs on a system and collects coverage (see the module)."""

    def __init__(self, ts: TransitionSystem, cs: CompiledSystem, conformance: Conformance):
        self.ts, self.cs, self.conf = ts, cs, conformance
        self.gen = Generator(ts, cs)
        self.actions = [action_of(t) for t in ts.transitions]
        self.report = SystemTestReport()

    def json_of(self, packed: int) -> dict:
        return state_json(self.ts.layout, self.cs.packing.unpack(packed))

    def perform(self, run: Run, states: list[int]) -> RunReport:
        return self.conf.run([self.actions[t] for t in run.tids],
                             [self.json_of(s) for s in states])

    def test(self, seed: int, runs: int, max_steps: int) -> SystemTestReport:
        rep = self.report
        first_kind, first_event = self.gen.search()
        rep.search_complete = self.gen.complete
        kinds = list(dict.fromkeys(self.gen.kind_of))
        rep.kinds = {k: 0 for k in kinds}
        rep.never_enabled = [k for k in kinds if k not in first_kind]
        rep.witnesses = {p.name: False for p in self.ts.state_properties
                         if p.name in first_event}
        rep.unreachable = [p.name for p in self.ts.state_properties
                           if p.name not in first_event]
        planned = self.gen.directed(first_kind, first_event) + \
            self.gen.random_walks(seed, runs, max_steps)
        for run in planned:
            states = self.gen.states(run)
            try:
                result = self.perform(run, states)
            except AdapterError as exc:
                exc.message = f"run {len(rep.runs) + 1} ({run.why}), {exc.message}"
                raise
            rep.runs.append(run)
            rep.observed = rep.observed or result.observed
            self.count(run, states, len(result.steps) - 1)
            if not result.agrees:
                rep.failure = self.shrink(run, result)
                break
        return rep

    def count(self, run: Run, states: list[int], performed: int) -> None:
        rep = self.report
        rep.steps += performed
        for t in run.tids[:performed]:
            rep.kinds[self.gen.kind_of[t]] += 1
        props = self.ts.state_properties
        active = (1 << len(props)) - 1
        for step, s in enumerate(states[:performed + 1]):
            for k, code in self.cs.state_props(s, active):
                name = props[k].name
                if code == 0 and name in rep.witnesses and not rep.witnesses[name]:
                    rep.witnesses[name] = True
                    rep.found[name] = (len(rep.runs), step)
                    if props[k].kind == "invariant" and props[k].expected == "holds":
                        rep.broken.append(name)

    def shrink(self, run: Run, result: RunReport) -> Failure:
        """The shortest failing run found from `run`, which failed at `result`'s step."""
        best = Run(run.why, run.start, run.tids[:result.mismatch.step])
        best_report, tried = result, 0
        states = self.gen.states(best)
        if best.tids and states[-2] in self.gen.parent:
            start, tids = self.gen.path_to(states[-2])
            if len(tids) + 1 < len(best.tids):
                tried += 1
                ok, got = self.attempt(Run(run.why, start, tids + [best.tids[-1]]))
                if ok is not None:
                    best, best_report = ok, got
        chunk = max(len(best.tids) // 2, 1)
        while chunk >= 1 and tried < SHRINK_RUNS:
            i, shrunk = 0, False
            while i < len(best.tids) and tried < SHRINK_RUNS:
                cand = Run(run.why, best.start, best.tids[:i] + best.tids[i + chunk:])
                if self.gen.states(cand) is None:
                    i += 1
                    continue
                tried += 1
                ok, got = self.attempt(cand)
                if ok is not None:
                    best, best_report, shrunk = ok, got, True
                else:
                    i += 1
            if not shrunk:
                chunk //= 2
        return Failure(run, result, best, best_report, tried)

    def attempt(self, run: Run) -> tuple[Run | None, RunReport | None]:
        """`run` cut at its failing step if it fails on the system, else (None, None)."""
        got = self.perform(run, self.gen.states(run))
        if got.agrees:
            return None, None
        return Run(run.why, run.start, run.tids[:got.mismatch.step]), got
