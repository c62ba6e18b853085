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
from ruamel.yaml.reader import ReaderError

from ..bounds import MAX_INT_DIGITS, MAX_INT_LITERAL, MAX_YAML_DEPTH, NO_DEADLINE, Deadline
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
    source between the node's marks (quotes, indentation and folding aside; a block
    scalar's header line is skipped), so a greedy subsequence match recovers the position
    of each one.
    """
    start, end = node.start_mark, node.end_mark
    lines = text.splitlines(keepends=True)
    raw: list[tuple[str, Pos]] = []
    line, col = start.line, start.column
    if node.style in ("|", ">"):  # skip the header line: `|-  # a comment` is not the value
        line, col = line + 1, 0
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


_CORE_KINDS = ("str", "int", "bool", "null", "float", "map", "seq")


def _tag_ok(node, rep: Reporter) -> bool:
    """Only YAML's core tags are allowed (`!!str 010`); any other names a type to construct."""
    tag = node.tag or ""
    if tag in ("", "!") or (tag.startswith(_CORE) and tag[len(_CORE):] in _CORE_KINDS):
        return True
    shown = "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag
    rep.error("DR106", f"YAML tag '{shown}' is not allowed in a spec", _pos(node.start_mark),
              "remove the tag: specs hold plain values and quoted expressions only")
    return False


def _scalar_value(node: ScalarNode, rep: Reporter):
    tag = node.tag or ""
    text = node.value
    if not _tag_ok(node, rep):
        return text
    kind = tag[len(_CORE):] if tag.startswith(_CORE) else "str"
    if kind == "int":
        t = text.replace("_", "")
        value = _parse_int(t) if _int_digits(t) <= MAX_INT_DIGITS else None
        if isinstance(value, str):
            return text
        if value is not None and abs(value) < MAX_INT_LITERAL:
            return value
        rep.error("DR111", f"the integer {_abridged(text)} is too large: integers in a spec "
                  f"are below 2^63 in magnitude", _pos(node.start_mark),
                  "use a smaller number: sizes and bounds that large cannot be checked")
        return 0
    if kind == "bool":  # YAML 1.2: only true and false (never yes/no/on/off)
        return text.lower() == "true" if text.lower() in ("true", "false") else text
    if kind == "null":
        return None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _int_digits(t: str) -> int:
    """How many significant digits the YAML integer `t` has (sign, 0x / 0o prefix and
    leading zeros aside): judged on the text, before int() reads it."""
    body = t.lstrip("+-").lower()
    if body.startswith(("0x", "0o")):
        body = body[2:]
    return len(body.lstrip("0"))


def _abridged(text: str, keep: int = 24) -> str:
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text):,} characters)"


def _parse_int(t: str) -> int | str:
    """A YAML 1.2 integer's value, or the text itself when it is not one."""
    try:
        if t.lower().startswith(("0x", "-0x", "+0x")):
            return int(t, 16)
        if t.lower().startswith(("0o", "-0o", "+0o")):
            return int(t.replace("o", "").replace("O", ""), 8)
        return int(t, 10)
    except ValueError:
        return t


class _Alias(Exception):
    """A node met twice: the document uses a YAML alias (`*name`)."""


def _convert(node, text: str, rep: Reporter, seen_nodes: set[int] | None = None) -> YNode:
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:
        raise _Alias()
    seen_nodes.add(id(node))
    if isinstance(node, ScalarNode):
        return YScalar(_scalar_value(node, rep), _pos(node.start_mark), node, text)
    _tag_ok(node, rep)
    if isinstance(node, SequenceNode):
        return YSeq([_convert(n, text, rep, seen_nodes) for n in node.value],
                    _pos(node.start_mark))
    if isinstance(node, MappingNode):
        items: list[tuple[YScalar, YNode]] = []
        seen: dict[object, Pos] = {}
        for knode, vnode in node.value:
            key = _convert(knode, text, rep, seen_nodes)
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
            value = _convert(vnode, text, rep, seen_nodes)
            if isinstance(value, YScalar) and vnode.value == "" and not vnode.style:
                value.pos = key.pos  # `guard:` with nothing after it: point at the key
            items.append((key, value))
        return YMap(items, _pos(node.start_mark))
    raise AssertionError(f"unexpected YAML node {node!r}")


