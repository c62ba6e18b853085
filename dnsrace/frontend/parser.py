"""Parse expression and effect text into the AST, mapping every node to its file position."""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Callable

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import DedentError, Indenter

from ..bounds import MAX_EXPR_DEPTH, MAX_EXPR_NODES, MAX_INT_DIGITS, MAX_INT_LITERAL
from ..diagnostics import Pos, SpecError, Diagnostic
from . import syntax as S

Locate = Callable[[int], Pos]

_TERMINAL_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "_NL": "a new line",
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'",
    "RBRACE": "'}'", "COLON": "':'", "COMMA": "','", "EQUAL": "'='", "PRIME": "a prime (')",
    "_INDENT": "an indented block", "_DEDENT": "the end of a block", "$END": "the end",
}


class _EffectIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB", "LBRACE"]
    CLOSE_PAREN_types = ["RPAR", "RSQB", "RBRACE"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8


@functools.cache
def _parser() -> Lark:
    grammar = resources.files(__package__).joinpath("grammar.lark").read_text()
    return Lark(grammar, parser="lalr", start=["effect", "expr_input"],
                postlex=_EffectIndenter(), propagate_positions=True, maybe_placeholders=True)


class _Build(Transformer):
    """Lark tree -> AST.  `loc(meta_or_token)` gives the file position."""

    def __init__(self, locate: Locate):
        super().__init__()
        self.locate = locate

    def at(self, item) -> Pos:
        if isinstance(item, Token):
            return self.locate(item.start_pos or 0)
        return self.locate(getattr(item, "start_pos", 0) or 0)

    # ---- expressions
    @v_args(meta=True)
    def num(self, meta, c):
        # leading zeros off first: `_check_size` let 0000...0 of any length through (its
        # value is small), but int() refuses a string of more than 4,300 digits
        return S.Num(self.at(meta), int(str(c[0]).lstrip("0") or "0"))

    @v_args(meta=True)
    def name(self, meta, c):
        return S.Name(self.at(meta), str(c[0]))

    @v_args(meta=True)
    def implies(self, meta, c):
        return S.BoolOp(self.at(meta), "=>", c[0], c[1])

    @v_args(meta=True)
    def ifexp(self, meta, c):
        then, cond, orelse = c
        return S.IfExp(self.at(meta), cond, then, orelse)

    @v_args(meta=True)
    def or_op(self, meta, c):
        return S.BoolOp(self.at(meta), "or", c[0], c[1])

    @v_args(meta=True)
    def and_op(self, meta, c):
        return S.BoolOp(self.at(meta), "and", c[0], c[1])

    @v_args(meta=True)
    def not_op(self, meta, c):
        return S.Unary(self.at(meta), "not", c[0])

    def comp_op(self, c):
        return " ".join(str(t) for t in c)

    @v_args(meta=True)
    def compare(self, meta, c):
        return S.Compare(self.at(meta), c[0::2], c[1::2])

    def or_sym(self, c):
        return str(c[0])

    and_sym = range_sym = add_op = mul_op = or_sym

    @v_args(meta=True)
    def binop(self, meta, c):
        return S.BinOp(self.at(meta), c[1], c[0], c[2])

    @v_args(meta=True)
    def neg(self, meta, c):
        operand = c[0]
        if isinstance(operand, S.Num):
            return S.Num(self.at(meta), -operand.value)
        return S.Unary(self.at(meta), "-", operand)

    @v_args(meta=True)
    def index(self, meta, c):
        return S.Index(self.at(meta), c[0], c[1])

    @v_args(meta=True)
    def prime(self, meta, c):
        return S.Prime(self.at(c[1]), c[0])

    @v_args(meta=True)
    def attr(self, meta, c):
        return S.Attr(self.at(c[1]), c[0], str(c[1]))

    @v_args(meta=True)
    def call(self, meta, c):
        args = [a for a in c[1:] if a is not None]
        return S.Call(self.at(meta), str(c[0]), args)

    def comp_for(self, c):
        name, domain, cond = c
        return S.Clause(str(name), self.at(name), domain, cond)

    @v_args(meta=True)
    def call_gen(self, meta, c):
        func = str(c[0])
        kind = func if func in ("all", "any", "min", "max") else "gen:" + func
        return S.Comprehension(self.at(meta), kind, c[1], list(c[2:]))

    @v_args(meta=True)
    def setlit(self, meta, c):
        return S.SetLit(self.at(meta), [x for x in c if x is not None])

    @v_args(meta=True)
    def seqlit(self, meta, c):
        return S.SeqLit(self.at(meta), [x for x in c if x is not None])

    @v_args(meta=True)
    def setcomp(self, meta, c):
        return S.Comprehension(self.at(meta), "set", c[0], list(c[1:]))

    @v_args(meta=True)
    def seqcomp(self, meta, c):
        return S.Comprehension(self.at(meta), "seq", c[0], list(c[1:]))

    def expr_input(self, c):
        return c[0]

    # ---- statements
    def assign_op(self, c):
        return str(c[0])

    @v_args(meta=True)
    def target(self, meta, c):
        attr = None
        rest = list(c[1:])
        if rest and isinstance(rest[0], Token):   # `P.pc[i]` or `P.x[i]`: a process's state
            attr = str(rest.pop(0))
        return (S.Name(self.at(c[0]), str(c[0])), attr, rest)

    @v_args(meta=True)
    def assign(self, meta, c):
        (name, attr, indices), op, value = c
        return S.Assign(self.at(meta), name, indices, op, value, attr)

    @v_args(meta=True)
    def assert_stmt(self, meta, c):
        msg = c[1]
        text = None
        if msg is not None:
            text = string_value(str(msg)[1:-1])
        return S.Assert(self.at(meta), c[0], text)

    @v_args(meta=True)
    def pass_stmt(self, meta, c):
        return S.Pass(self.at(meta))

    def suite(self, c):
        return [s for s in c if isinstance(s, S.Stmt)]

    def elif_clause(self, c):
        return (c[0], c[1])

    def else_clause(self, c):
        return ("else", c[0])

    @v_args(meta=True)
    def if_stmt(self, meta, c):
        branches = [(c[0], c[1])]
        orelse: list[S.Stmt] = []
        for extra in c[2:]:
            if extra is None:
                continue
            if extra[0] == "else":
                orelse = extra[1]
            else:
                branches.append(extra)
        return S.If(self.at(meta), branches, orelse)

    @v_args(meta=True)
    def for_stmt(self, meta, c):
        name, domain, body = c
        return S.For(self.at(meta), str(name), self.at(name), domain, body)

    def effect(self, c):
        return [s for s in c if isinstance(s, S.Stmt)]


_CHAR_HINTS = {
    '"': "strings are only allowed as the message of an `assert`",
    "^": "there is no '^' operator; sets use | & - and booleans use and/or/not",
    "/": "integer division is '//'",
    "!": "negation is `not`; inequality is '!='",
    "&": "conjunction is `and`",
    "=": "comparison is '=='",
    "@": "there are no decorators or matrix operators in a spec",
    "≤": "write '<='", "≥": "write '>='", "≠": "write '!='", "∧": "write `and`",
    "∨": "write `or`", "¬": "write `not`", "∈": "write `in`", "∉": "write `not in`",
    "→": "write '=>' for implication", "⇒": "write '=>' for implication",
    "∪": "write '|' for union", "∩": "write '&' for intersection",
}


def _syntax_error(exc: UnexpectedInput, text: str, locate: Locate, what: str, path) -> SpecError:
    offset = getattr(exc, "pos_in_stream", None)
    if isinstance(exc, UnexpectedToken) and exc.token is not None:
        offset, msg, hint = _unexpected_token(exc, text, what)
    elif isinstance(exc, UnexpectedCharacters):
        ch = text[offset] if offset is not None and offset < len(text) else "?"
        msg = f"syntax error in {what}: unexpected character '{ch}'"
        hint = _CHAR_HINTS.get(ch, "check the expression against the spec language")
    elif isinstance(exc, UnexpectedEOF):
        offset = len(text)
        msg = f"syntax error in {what}: it ends too early"
        hint = "an opening bracket or block has no end"
    else:  # pragma: no cover
        msg, hint = f"syntax error in {what}", None
    pos = locate(offset if offset is not None else 0)
    return SpecError([Diagnostic("DR202", msg, path, pos, hint)])


def _unexpected_token(exc: UnexpectedToken, text: str, what: str):
    """Offset, message and hint for a token the grammar does not expect there."""
    tok = exc.token
    offset = tok.start_pos if tok.start_pos is not None else len(text)
    if tok.type == "$END":
        found = "it ends too early"
        offset = len(text.rstrip())
    elif tok.type in ("_INDENT", "_DEDENT"):
        found = "unexpected indentation"
    elif tok.type == "_NL":
        found = "the line ends too early"
    elif tok.type == "STRING":
        found = f"unexpected string {tok}"
    else:
        found = f"unexpected '{tok}'"
    expected = sorted({_TERMINAL_NAMES.get(t, _quote_terminal(t)) for t in exc.expected
                       if not (what == "an expression" and t == "_NL")})
    hint = "expected " + ", ".join(expected[:8]) if expected else None
    before = text[:offset].rstrip(" \t")
    last_word = re.search(r"(\w+)\s*$", text[:offset])
    line_start = text.rfind("\n", 0, offset) + 1
    first_word = re.match(r"\s*(\w+)", text[line_start:offset + 1])
    if before.endswith("\n") and before.rstrip().endswith(":"):
        found = "expected an indented block after ':'"
        hint = "indent the lines of the block under `if`, `elif`, `else` or `for` " \
            "(Python's indentation rules)"
    elif tok.type == "_INDENT":
        hint = "this line is indented more than the one before it: line up the " \
            "statements of one block"
    elif first_word and first_word.group(1) in ("elif", "else") and what == "an effect":
        found = f"`{first_word.group(1)}` without an `if` before it"
        offset = line_start + first_word.start(1)
        hint = f"line `{first_word.group(1)}` up with its `if`, and keep it right after the " \
            "`if` block"
    elif "STRING" in exc.expected and tok.type not in ("_NL", "$END"):
        hint = "the message of an assert is a quoted string: `assert c, \"why\"`"
    elif tok.type == "STRING":
        hint = f"enumeration values and step names are written bare: {str(tok)[1:-1]}" \
            if re.fullmatch(r"[A-Za-z_]\w*", str(tok)[1:-1]) else \
            "strings are only allowed as the message of an `assert`"
    elif str(tok) in ("&", "|") and str(tok) in (text[offset - 1:offset],
                                                  text[offset + 1:offset + 2]):
        offset -= text[offset - 1:offset] == str(tok)
        found = f"unexpected '{str(tok) * 2}'"
        hint = f"write `{'and' if str(tok) == '&' else 'or'}`: '{tok}' alone is set " \
            f"{'intersection' if str(tok) == '&' else 'union'}"
    elif str(tok) == "=" and what == "an expression":
        hint = "use '==' to compare; assignments belong in `effect:`"
    elif str(tok) == "=" and before.endswith("="):
        hint = "compare with '=='"
    elif str(tok) == ".":
        hint = "attribute access is only `Process.pc[i]` or `Process.local[i]`"
    elif str(tok) in ("+", "-") and text[offset + 1:offset + 2] == str(tok) and last_word \
            and what == "an effect":
        found = f"`{str(tok) * 2}` is not an operator"
        hint = f"write `{last_word.group(1)} {tok}= 1`"
    elif last_word and last_word.group(1) in ("then", "elsif", "elseif", "end", "fi"):
        hint = "use Python's syntax: `if c:` ... `elif c:` ... `else:`, blocks by indentation"
    msg = f"syntax error in {what}: {found}"
    return offset, msg, hint


def _quote_terminal(name: str) -> str:
    try:
        pattern = _parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    if pattern.type == "str":
        return f"'{pattern.value}'"
    return name.lower()


_NOT_IN_LANGUAGE = re.compile(
    r"\b(import|from|lambda|def|class|while|return|yield|with|try|except|raise|global|"
    r"nonlocal|del|async|await|__\w+__)\b|\b(eval|exec|compile|getattr|setattr|open)(?=\s*\()")
_METHOD_CALL = re.compile(r"\b([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)+)\s*\(")
_METHOD_HINTS = {
    "add": "values have no methods: add to a set with `s |= {x}`",
    "append": "values have no methods: write `q = append(q, x)`",
    "remove": "values have no methods: remove from a set with `s = s - {x}`",
    "discard": "values have no methods: remove from a set with `s = s - {x}`",
    "pop": "values have no methods: read head(q), then write `q = tail(q)`",
}
_CODE_HINTS = {
    "eval": "a spec cannot evaluate text as code: write the expression itself",
    "exec": "a spec cannot evaluate text as code: write the statements themselves",
    "def": "name an expression under `define:` instead, e.g. `owns(w): \"lease == w\"`",
    "lambda": "name an expression under `define:` instead, e.g. `owns(w): \"lease == w\"`",
    "while": "loops are `for x in D:` over a finite domain, unrolled before checking",
    "return": "a define is one expression: write it under `define:`",
}


def _mask(text: str) -> str:
    """`text` with comments and double-quoted strings blanked out (offsets unchanged)."""
    out = list(text)
    k, n = 0, len(text)
    while k < n:
        ch = text[k]
        if ch == "#":
            while k < n and text[k] != "\n":
                out[k] = " "
                k += 1
            continue
        if ch == '"':
            k += 1
            while k < n and text[k] not in '"\n':
                out[k] = " "
                k += 2 if text[k] == "\\" else 1
        k += 1
    return "".join(out)


def _refuse_code(text: str, locate: Locate, what: str, path) -> None:
    """Name the construct when text that does not parse tries to write code."""
    masked = _mask(text)
    m = _NOT_IN_LANGUAGE.search(masked)
    if m:
        word = m.group(1) or m.group(2)
        raise SpecError([Diagnostic(
            "DR204", f"'{word}' cannot appear in {what}: it is not part of the spec language",
            path, locate(m.start()), _CODE_HINTS.get(word, "a spec cannot run code: use only "
                                                      "the expressions, statements and built-ins "
                                                      "of the spec language"))])
    m = _METHOD_CALL.search(masked)
    if m:
        called = re.sub(r"\s+", "", m.group(1))
        method = called.rsplit(".", 1)[1]
        raise SpecError([Diagnostic(
            "DR204", f"'{called}(...)' is a method call, which is not part of the spec language",
            path, locate(m.start()), _METHOD_HINTS.get(method, "a spec cannot run code: the only "
                                                       "calls are the built-ins (len, min, max, "
                                                       "abs, head, tail, append) and defines"))])


def _bad_dedent(text: str) -> int:
    """The offset of the first line that dedents to a column no enclosing block started at."""
    stack, depth, offset = [0], 0, 0
    for line in text.splitlines(keepends=True):
        body = line.strip()
        if body and not body.startswith("#") and depth == 0:
            col = len(line) - len(line.lstrip(" \t"))
            if col > stack[-1]:
                stack.append(col)
            while col < stack[-1]:
                stack.pop()
            if col != stack[-1]:
                return offset + col
        depth += sum(line.count(c) for c in "([{") - sum(line.count(c) for c in ")]}")
        depth = max(depth, 0)
        offset += len(line)
    return 0


_ESCAPE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|(.))", re.DOTALL)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


