"""Read a spec's YAML safely into a small tree that remembers where everything came from.

We compose (never construct) the document with ruamel.yaml, YAML 1.2: no tags, no Python
objects, no code.  Every scalar keeps its start and end marks so that an error inside an
expression can point at the exact character of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..diagnostics import Pos, Reporter

_CORE = "tag:yaml.org,2002:"


@dataclass
class YScalar:
    value: object  # str | int | float | bool | None
    pos: Pos
    _node: ScalarNode | None = field(default=None, repr=False)
    _text: str | None = field(default=None, repr=False)
    _offsets: list[Pos] | None = field(default=None, repr=False)

    def offset_pos(self, index: int) -> Pos:
        """Where character `index` of the scalar's string value sits in the file."""
        if self._node is None or self._text is None:
            return self.pos
        if self._offsets is None:
            self._offsets = _align(self._node, self._text)
        if not self._offsets:
            return self.pos
        return self._offsets[min(max(index, 0), len(self._offsets) - 1)]


@dataclass
class YMap:
    items: list[tuple[YScalar, "YNode"]]
    pos: Pos

    def get(self, key: str):
        for k, v in self.items:
            if k.value == key:
                return v
        return None

    def key_pos(self, key: str) -> Pos:
        for k, _ in self.items:
            if k.value == key:
                return k.pos
        return self.pos


@dataclass
class YSeq:
    items: list["YNode"]
    pos: Pos


YNode = YScalar | YMap | YSeq


def _pos(mark) -> Pos:
    return Pos(mark.line + 1, mark.column + 1)


def _align(node: ScalarNode, text: str) -> list[Pos]:
    """Map each character of a scalar's value to its file position.

    Works for every scalar style: the value's characters appear in order in the raw
    source between the node's marks (quotes, indentation and folding aside), so a greedy
    subsequence match recovers the position of each one.
    """
    start, end = node.start_mark, node.end_mark
    lines = text.splitlines(keepends=True)
    raw: list[tuple[str, Pos]] = []
    line, col = start.line, start.column
    while line < len(lines) and (line < end.line or (line == end.line and col < end.column)):
        src = lines[line]
        stop = end.column if line == end.line else len(src)
        for c in range(col, min(stop, len(src))):
            raw.append((src[c], Pos(line + 1, c + 1)))
        line, col = line + 1, 0
    value = node.value
    out: list[Pos] = []
    j = 0
    last = _pos(start)
    for ch in value:
        k = j
        while k < len(raw) and raw[k][0] != ch:
            k += 1
        if k < len(raw):
            last = raw[k][1]
            j = k + 1
        out.append(last)
    out.append(Pos(last.line, last.col + 1))
    return out


def _scalar_value(node: ScalarNode, rep: Reporter):
    tag = node.tag or ""
    text = node.value
    if not tag.startswith(_CORE) and tag not in ("", "!"):
        rep.error("DR106", f"YAML tag '{tag}' is not allowed in a spec", _pos(node.start_mark),
                  "remove the tag: specs hold plain values and quoted expressions only")
        return text
    kind = tag[len(_CORE):] if tag.startswith(_CORE) else "str"
    if kind == "int":
        t = text.replace("_", "")
        try:
            if t.lower().startswith(("0x", "-0x", "+0x")):
                return int(t, 16)
            if t.lower().startswith(("0o", "-0o", "+0o")):
                return int(t.replace("o", "").replace("O", ""), 8)
            return int(t, 10)
        except ValueError:
            return text
    if kind == "bool":
        return text.lower() == "true"
    if kind == "null":
        return None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _convert(node, text: str, rep: Reporter) -> YNode:
    if isinstance(node, ScalarNode):
        return YScalar(_scalar_value(node, rep), _pos(node.start_mark), node, text)
    if isinstance(node, SequenceNode):
        return YSeq([_convert(n, text, rep) for n in node.value], _pos(node.start_mark))
    if isinstance(node, MappingNode):
        items: list[tuple[YScalar, YNode]] = []
        seen: dict[object, Pos] = {}
        for knode, vnode in node.value:
            key = _convert(knode, text, rep)
            if not isinstance(key, YScalar):
                rep.error("DR105", "a mapping key must be a plain name", key.pos,
                          "write keys as names, e.g. `guard:`")
                continue
            if knode.tag == _CORE + "merge" or key.value == "<<":
                rep.error("DR106", "YAML merge keys (<<) are not allowed in a spec", key.pos,
                          "write the keys out in full")
                continue
            if key.value in seen:
                first = seen[key.value]
                rep.error("DR102", f"key '{key.value}' is given twice in this mapping "
                          f"(first at line {first.line})", key.pos,
                          "remove one of them: a repeated key is never silently overwritten")
                continue
            seen[key.value] = key.pos
            items.append((key, _convert(vnode, text, rep)))
        return YMap(items, _pos(node.start_mark))
    raise AssertionError(f"unexpected YAML node {node!r}")


def read_yaml(text: str, rep: Reporter) -> YNode | None:
    """Compose `text` as YAML 1.2 and convert it; problems go to `rep`."""
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    try:
        docs = list(yaml.compose_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        hint = "check the indentation and quote any expression that starts with { [ or * " \
               "or contains ': ' or ' #'"
        rep.error("DR101", f"YAML syntax error: {problem}", _pos(mark) if mark else None, hint)
        return None
    except YAMLError as exc:  # pragma: no cover - ruamel always marks its errors
        rep.error("DR101", f"YAML error: {exc}", None)
        return None
    docs = [d for d in docs if d is not None]
    if len(docs) != 1:
        rep.error("DR105", "a spec file holds exactly one YAML document", Pos(1, 1),
                  "remove the extra `---` documents" if docs else "the file is empty")
        return None
    return _convert(docs[0], text, rep)
