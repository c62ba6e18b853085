"""The `temporal:` and `fairness:` sections: the four forms of a temporal property, split at
their keyword, and the fairness units (process and action names)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..diagnostics import Pos, did_you_mean
from . import schema
from .schema import check_keys, need_map, need_scalar, need_seq
from .yaml_reader import YScalar

FORMS = ("always_eventually", "eventually_always", "leads_to", "recoverable")
KEYWORDS = ("always", "eventually", "leads_to", "recoverable")
FORM_HINT = ("write one of `always eventually P`, `eventually always P`, `P leads_to Q` or "
             "`recoverable P`")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPEN, _CLOSE = "([{", ")]}"


@dataclass
class Split:
    """A temporal property's form and the character ranges of P (and Q) in its text."""

    form: str
    p: tuple[int, int]
    q: tuple[int, int] | None = None


@dataclass
class Refusal:
    message: str
    offset: int
    hint: str = FORM_HINT


def keywords(text: str) -> list[tuple[str, int, int]]:
    """The temporal keywords in `text` as (word, offset, bracket depth).  Expressions have
    no string literals (and `'` is the prime), so brackets are all there is to track."""
    out, depth, k = [], 0, 0
    while k < len(text):
        ch = text[k]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(depth - 1, 0)
        elif ch.isalpha() or ch == "_":
            m = _WORD.match(text, k)
            if m.group() in KEYWORDS and not (k and (text[k - 1].isalnum() or text[k - 1] in "_.'")):
                out.append((m.group(), k, depth))
            k = m.end()
            continue
        k += 1
    return out


def split(text: str) -> Split | Refusal:
    """Which of the four forms `text` is; the form's keyword splits it at its top level."""
    found = keywords(text)
    if not found:
        return Refusal("this is not a temporal property: it names no temporal keyword", 0)
    nested = [f for f in found if f[2] > 0]
    if nested:
        word, at, _ = nested[0]
        return Refusal(f"`{word}` inside brackets: a temporal form is the whole property, "
                       "never part of an expression", at,
                       FORM_HINT + "; the keyword splits the text at its top level")
    start = len(text) - len(text.lstrip())
    words = [w for w, _, _ in found]
    if words[:2] in (["always", "eventually"], ["eventually", "always"]) \
            and found[0][1] == start and text[found[0][1] + len(words[0]):found[1][1]].strip() == "":
        rest = (found[1][1] + len(words[1]), len(text))
        if len(found) > 2:
            return _misplaced(found[2])
        return _operand(text, Split("always_eventually" if words[0] == "always"
                                    else "eventually_always", rest), found[1])
    if words[0] == "recoverable" and found[0][1] == start:
        if len(found) > 1:
            return _misplaced(found[1])
        return _operand(text, Split("recoverable", (found[0][1] + len("recoverable"),
                                                    len(text))), found[0])
    if words == ["leads_to"]:
        at = found[0][1]
        s = Split("leads_to", (0, at), (at + len("leads_to"), len(text)))
        if not text[:at].strip():
            return Refusal("`leads_to` needs a condition before it", at,
                           "write `P leads_to Q`: whenever P holds, Q holds then or later")
        return _operand(text, s, found[0])
    if len(words) > 1 and set(words) == {"leads_to"}:
        return _misplaced(found[1])
    if words[0] in ("always", "eventually") and found[0][1] == start and len(found) == 1:
        return Refusal(f"`{words[0]} P` alone is not one of the four forms", found[0][1],
                       "`always P` is an invariant (put it under `invariants:`); "
                       "`eventually P` is `true leads_to P`, or a `reachable:` witness; "
                       + FORM_HINT)
    return _misplaced(next(f for f in found if f[1] != start) if len(found) > 1 else found[0])


def _misplaced(kw: tuple[str, int, int]) -> Refusal:
    return Refusal(f"`{kw[0]}` is out of place: a temporal property is exactly one of the "
                   "four forms", kw[1])


def _operand(text: str, s: Split, kw: tuple[str, int, int]) -> Split | Refusal:
    last = s.q or s.p
    if not text[last[0]:last[1]].strip():
        return Refusal(f"`{kw[0]}` needs a condition after it", kw[1],
                       "write the state condition after the keyword, e.g. "
                       "`always eventually record_ok`")
    return s


def read_fairness(node, rep, declared: dict[str, tuple[str, Pos]]) -> dict[str, str]:
    """`fairness: {weak: [...], strong: [...]}` -> unit name -> "weak" | "strong", in the
    order written.  Every misuse is reported on `rep`."""
    out: dict[str, str] = {}
    where: dict[str, tuple[str, Pos]] = {}
    fm = need_map(node, rep, "`fairness`", None)
    if fm is None:
        return out
    check_keys(fm, schema.FAIRNESS_KEYS, rep, "`fairness`")
    units = sorted(n for n, (what, _) in declared.items() if what in ("a process", "an action"))
    for kind in schema.FAIRNESS_KEYS:
        seq = need_seq(fm.get(kind), rep, f"`fairness: {kind}`")
        for item in seq.items if seq else []:
            item = need_scalar(item, rep, f"an entry of `fairness: {kind}`")
            if item is None:
                continue
            name = str(item.value)
            what = declared.get(name, ("", None))[0]
            if what not in ("a process", "an action"):
                rep.error("DR321", _unit_message(name, what, kind), item.pos,
                          _unit_hint(name, units))
                continue
            if name in where:
                prev_kind, prev_pos = where[name]
                both = prev_kind != kind
                rep.error("DR322", f"fairness unit '{name}' is named " +
                          (f"under both `{prev_kind}` and `{kind}`" if both else "twice") +
                          f" (first at line {prev_pos.line})", item.pos,
                          "strong fairness implies weak: keep it under `strong` only"
                          if both else "remove the repeat")
                continue
            where[name] = (kind, item.pos)
            out[name] = kind
    return out


def _unit_message(name: str, what: str, kind: str) -> str:
    if what:
        return f"`fairness: {kind}` names '{name}', which is {what}, not a process or an action"
    return f"`fairness: {kind}` names '{name}', which is no process or action of this spec"


def _unit_hint(name: str, units: list[str]) -> str:
    if "[" in name or "." in name:
        return ("name the process: each of its instances is a unit of its own; or an action: "
                "all its bindings together are one unit")
    return did_you_mean(name, units, "the processes and actions") or \
        "a fairness unit is a process (each instance) or an action (all its bindings)"


def is_text(node) -> bool:
    return isinstance(node, YScalar) and isinstance(node.value, str)