def string_value(body: str) -> str:
    """The text of a string literal's body: Python's common escapes decoded, any other
    character (non-ASCII ones included) kept as written; a lone surrogate becomes U+FFFD."""
    def one(m: re.Match) -> str:
        code = m.group(1) or m.group(2)
        if code is not None:
            c = chr(int(code, 16))
            return "\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c
        return _SIMPLE.get(m.group(3), m.group(0))
    return _ESCAPE.sub(one, body)


def _check_size(tree: Tree, locate: Locate, what: str, path) -> None:
    """Refuse a parse tree nested past MAX_EXPR_DEPTH or larger than MAX_EXPR_NODES, and
    integer literals of 2^63 or more, before the (recursive) transformer and checker see it.
    Lark's LALR parse is iterative; so is this walk."""
    nodes = 0
    stack: list[tuple[Tree | Token, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_EXPR_NODES:
            raise SpecError([Diagnostic(
                "DR211", f"{what} is too large: more than {MAX_EXPR_NODES:,} parts", path,
                locate(0), "split it into defines, or into several steps or properties")])
        if isinstance(node, Token):
            if node.type == "NUMBER":
                _check_literal(node, locate, path)
            continue
        if depth > MAX_EXPR_DEPTH:
            raise SpecError([Diagnostic(
                "DR211", f"{what} is nested more than {MAX_EXPR_DEPTH} deep", path, locate(0),
                "split it into defines; a long chain of one operator nests once per term, so "
                "group the terms, e.g. (a + b) + (c + d), or use a comprehension")])
        stack.extend((child, depth + 1) for child in node.children
                     if isinstance(child, (Tree, Token)))


def _check_literal(tok: Token, locate: Locate, path) -> None:
    digits = str(tok).lstrip("0")
    if len(digits) <= MAX_INT_DIGITS and int(digits or "0") < MAX_INT_LITERAL:
        return
    shown = str(tok) if len(tok) <= 24 else f"{str(tok)[:24]}... ({len(tok):,} digits)"
    raise SpecError([Diagnostic(
        "DR212", f"the integer {shown} is too large: integers in a spec are below 2^63 in "
        "magnitude", path, locate(tok.start_pos or 0),
        "use a smaller number: sizes and bounds that large cannot be checked")])


def parse_expr(text: str, locate: Locate, path: str | None = None) -> S.Expr:
    """Parse one expression.  Line breaks are read as spaces (offsets are unchanged)."""
    flat = text.replace("\r", " ").replace("\n", " ")
    try:
        tree = _parser().parse(flat, start="expr_input")
    except UnexpectedInput as exc:
        _refuse_code(flat, locate, "an expression", path)
        raise _syntax_error(exc, flat, locate, "an expression", path) from None
    _check_size(tree, locate, "this expression", path)
    return _Build(locate).transform(tree)


def parse_effect(text: str, locate: Locate, path: str | None = None) -> list[S.Stmt]:
    """Parse an effect block (Python's indentation rules)."""
    if not text.endswith("\n"):
        text += "\n"
    try:
        tree = _parser().parse(text, start="effect")
    except UnexpectedInput as exc:
        _refuse_code(text, locate, "an effect", path)
        raise _syntax_error(exc, text, locate, "an effect", path) from None
    except DedentError:
        _refuse_code(text, locate, "an effect", path)
        raise SpecError([Diagnostic(
            "DR202", "syntax error in an effect: this line's indentation matches no block "
            "above it", path, locate(_bad_dedent(text)),
            "line it up with the statements of the block it belongs to")]) from None
    _check_size(tree, locate, "this effect", path)
    return _Build(locate).transform(tree)
