"""Load generated code: the one place where dnsrace runs Python it wrote itself.

Back ends generate Python from the transition IR, never from spec text: a spec reaches the
source only as integers and as comments (names that the front end validated as identifiers,
then passed through `comment`).  As a second guard, `load` refuses any source holding a
string literal, so no text from a spec can become code, and it runs the code with only the
built-ins the back end names.
"""

from __future__ import annotations

import io
import tokenize


def comment(text: str) -> str:
    """Text safe to put in a generated comment (one line, printable)."""
    return "".join(ch if ch.isprintable() and ch not in "\r\n" else "?" for ch in str(text))


class GeneratedCodeError(RuntimeError):
    """Generated source broke the rules above: a bug in dnsrace, never a user error."""


def load(source: str, filename: str, builtins: dict, runtime: dict | None = None) -> dict:
    """Compile and run generated source; returns its namespace."""
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1):
            raise GeneratedCodeError(f"generated code holds a string literal at line "
                                     f"{tok.start[0]}: {tok.line.strip()!r}")
    namespace: dict = {"__builtins__": dict(builtins), **(runtime or {})}
    exec(compile(source, f"<{comment(filename)}>", "exec"), namespace)  # noqa: S102
    return namespace
