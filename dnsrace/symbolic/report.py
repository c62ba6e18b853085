"""Text for what the symbolic engines add to the report: counterexamples to induction
(`report.text.cti_sections`, which the text report includes)."""

from __future__ import annotations

from ..report.text import cti_sections
from ..results import CheckResult


def cti_text(result: CheckResult, kinds: dict[str, str], show_full: bool = False) -> str:
    """One section per property that k-induction could not prove and has a counterexample
    to induction for; empty when there is none."""
    out = cti_sections(result, kinds, show_full)
    return "\n".join(out) + ("\n" if out else "")
