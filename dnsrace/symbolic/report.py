"""Text for what the symbolic engines add to the report: counterexamples to induction.

The standard report (`report.text.render`) shows counterexamples and witnesses; a
counterexample to induction is neither, so it is shown apart, under its own heading."""

from __future__ import annotations

from ..report.text import trace_table
from ..results import CheckResult
from .kind import CTI_LABEL


def cti_text(result: CheckResult, kinds: dict[str, str], show_full: bool = False) -> str:
    """One section per property that k-induction could not prove and has a counterexample
    to induction for; empty when there is none."""
    out: list[str] = []
    for p in result.properties:
        cti = getattr(p, "cti", None)
        if cti is None:
            continue
        n = cti.length
        out.append("")
        out.append(f"{p.name}: not proved; {CTI_LABEL}")
        out.append(f"  {n} step{'s' if n != 1 else ''} from a state that may be unreachable; "
                   "the property (and its lemmas) holds at every state but the last, so it "
                   f"is not {p.k}-inductive. Try a larger --max-depth or a stronger "
                   "invariant as a lemma.")
        out += trace_table(cti, kinds, show_full, first="any state")
    return "\n".join(out) + ("\n" if out else "")
