"""Load generated code: the one place where dnsrace runs Python it wrote itself.

Back ends generate Python from the transition IR, never from spec text: a spec reaches the
source only as integers and as comments (names that the front end validated as identifiers,
then passed through `comment`, which also drops quotes).  As a second guard, `load` refuses
any source holding a quote character at all: with no quote there is no string literal, so no
text from a spec can become code.  It runs the code with only the built-ins the back end
names.
"""

from __future__ import annotations

QUOTES = "'\""


def comment(text: str) -> str:
    """Text safe to put in a generated comment (one line, printable, no quotes)."""
    return "".join(ch if ch.isprintable() and ch not in "\r\n" + QUOTES else "?"
                   for ch in str(text))


class GeneratedCodeError(RuntimeError):
    """Generated source broke the rules above: a bug in dnsrace, never a user error."""


def load(source: str, filename: str, builtins: dict, runtime: dict | None = None) -> dict:
    """Compile and run generated source; returns its namespace."""
    for quote in QUOTES:
        at = source.find(quote)
        if at >= 0:
            line = source.count("\n", 0, at) + 1
            raise GeneratedCodeError(f"generated code holds a quote at line {line}: "
                                     f"{source.splitlines()[line - 1].strip()!r}")
    namespace: dict = {"__builtins__": dict(builtins), **(runtime or {})}
    exec(compile(source, f"<{comment(filename)}>", "exec"), namespace)  # noqa: S102
    return namespace
