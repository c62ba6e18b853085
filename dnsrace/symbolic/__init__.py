"""Symbolic engines on Z3: bounded model checking and k-induction over the transition IR.

z3 is imported only inside this package.  Entry points (each returns a `CheckResult`):

  check_bmc(model, max_depth, time_limit)          shortest counterexamples and witnesses
                                                   within a bound, lassos for liveness
                                                   properties (`lasso`); never `holds`
  check_kind(model, max_k, time_limit, lemmas)     k-induction proofs, with BMC for the
                                                   counterexamples
  check_pdr(model, time_limit)                     IC3/PDR through Z3's Spacer: proofs with
                                                   the inductive invariant found, BMC for
                                                   the counterexamples
  check_spec(path, engine, ...)                    the same from a spec file

Every trace is replayed through the explicit semantics before it is reported; one that does
not replay raises `SymbolicInternalError`.
"""

from __future__ import annotations

from pathlib import Path

import z3

from .. import interrupts
from .bmc import check_bmc
from .kind import CTI_LABEL, InductionResult, check_kind
from .pdr import PdrResult, check_pdr
from .validate import SymbolicInternalError

ENGINES = ("bmc", "kind", "pdr")

# SIGINT and SIGTERM stop a Z3 call within a second (see dnsrace/interrupts.py): Z3's own
# Ctrl-C handler, which would turn SIGINT into an "unknown" answer, is switched off.
z3.set_param("ctrl_c", False)
interrupts.on_signal(lambda: z3.main_ctx().interrupt())


def check_spec(path: str | Path, engine: str = "bmc", constants: dict[str, int] | None = None,
               max_depth: int = 20, time_limit: float | None = None,
               lemmas: list[str] | None = None):
    """Check the spec at `path` with a symbolic engine; raises `SpecError` when invalid."""
    from ..frontend.build import load_model

    model = load_model(path, constants or {})
    if engine == "bmc":
        return check_bmc(model, max_depth, time_limit)
    if engine == "kind":
        return check_kind(model, max_depth, time_limit, lemmas)
    if engine == "pdr":
        return check_pdr(model, time_limit)
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


__all__ = [
    "CTI_LABEL",
    "ENGINES",
    "InductionResult",
    "PdrResult",
    "SymbolicInternalError",
    "check_bmc",
    "check_kind",
    "check_pdr",
    "check_spec",
]
