"""The contract's JSON: one object per spec (a list when the run covers several)."""

from __future__ import annotations

from ..results import SpecOutcome
from .text import dumps


def render_run(outcomes: list[SpecOutcome], options) -> str:
    payload = [o.to_json() for o in outcomes]
    return dumps(payload[0] if len(payload) == 1 else payload)