def _scan(text: str):
    """YAML tokens of `text` up to the first error (for locating problems)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    out = []
    try:
        for tok in yaml.scan(text):
            out.append(tok)
    except YAMLError:
        pass
    return out


def _version_directive(text: str):
    """(version, position) of a `%YAML` directive asking for anything but 1.2, or None."""
    if "%YAML" not in text:
        return None
    for tok in _scan(text):
        if type(tok).__name__ == "DirectiveToken" and tok.name == "YAML" \
                and tuple(tok.value or ()) != (1, 2):
            return ".".join(map(str, tok.value or ())), _pos(tok.start_mark)
    return None


def _alias_pos(text: str) -> Pos:
    for tok in _scan(text):
        if type(tok).__name__ == "AliasToken":
            return _pos(tok.start_mark)
    return Pos(1, 1)


def _quote_before(text: str, mark):
    """The quoted scalar that ends on the error's line just before it, if any."""
    found = None
    for tok in _scan(text):
        if (tok.start_mark.line, tok.start_mark.column) >= (mark.line, mark.column):
            break
        if type(tok).__name__ == "ScalarToken" and getattr(tok, "style", None) in ('"', "'") \
                and tok.end_mark.line == mark.line:
            found = tok
    return found


_INDENT_HINT = ("keys of one mapping start in one column, and list items (`- `) in one "
                "column; indent with spaces only")
_QUOTE_HINT = ("quote any expression that starts with { [ or * or contains ': ' or ' #', "
               "or write it as a block scalar (`|`)")


def _yaml_problem(exc: MarkedYAMLError, text: str) -> tuple[str, object, str]:
    """A plain-words message, the mark to point at, and a hint for a YAML syntax error."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    context = exc.context or ""
    if "quoted scalar" in context and "end of stream" in problem:
        return ("this quoted value is never closed", exc.context_mark,
                "add the closing quote on the same line")
    if mark is not None and problem.startswith("expected <block end>"):
        tok = _quote_before(text, mark)
        if tok is not None and tok.start_mark.line < tok.end_mark.line:
            return (f"the quote opened here is not closed on its line, so the value runs on "
                    f"to line {tok.end_mark.line + 1}", tok.start_mark,
                    "add the closing quote; for an expression on several lines use a block "
                    "scalar (`|`)")
        if tok is not None:
            return ("more text after a closing quote", mark,
                    "quote the whole value, not a part of it: `guard: \"a == b\"`")
        return ("this line does not line up with the lines before it", mark, _INDENT_HINT)
    if "'\\t'" in problem:
        return "a tab character: YAML indents with spaces only", mark, "replace the tab with spaces"
    if problem.startswith("found character"):
        ch = problem.split("'")[1] if "'" in problem else "?"
        return (f"a plain value cannot start with '{ch}'", mark, _QUOTE_HINT)
    if problem == "mapping values are not allowed here":
        return ("a second ': ' on this line: YAML reads it as a nested mapping", mark,
                "quote the value (`effect: \"if c: x = 1\"`), write it as a block scalar (`|`), "
                "or check the indentation of this line")
    if "could not find expected ':'" in problem:
        return ("a line in a mapping without `key:`", exc.context_mark or mark,
                "write `key: value`; continue a long expression in a block scalar (`|`)")
    if "flow sequence" in context or "flow mapping" in context:
        opener, closer = ("[", "]") if "sequence" in context else ("{", "}")
        if "<stream end>" in problem or exc.problem_mark is None:
            return (f"the '{opener}' opened here is never closed", exc.context_mark or mark,
                    _QUOTE_HINT)
        start = exc.context_mark.line + 1 if exc.context_mark else mark.line + 1
        return (f"inside the '{opener}...{closer}' that starts on line {start}, YAML expected "
                f"',' or '{closer}' here", mark,
                "quote values inside it that start with { or [ or contain ': ', "
                "e.g. `type: \"[N]Health\"`")
    if "escape character" in problem:
        return (f"{problem} in a double-quoted value", mark,
                "inside double quotes '\\' starts an escape: use single quotes or no quotes")
    if "undefined alias" in problem:
        return ("'*' starts a YAML alias", mark, _QUOTE_HINT)
    return problem, mark, "check the indentation and " + _QUOTE_HINT


def _too_deep(yaml: YAML, text: str, deadline: Deadline) -> Pos | None:
    """Where mappings and lists first nest deeper than MAX_YAML_DEPTH, or None.  Reads the
    parser's events (an iterative state machine) before the recursive composer runs."""
    depth = 0
    for k, event in enumerate(yaml.parse(text)):
        if not k & 1023:
            deadline.check()
        name = type(event).__name__
        if name in ("MappingStartEvent", "SequenceStartEvent"):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                return _pos(event.start_mark)
        elif name in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1
    return None


