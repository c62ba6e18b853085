"""What every engine takes and reports, kept light (the command line imports it before any
engine): the limits of a search, and the progress of one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    max_states: int | None = None
    max_depth: int | None = None
    time_limit: float | None = None
    stop_on_first: bool = False
    symmetry: bool = True  # store one state per orbit of the scalarsets' permutations


@dataclass
class Progress:
    """What a long check reports while it runs.  The explicit engines count states; the
    Z3 engines say what they are doing in `note` (their counts stay 0)."""

    states: int
    transitions: int
    depth: int
    queue: int
    seconds: float
    note: str | None = None
