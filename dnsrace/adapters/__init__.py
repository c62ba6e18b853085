"""Adapters: connect a spec to a real system, for `replay --adapter` and `dnsrace test`.

An adapter drives the system along the spec's transitions and reads the system's state back
as the spec's variables.  It is Python the user names on the command line (`module:Class`),
never code a spec names: a spec stays data.

    class MyAdapter(Adapter):
        def reset(self, constants):   # put the system in its initial state
        def step(self, action):       # perform one transition (an `Action`) on the system
        def observe(self):            # {variable: JSON value} for the variables it can see
        def close(self):              # optional: release the system (called once, at the end)

`observe` returns a subset of the spec's variables (the keys of a trace's states:
`newest`, `record`, `Enactor.pc`, ...), each in the JSON shape a trace state has (integers,
booleans, enumeration values and program counters as strings, arrays and per-instance
locals as lists, sets as sorted lists, records as objects).  After every step the runner
compares these with the spec's state; the first difference is a conformance failure.

An adapter that cannot drive the system (the server does not answer) raises any exception;
the run stops with the step and the exception's message (exit 2).  A refusal that is part of
the system's behaviour (a compare-and-swap that fails) is not an exception: the system's
state shows it, and `observe` reads it back.  See docs/ADAPTERS.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .loader import AdapterError, load_adapter

__all__ = ["Action", "Adapter", "AdapterError", "load_adapter"]


@dataclass(frozen=True)
class Action:
    """One transition of the spec, as the adapter is asked to perform it.

    `name` is the transition as traces show it (`Enactor[0].check.newer`, `crash(w=1)`).
    A process step has `process`, `instance`, `step` and, for one alternative of an
    `either`, `alternative`; a free-standing action has `action` and its `params`.  An
    implementation usually cannot be told which alternative to take: it takes its next step,
    and `observe` shows which one it took."""

    name: str
    process: str | None = None
    instance: int | None = None
    step: str | None = None
    alternative: str | None = None
    action: str | None = None
    params: dict = field(default_factory=dict, hash=False)

    @property
    def kind(self) -> str:
        """The transition's name without the instance or parameters: `Enactor.check.newer`,
        `crash` (what coverage counts)."""
        if self.process is None:
            return self.action or self.name
        return ".".join(x for x in (self.process, self.step, self.alternative) if x)


class Adapter:
    """The base class of adapters (subclassing it is optional: any class with `reset`,
    `step` and `observe` will do).  An adapter is made with no arguments; read where the
    system is from the environment or a file, in `reset`."""

    def reset(self, constants: dict[str, int]) -> None:
        """Put the system in the spec's initial state (called before every run)."""
        raise NotImplementedError

    def step(self, action: Action) -> None:
        """Perform `action` on the system."""
        raise NotImplementedError

    def observe(self) -> dict:
        """The system's state, as {variable: JSON value} for the variables it can observe."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the system (called once, after the last run)."""
