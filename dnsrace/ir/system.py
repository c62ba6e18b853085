"""The transition IR: what every back end consumes.

A `TransitionSystem` is a fixed slot layout, the initial states, and per transition (one
per action or process step, per instance and parameter binding) a guard and an update as
pure terms over the current state, with the conditions under which evaluating them fails.

Evaluation order, which every back end honours:
  1. a transition with `pc` is considered only where slot `pc[0]` equals `pc[1]`;
  2. `guard_failures` in order: the first whose condition holds is a run-time error at this
     state (the transition is neither enabled nor counted);
  3. otherwise the transition is enabled when `guard` is non-zero;
  4. `effect_failures` in order: the first whose condition holds is the transition's
     failure (it counts, and has no successor);
  5. otherwise the successor is the state with `updates` applied (slot -> new value).
State properties are checked the same way: `failures` first (an error at that state), then
`term`.  Transition properties may also read the successor through `post` terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Pos
from .layout import Field, Layout, Slot
from .symmetry import Scalarset
from .terms import Term


@dataclass
class Read:
    """A value a failing expression reads, for explaining the failure: `label` as the spec
    writes it; `kind` int | bool | sym for a scalar `term`, "array" for a list of scalar
    `(kind, term)` elements, "length" for a collection's number of elements."""

    label: str
    kind: str
    term: object


@dataclass
class Failure:
    cond: Term
    kind: str  # assertion | type | error
    message: str
    pos: Pos | None
    expr: str | None = None   # the failing expression, as the spec writes it
    reads: list[Read] = field(default_factory=list)


@dataclass
class Transition:
    index: int
    name: str  # as traces show it: "Worker[0].read", "crash(w=1)"
    pc: tuple[int, int] | None  # (slot, value) for process steps
    guard: Term
    guard_failures: list[Failure]
    effect_failures: list[Failure]
    updates: dict[int, Term]  # only the slots it may change
    origin: tuple  # ("process", P, instance, step, alternative) or ("action", name)
    params: dict = field(default_factory=dict)
    reads_guard: frozenset = frozenset()


@dataclass
class StateProperty:
    name: str
    kind: str  # invariant | reachable
    expected: str
    term: Term
    failures: list[Failure]
    about: str | None = None


@dataclass
class TransitionProperty:
    name: str
    expected: str
    term: Term  # reads slot(...) and post(...)
    failures: list[Failure]
    about: str | None = None


@dataclass
class TemporalProperty:
    """`form` is always_eventually, eventually_always, leads_to (P leads_to Q) or
    recoverable.  `failures`: evaluating P or Q fails there (P's first); such a state is a
    run-time error (reported through a hidden state property of kind "temporal", see
    `ir.lower`)."""

    name: str
    form: str
    expected: str
    p: Term
    q: Term | None
    failures: list[Failure]
    about: str | None = None


@dataclass
class FairnessUnit:
    """One fairness unit: a process instance ("Worker[0]") or an action with all its
    bindings ("crash"), and the transitions that are its steps."""

    name: str
    kind: str  # weak | strong
    transitions: list[int]


@dataclass
class TransitionSystem:
    name: str
    layout: Layout
    initial: list[tuple[int, ...]]
    transitions: list[Transition]
    state_properties: list[StateProperty]
    transition_properties: list[TransitionProperty]
    deadlock: bool
    terminal: Term | None  # all process instances done (None: no process instances)
    property_order: list[tuple[str, str, str]]  # (name, kind, expected) in report order
    temporal: list[TemporalProperty] = field(default_factory=list)
    fairness: list[FairnessUnit] = field(default_factory=list)
    # one per scalarset of the spec: how a permutation of its identities acts on a state
    scalarsets: list[Scalarset] = field(default_factory=list)

    @property
    def slots(self) -> list[Slot]:
        return self.layout.slots

    @property
    def fields(self) -> list[Field]:
        return self.layout.fields

    def slot_term(self, i: int) -> Term:
        """The term reading slot i of the current state."""
        from .terms import slot
        s = self.slots[i]
        return slot(i, s.lo, s.hi)
