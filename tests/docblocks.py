"""The code blocks of the README and docs/*.md, read as the doc tests run them.

A fenced block's kind is its language; an HTML comment on the line just before the fence
(blank lines allowed between) says what the block is:

    ```yaml  <!-- file: NAME -->      a whole spec, saved as NAME in the doc's folder
                                       (later blocks may save NAME again: a new version)
             <!-- file: NAME, invalid -->   the same, but the spec is rejected on purpose
             <!-- fragment -->         part of a spec: parsed as YAML, expressions and effects
                                       parsed; no name resolution or types
             (no comment)              a whole spec, loaded and checked, saved nowhere
    ```console                         `$ COMMAND` lines, each followed by its output;
                                       a line `...` stands for any number of lines
    ```sh                              commands without output: dnsrace ones are run and
                                       must not exit 2; `make TARGET` must name a target
    ```json                            must parse as JSON
    ```text, or no language            diagrams and prose layouts: not run
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```([A-Za-z]*)\s*$")
DIRECTIVE = re.compile(r"^<!--\s*(.*?)\s*-->\s*$")
KINDS = {"yaml", "console", "sh", "json", "text", ""}


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int          # 1-based line of the opening fence
    kind: str
    directive: str     # the comment's text before the fence, or ""
    text: str

    @property
    def where(self) -> str:
        return f"{self.doc.name}:{self.line}"

    @property
    def file_name(self) -> str | None:
        m = re.fullmatch(r"file:\s*([\w.-]+)(,\s*invalid)?", self.directive)
        return m.group(1) if m else None

    @property
    def invalid(self) -> bool:
        return self.directive.endswith(", invalid")

    @property
    def fragment(self) -> bool:
        return self.directive == "fragment"


def blocks(doc: Path) -> list[Block]:
    """Every fenced block of `doc`, in order."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        out.append(Block(doc, start + 1, m.group(1), _directive(lines, start),
                         "\n".join(body) + "\n"))
        i += 1
    return out


def _directive(lines: list[str], fence: int) -> str:
    j = fence - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    m = DIRECTIVE.match(lines[j]) if j >= 0 else None
    return m.group(1) if m else ""


@dataclass(frozen=True)
class Command:
    line: str              # as written after `$ `
    output: list[str]      # the lines documented after it


def commands(block: Block) -> list[Command]:
    """The `$ ...` commands of a console block, each with its documented output."""
    out: list[Command] = []
    for raw in block.text.splitlines():
        if raw.startswith("$ "):
            out.append(Command(raw[2:].strip(), []))
        elif out:
            out[-1].output.append(raw)
        elif raw.strip():
            raise AssertionError(f"{block.where}: output before any `$ command` line")
    return out


TIMING = [
    (re.compile(r"[\d,]+ states/s"), "N states/s"),
    (re.compile(r"\d+\.\d+ ?s\b"), "T s"),
    (re.compile(r'"seconds": [0-9.e+-]+'), '"seconds": T'),
]


def normalise(text: str) -> str:
    """Timing figures (seconds, states/s) replaced, so documented output stays exact."""
    for pattern, repl in TIMING:
        text = pattern.sub(repl, text)
    return text


def matches(documented: list[str], actual: list[str]) -> bool:
    """Line by line, after `normalise`; a documented `...` line matches any lines."""
    want = [normalise(x) for x in documented]
    got = [normalise(x) for x in actual]
    return _match(want, got)


def _match(want: list[str], got: list[str]) -> bool:
    if not want:
        return not got
    if want[0].strip() == "...":
        return any(_match(want[1:], got[k:]) for k in range(len(got) + 1))
    return bool(got) and want[0].rstrip() == got[0].rstrip() and _match(want[1:], got[1:])
