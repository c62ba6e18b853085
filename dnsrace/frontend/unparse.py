"""Print an expression back in the spec language (for explanations and reports)."""

from __future__ import annotations

from . import syntax as S

# Binding strength, loosest first; mirrors grammar.lark.
_PREC = {"=>": 1, "if": 2, "or": 3, "and": 4, "not": 5, "cmp": 6, "|": 7, "&": 8, "..": 9,
         "+": 10, "-": 10, "*": 11, "//": 11, "%": 11, "neg": 12, "post": 13}


def _prec(e: S.Expr) -> int:
    match e:
        case S.BoolOp(op=op):
            return _PREC[op]
        case S.IfExp():
            return _PREC["if"]
        case S.Unary(op="not"):
            return _PREC["not"]
        case S.Unary():
            return _PREC["neg"]
        case S.Compare():
            return _PREC["cmp"]
        case S.BinOp(op=op):
            return _PREC[op]
    return 99


def unparse(e: S.Expr) -> str:
    def wrap(x: S.Expr, at_least: int) -> str:
        text = unparse(x)
        return f"({text})" if _prec(x) < at_least else text

    match e:
        case S.Num(value=v):
            return str(v)
        case S.BoolLit(value=v):
            return "true" if v else "false"
        case S.Name(id=n):
            return n
        case S.Attr(obj=o, attr=a):
            return f"{unparse(o)}.{a}"
        case S.Index(obj=o, index=i):
            return f"{wrap(o, 13)}[{unparse(i)}]"
        case S.Prime(expr=x):
            return f"{wrap(x, 13)}'"
        case S.Call(func=f, args=args):
            return f"{f}(" + ", ".join(unparse(a) for a in args) + ")"
        case S.Comprehension(kind=k, elem=el, clauses=cs):
            gens = " ".join(f"for {c.var} in {wrap(c.domain, 3)}"
                            + (f" if {wrap(c.cond, 3)}" if c.cond is not None else "")
                            for c in cs)
            body = f"{unparse(el)} {gens}"
            if k == "set":
                return "{" + body + "}"
            if k == "seq":
                return "[" + body + "]"
            return f"{k}({body})"
        case S.SetLit(elems=es):
            return "{" + ", ".join(unparse(x) for x in es) + "}"
        case S.SeqLit(elems=es):
            return "[" + ", ".join(unparse(x) for x in es) + "]"
        case S.Unary(op="not", operand=o):
            return f"not {wrap(o, _PREC['not'])}"
        case S.Unary(op="-", operand=o):
            return f"-{wrap(o, _PREC['neg'])}"
        case S.BinOp(op=op, left=l, right=r):
            p = _PREC[op]
            return f"{wrap(l, p)} {op} {wrap(r, p + 1)}"
        case S.BoolOp(op="=>", left=l, right=r):
            return f"{wrap(l, 2)} => {wrap(r, 1)}"
        case S.BoolOp(op=op, left=l, right=r):
            p = _PREC[op]
            return f"{wrap(l, p)} {op} {wrap(r, p + 1)}"
        case S.Compare(operands=os, ops=ops):
            out = wrap(os[0], 7)
            for op, x in zip(ops, os[1:]):
                out += f" {op} {wrap(x, 7)}"
            return out
        case S.IfExp(cond=c, then=t, orelse=o):
            return f"{wrap(t, 3)} if {wrap(c, 3)} else {wrap(o, 2)}"
    raise AssertionError(e)
