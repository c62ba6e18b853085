"""dnsrace's resource bounds: the largest input each stage accepts, named in one place.

A spec is untrusted input.  Every size that could make reading, building, lowering or code
generation run out of memory, out of stack or out of time is checked against a bound here
*before* anything of that size is made, and refused with a positioned diagnostic.  The
shipped specs sit far below every bound; docs/SEMANTICS.md ("Resource bounds") lists them
with what to do when a real spec needs more.  The size of a spec file itself is bounded in
`input_files.MAX_SPEC_BYTES`.
"""

from __future__ import annotations

import time

# ---- reading (DR110, DR111)
MAX_YAML_DEPTH = 64            # mappings and lists nested in one another
MAX_INT_LITERAL = 1 << 63      # |an integer literal| < 2^63, in YAML or in an expression
MAX_INT_DIGITS = 19            # a literal with more digits is refused before int() reads it

# ---- expressions (DR211..DR213)
MAX_EXPR_DEPTH = 100           # nesting of one expression or effect (its parse tree)
MAX_EXPR_NODES = 20_000        # nodes of one expression or effect
MAX_EXPANDED_DEPTH = 200       # nesting once defines are expanded in place (also DR504)

# ---- the model (DR308..DR311)
MAX_PROCESS_COUNT = 1_024      # instances of one process
MAX_ARRAY_SIZE = 4_096         # elements of one array
MAX_SEQ_LENGTH = 1_024         # a sequence type's `max`
MAX_SET_WIDTH = 4_096          # values a set's element type may hold (bits of its bitmask)
MAX_STATE_SLOTS = 65_536       # integers that store one state (all variables and locals)
MAX_DOMAIN_VALUES = 65_536     # values of a range or set made while evaluating constants
                               # (parameter domains, constant `for`s and quantifiers)
MAX_CONST_STEPS = 1_000_000    # evaluation steps to compute one constant expression
MAX_INIT_VALUES = 1_000_000    # initial values of one variable (`init: any`)
MAX_INITIAL_STATES = 1_000_000 # initial states (the product of the variables' choices)
MAX_TRANSITIONS = 100_000      # transitions: bindings x instances x steps, plus actions

# ---- lowering and compiling (DR503, DR504)
MAX_LOWERING_WORK = 1_000_000  # expressions lowered, counting each define expansion and each
                               # unrolled loop iteration (the largest shipped spec: under 1,000)
MAX_UNROLLED = 100_000         # iterations of nested `for` loops, multiplied out, refused
                               # before the first one is unrolled
MAX_SET_SPAN = 65_536          # values two sets brought to one universe may span, from the
                               # least to the greatest (`{0} | {10**18}`: one bit each, far apart)


class CompileTimeout(Exception):
    """The time limit ran out while loading or compiling a spec: nothing was checked."""


class Deadline:
    """A point in time (monotonic seconds) past which compiling stops; None: never."""

    __slots__ = ("at",)

    def __init__(self, seconds: float | None):
        self.at = None if seconds is None else time.monotonic() + seconds

    def check(self) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise CompileTimeout()

    def left(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - time.monotonic())


NO_DEADLINE = Deadline(None)

# ---- scaling out (DR906)
MAX_WORKERS = 1024             # owners of one partitioned search: processes or Ray actors
