"""Proofs kept between runs (`--proof-dir DIR`): each proved property's inductive invariant,
with the spec's hash, so that the next run re-checks it with a plain solver instead of
searching again.

One JSON file per spec and constants (`<spec name>-<key>.json`, the key a hash of the spec
file's name (not its folder), the constants' values and the encoding), written atomically:

    {"dnsrace_proofs": 1, "spec": {"name", "path", "sha256"}, "constants": {...},
     "symbolic": [...], "properties": {NAME: {"invariant": SMT-LIB, "text": "..."}}}

An invariant is stored as SMT-LIB over the names of the state's parts (slot names such as
`Enactor[1].pc`, the symbolic constants, `cell:<slot>` and `member:<slot>` for a set over a
symbolic range), never over the encoding's internal numbering, so that it survives an edit
that moves slots around.  Nothing stored is trusted: a stored invariant proves a property
only after `chc.Clauses.confirm` checks every clause of the spec as it is now; one that no
longer fits (a name the spec lost, a clause that fails) sends the property back to PDR, and
the result says so.  A file that cannot be read is ignored the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

import z3

from ..input_files import InputFileError, read_input_bytes
from .chc import constants, subterms

FORMAT = 1
MAX_PROOF_BYTES = 16 << 20    # 16 MiB: the shipped proofs are under 100 KiB each


def _key(model, mode: str) -> str:
    # the file's name, not its folder: a proof folder committed with the specs works in any
    # clone and from any working directory
    text = json.dumps([Path(model.path).name if model.path else "", model.name,
                       model.constant_values(), mode], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _file(folder: str | Path, model, mode: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", model.name)[:60] or "spec"
    return Path(folder) / f"{safe}-{_key(model, mode)}.json"


class ProofStore:
    """The stored proofs of one spec (at its constants) in `folder`."""

    def __init__(self, folder: str | Path, model, mode: str):
        self.path = _file(folder, model, mode)
        self.model = model
        self.mode = mode
        self.entries: dict[str, dict] = {}
        self.stale_spec = False      # stored for another version of the spec
        self.read_error: str | None = None
        try:
            # a proof folder arrives with the specs, in pull requests: only a regular file of
            # at most MAX_PROOF_BYTES is read (a FIFO or /dev/zero there never hangs the run)
            doc = json.loads(read_input_bytes(self.path, "stored proof", MAX_PROOF_BYTES))
            if not (isinstance(doc, dict) and doc.get("dnsrace_proofs") == FORMAT and
                    isinstance(doc.get("properties"), dict)):
                self.read_error = (f"{self.path}: not a file of dnsrace's stored proofs "
                                   f"(format {FORMAT})")
            else:
                self.entries = {k: v for k, v in doc["properties"].items()
                                if isinstance(v, dict) and isinstance(v.get("invariant"), str)}
                spec = doc.get("spec")
                self.stale_spec = not isinstance(spec, dict) or \
                    spec.get("sha256") != model.sha256
        except InputFileError as exc:
            if self.path.exists() or self.path.is_symlink():
                self.read_error = f"{self.path}: {exc}"
        except (ValueError, RecursionError) as exc:
            self.read_error = f"{self.path}: {type(exc).__name__}: {exc}"
        self.new: dict[str, dict] = {}

    def invariant(self, name: str, names: dict[str, object]):
        """The stored invariant of property `name` as a formula over the encoding's
        variables (`names`: stored name -> variable), or (None, why)."""
        entry = self.entries.get(name)
        if entry is None:
            return None, None
        other = _other_command(entry["invariant"])
        if other is not None:
            return None, f"the stored invariant has {other}, which dnsrace never writes"
        try:
            parsed = z3.parse_smt2_string(entry["invariant"])
        except z3.Z3Exception as exc:
            return None, f"the stored invariant does not read back ({_first_line(exc)})"
        f = z3.And(*parsed) if len(parsed) != 1 else parsed[0]
        foreign = _foreign(f)
        if foreign is not None:
            return None, f"the stored invariant holds {foreign}"
        subs = []
        for c in constants(f):
            v = names.get(c.decl().name())
            if v is None:
                return None, (f"the stored invariant reads {c.decl().name()}, which the spec "
                              "no longer has")
            if v.sort() != c.sort():
                return None, f"{c.decl().name()} is no longer a {c.sort()}"
            subs.append((c, v))
        return (z3.substitute(f, *subs) if subs else f), None

    def keep(self, name: str, inv, names: dict[str, object], text: str | None) -> None:
        """Record a proved property's invariant (over the encoding's variables)."""
        back = [(v, z3.Const(n, v.sort())) for n, v in names.items()]
        if z3.is_and(inv) and inv.num_args() == 0:
            inv = z3.BoolVal(True)
        s = z3.Solver()
        s.add(z3.substitute(inv, *back))
        self.new[name] = {"invariant": s.to_smt2(), "text": text}

    def write(self) -> None:
        """Write the proofs of this run (and the stored ones it did not replace) atomically:
        a temporary file, fsync, rename."""
        if not self.new:
            return
        doc = {"dnsrace_proofs": FORMAT,
               "spec": {"name": self.model.name, "path": str(self.model.path),
                        "sha256": self.model.sha256},
               "constants": self.model.constant_values(),
               "symbolic": [c.name for c in self.model.symbolic],
               "encoding": self.mode,
               "properties": {**({} if self.stale_spec else self.entries), **self.new}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".proofs-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o644)        # a proof folder is shared (committed, cached in CI)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=1, sort_keys=True)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# the commands of what `Solver.to_smt2()` writes; Z3's parser would run any other (an
# `echo`, a `set-option`) or print a warning for an unknown one on the process's stderr
STORED_COMMANDS = {"set-info", "declare-fun", "declare-const", "assert", "check-sat"}


def _other_command(text: str) -> str | None:
    """The first top-level command of the SMT-LIB `text` that is not one dnsrace writes
    (or a sign that the text is not a list of commands), or None."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == ";":                       # a comment, to the end of the line
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if ch in "\"|":                     # a string or a quoted symbol
            end = text.find(ch, i + 1)
            if end < 0:
                return "an unclosed " + ("string" if ch == '"' else "quoted name")
            i = end + 1
            continue
        if ch == "(":
            if depth == 0:
                m = re.match(r"\s*([^\s()|;\"]*)", text[i + 1:i + 80])
                head = m.group(1) if m else ""
                if head not in STORED_COMMANDS:
                    return f"the command ({head[:40]} ...)" if head else "a list that is no command"
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return "an unbalanced parenthesis"
        elif depth == 0 and not ch.isspace():
            return "text outside a command"
        i += 1
    return "an unclosed command" if depth else None


def _foreign(f) -> str | None:
    """What f holds that no invariant dnsrace stores has, or None: a quantifier, a function
    of its own (`declare-fun g (Int) Int`), or a numeral at or past 2^63 in magnitude (no
    spec value is one, and reading it back as an int would pass Python's 4,300-digit
    limit).  Such a formula may still be inductive, but its text would not be a spec
    expression: it is refused like one that no longer holds."""
    for e in subterms(f):
        if z3.is_quantifier(e):
            return "a quantifier"
        if z3.is_int_value(e) or z3.is_rational_value(e):
            text = e.as_string().lstrip("-")
            if len(text) > 19 or (text.isdigit() and int(text) >= 1 << 63):
                shown = text if len(text) <= 24 else f"{text[:20]}... ({len(text):,} digits)"
                return f"the number {shown}, larger than any value of a spec"
        elif z3.is_app(e) and e.num_args() and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            return f"a function of its own ({e.decl().name()})"
    return None


def _first_line(exc) -> str:
    text = exc.value if isinstance(getattr(exc, "value", None), (str, bytes)) else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text.strip().splitlines()[0][:120] if text.strip() else type(exc).__name__