def _tree_too_deep(docs) -> Pos | None:
    """Where composed mappings and lists first nest deeper than MAX_YAML_DEPTH, or None
    (an iterative walk: no recursion however deep the tree)."""
    stack = [(d, 1) for d in docs if d is not None]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ScalarNode) or id(node) in seen:   # an alias is met again
            continue
        seen.add(id(node))
        if depth > MAX_YAML_DEPTH:
            return _pos(node.start_mark)
        children = node.value if isinstance(node, SequenceNode) else \
            [x for pair in node.value for x in pair]
        stack.extend((c, depth + 1) for c in children)
    return None


def _reader_problem(exc: ReaderError) -> str:
    ch = exc.character
    code = ch if isinstance(ch, int) else ord(ch) if isinstance(ch, str) and ch else None
    if code is None:
        return exc.reason
    return f"the character U+{code:04X} is not allowed in YAML ({exc.reason})"


def _offset_pos(text: str, offset: int) -> Pos:
    """The line and column of character `offset` of `text`."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    return Pos(line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def read_yaml(text: str, rep: Reporter, deadline: Deadline = NO_DEADLINE) -> YNode | None:
    """Compose `text` as YAML 1.2 and convert it; problems go to `rep`."""
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    directive = _version_directive(text)
    if directive is not None:
        rep.error("DR101", f"a `%YAML {directive[0]}` directive: specs are read as YAML 1.2",
                  directive[1], "remove the directive (in YAML 1.2, yes/no/on/off are text "
                  "and 010 is 10)")
        return None
    try:
        try:
            docs = list(yaml.compose_all(text))
            deep = _tree_too_deep(docs)
        except RecursionError:    # nested far past the bound: find where, from the events
            docs, deep = [], _too_deep(yaml, text, deadline)
        if deep is not None:
            rep.error("DR110", f"mappings and lists are nested more than {MAX_YAML_DEPTH} deep "
                      "here", deep, "flatten the structure: a spec's sections nest a few "
                      "levels only")
            return None
        deadline.check()
    except ReaderError as exc:
        rep.error("DR101", f"YAML syntax error: {_reader_problem(exc)}",
                  _offset_pos(text, exc.position), "remove the character, or write it as an "
                  "escape inside double quotes (e.g. \"\\t\")")
        return None
    except MarkedYAMLError as exc:
        message, mark, hint = _yaml_problem(exc, text)
        rep.error("DR101", f"YAML syntax error: {message}", _pos(mark) if mark else None, hint)
        return None
    except YAMLError as exc:  # pragma: no cover - ruamel always marks its errors
        rep.error("DR101", f"YAML error: {exc}", None)
        return None
    docs = [d for d in docs if d is not None]
    if len(docs) != 1:
        if docs:
            rep.error("DR105", "a spec file holds exactly one YAML document",
                      _pos(docs[1].start_mark), "remove the extra `---` documents")
        else:
            rep.error("DR105", "the spec file is empty", Pos(1, 1),
                      "start it with `dnsrace: 1` and `name: my-spec`")
        return None
    try:
        return _convert(docs[0], text, rep)
    except _Alias:
        rep.error("DR106", "YAML aliases (*name) are not allowed in a spec", _alias_pos(text),
                  "write the value out in full: every value of a spec has one place in the file")
        return None
