"""The abstract syntax of expressions and effects, with a file position on every node.

The type checker fills in `type` on every expression and `ref` on every name; after that
the tree is the *typed AST* that lowering (and the test suite's reference evaluator) read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Pos


@dataclass(eq=False, slots=True)
class Expr:
    pos: Pos
    type: object = field(default=None, init=False, repr=False)


@dataclass(eq=False, slots=True)
class Num(Expr):
    value: int


@dataclass(eq=False, slots=True)
class BoolLit(Expr):
    value: bool


@dataclass(eq=False, slots=True)
class Name(Expr):
    id: str
    # Filled by the checker: what the name denotes (see `frontend.model.Ref`).
    ref: object = field(default=None, init=False, repr=False)


@dataclass(eq=False, slots=True)
class Attr(Expr):
    """`P.pc` or `P.x`: a process's program counters or local, as an array by instance."""

    obj: Expr
    attr: str
    ref: object = field(default=None, init=False, repr=False)


@dataclass(eq=False, slots=True)
class Index(Expr):
    obj: Expr
    index: Expr


@dataclass(eq=False, slots=True)
class Prime(Expr):
    expr: Expr


@dataclass(eq=False, slots=True)
class Call(Expr):
    func: str
    args: list[Expr]
    # Set for calls of defines: the define's name (the body is in the model).
    define: object = field(default=None, init=False, repr=False)


@dataclass(eq=False, slots=True)
class Clause:
    """One `for var in domain [if cond]` of a comprehension."""

    var: str
    var_pos: Pos
    domain: Expr
    cond: Expr | None


@dataclass(eq=False, slots=True)
class Comprehension(Expr):
    """`{e for ...}` (kind 'set'), `[e for ...]` ('seq'), `all(...)`, `any(...)`,
    and `min(...)`/`max(...)` over a generator (kinds 'min', 'max')."""

    kind: str
    elem: Expr
    clauses: list[Clause]


@dataclass(eq=False, slots=True)
class SetLit(Expr):
    elems: list[Expr]


@dataclass(eq=False, slots=True)
class SeqLit(Expr):
    elems: list[Expr]


@dataclass(eq=False, slots=True)
class Unary(Expr):
    op: str  # '-' | 'not'
    operand: Expr


@dataclass(eq=False, slots=True)
class BinOp(Expr):
    op: str  # + - * // % | & ..
    left: Expr
    right: Expr


@dataclass(eq=False, slots=True)
class BoolOp(Expr):
    op: str  # and | or | =>
    left: Expr
    right: Expr


@dataclass(eq=False, slots=True)
class Compare(Expr):
    """A chain `a < b <= c`: `ops[i]` compares `operands[i]` with `operands[i+1]`."""

    operands: list[Expr]
    ops: list[str]  # == != < <= > >= in 'not in'


@dataclass(eq=False, slots=True)
class IfExp(Expr):
    cond: Expr
    then: Expr
    orelse: Expr


# ---------------------------------------------------------------- statements


@dataclass(eq=False, slots=True)
class Stmt:
    pos: Pos


@dataclass(eq=False, slots=True)
class Assign(Stmt):
    """`target[i][j] op value`; op is '=', '+=', '-=', '|=' or '&='.  With `attr` set, the
    target is a process's state written by an action: `P.pc[i]` or `P.x[i]` (`target` names
    the process P, `attr` is 'pc' or the local, and the first index picks the instance)."""

    target: Name
    indices: list[Expr]
    op: str
    value: Expr
    attr: str | None = None

    @property
    def shown(self) -> str:
        """The target as written, without its indices."""
        return self.target.id if self.attr is None else f"{self.target.id}.{self.attr}"


@dataclass(eq=False, slots=True)
class If(Stmt):
    branches: list[tuple[Expr, list[Stmt]]]  # if and elif
    orelse: list[Stmt]


@dataclass(eq=False, slots=True)
class For(Stmt):
    var: str
    var_pos: Pos
    domain: Expr
    body: list[Stmt]


@dataclass(eq=False, slots=True)
class Assert(Stmt):
    cond: Expr
    message: str | None


@dataclass(eq=False, slots=True)
class Pass(Stmt):
    pass


def children(e: Expr):
    """The direct sub-expressions of `e`, in evaluation order."""
    match e:
        case Attr(obj=o):
            return [o]
        case Index(obj=o, index=i):
            return [o, i]
        case Prime(expr=x):
            return [x]
        case Call(args=a):
            return list(a)
        case Comprehension(elem=el, clauses=cs):
            out: list[Expr] = []
            for c in cs:
                out.append(c.domain)
                if c.cond is not None:
                    out.append(c.cond)
            out.append(el)
            return out
        case SetLit(elems=es) | SeqLit(elems=es):
            return list(es)
        case Unary(operand=o):
            return [o]
        case BinOp(left=l, right=r) | BoolOp(left=l, right=r):
            return [l, r]
        case Compare(operands=os):
            return list(os)
        case IfExp(cond=c, then=t, orelse=o):
            return [c, t, o]
    return []


def walk(e: Expr):
    """Every expression node under (and including) `e`, parents first."""
    stack = [e]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def walk_stmts(stmts: list[Stmt]):
    """Every statement in a block, nested ones included, in source order."""
    for s in stmts:
        yield s
        match s:
            case If(branches=bs, orelse=o):
                for _, body in bs:
                    yield from walk_stmts(body)
                yield from walk_stmts(o)
            case For(body=b):
                yield from walk_stmts(b)


def stmt_exprs(s: Stmt) -> list[Expr]:
    """The expressions a statement itself holds (not those of nested statements)."""
    match s:
        case Assign(indices=ix, value=v):
            return [*ix, v]
        case If(branches=bs):
            return [c for c, _ in bs]
        case For(domain=d):
            return [d]
        case Assert(cond=c):
            return [c]
    return []
