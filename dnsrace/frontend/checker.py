"""Name resolution and static type checking of expressions and effects.

Every `Name` gets a `Ref`, every expression a static type.  Problems are reported to the
`Reporter` (collected, not raised) so one run shows every mistake in a spec.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..bounds import MAX_EXPANDED_DEPTH
from ..diagnostics import Reporter, did_you_mean
from . import syntax as S
from .model import Define, Ref
from .types import (ANY, BOOL, INT, AnyT, ArrayT, BoolT, IntT, ScalarsetT, SeqT, SetT, SymT,
                    Type, compatible, describe, scalarset_in)

BUILTINS = {"len": (1, 1), "min": (1, 2), "max": (1, 2), "abs": (1, 1), "head": (1, 1),
            "tail": (1, 1), "append": (2, 2)}
USAGE = {"len": "len(s)", "min": "min(S) or min(a, b)", "max": "max(S) or max(a, b)",
         "abs": "abs(n)", "head": "head(s)", "tail": "tail(s)", "append": "append(s, x)"}
PYTHON_FUNCTIONS = {
    "print": "a spec cannot print; check a condition with `assert c, \"why\"` in an effect",
    "range": "write the inclusive range LO..HI, e.g. 0..N-1",
    "sum": "there is no sum(); count with len({x for x in D if c})",
    "sorted": "sets have no order to sort; iteration is in ascending order already",
    "set": "write a set as {a, b} or {e for x in D}; {} is the empty set",
    "list": "write a sequence as [a, b] or [e for x in D]; [] is the empty sequence",
    "int": "values are not converted: `1 if c else 0` turns a condition into a number",
    "bool": "values are not converted: compare instead, e.g. `n > 0`",
}
WANT_HINT = {
    "bool": "write a condition: a comparison such as `x > 0`, or and/or/not of conditions",
    "int": "write an integer expression; len(...) counts a set or a sequence",
    "symbol": "write a step name, `done`, an enumeration value, or an expression giving one",
    "set": "write a set: {a, b}, LO..HI, an enumeration name or {e for x in D}",
    "seq": "write a sequence: [a, b] or [e for x in D]",
}

RESERVED = frozenset("""
False None True and as assert async await break class continue def del elif else except
finally for from global if import in is lambda nonlocal not or pass raise return try while
with yield match case type _
true false self pc done all any len min max abs head tail append bool int set seq of always
eventually leads_to recoverable""".split()) - {"match", "case", "type", "_"}


@dataclass
class Binding:
    ref: Ref
    type: Type


class Scope:
    """A chain of name tables; the innermost binding wins."""

    def __init__(self, names: dict[str, Binding], parent: "Scope | None" = None,
                 *, process: str | None = None, primes: bool | None = None,
                 in_define: bool = False, in_prime: bool = False):
        self.names = names
        self.parent = parent
        self.process = process if process is not None else (parent.process if parent else None)
        self.primes = primes if primes is not None else (parent.primes if parent else False)
        self.in_define = in_define or (parent.in_define if parent else False)
        self.in_prime = in_prime or (parent.in_prime if parent else False)

    def lookup(self, name: str) -> Binding | None:
        s: Scope | None = self
        while s is not None:
            if name in s.names:
                return s.names[name]
            s = s.parent
        return None

    def child(self, names: dict[str, Binding], **kw) -> "Scope":
        return Scope(names, self, **kw)

    def visible(self) -> set[str]:
        out: set[str] = set()
        s: Scope | None = self
        while s is not None:
            out |= set(s.names)
            s = s.parent
        return out


def elem_type(t: Type) -> Type | None:
    """The element type when iterating over (or testing membership in) a value of type t."""
    if isinstance(t, (SetT, SeqT, ArrayT)):
        return t.elem
    if isinstance(t, AnyT):
        return ANY
    return None


class Checker:
    """Types expressions and statements in a scope; one instance per spec."""

    def __init__(self, rep: Reporter, defines: dict[str, Define], global_scope: Scope):
        self.rep = rep
        self.defines = defines
        self.globals = global_scope
        self._define_cache: dict[tuple, Type] = {}
        self._define_stack: list[str] = []
        self._recursive: set[str] = set()
        self._depth = 0   # expressions being typed, one inside the other
        self._too_deep = False

    # ------------------------------------------------------------ helpers
    def _err(self, code: str, msg: str, node, hint: str | None = None) -> Type:
        self.rep.error(code, msg, node.pos, hint)
        return ANY

    def expect(self, e: S.Expr, scope: Scope, want: str, what: str) -> Type:
        """Type `e` and require a kind ('int', 'bool', 'symbol', 'set', 'seq')."""
        return self.require(self.expr(e, scope), e, want, what)

    def require(self, t: Type, e: S.Expr, want: str, what: str) -> Type:
        """Require a kind of `e`, already typed `t` (see `expect`)."""
        if isinstance(t, AnyT):
            return t
        ok = {"int": IntT, "bool": BoolT, "symbol": SymT, "set": SetT, "seq": SeqT}[want]
        if want == "int" and isinstance(t, ScalarsetT):
            return self.not_an_integer(t, e, what)
        if not isinstance(t, ok):
            self._err("DR203", f"{what} must be {_a(want)}, but this is {_a(describe(t))}", e,
                      WANT_HINT[want])
            return ANY
        return t

    def not_an_integer(self, t: ScalarsetT, e, what: str) -> Type:
        return self._err("DR334", f"{what} must be an int, but this is a value of scalarset "
                         f"{t.name}, which is not a number", e, SCALARSET_HINT)

    def declare(self, name: str, pos, scope: Scope, what: str) -> bool:
        """Check that a new local name neither is reserved nor shadows a visible one."""
        if name in RESERVED:
            self.rep.error("DR306", f"'{name}' is reserved and cannot name {what}", pos,
                           "choose another name")
            return False
        b = scope.lookup(name)
        if b is not None:
            self.rep.error("DR208", f"{what} '{name}' reuses the name of {kind_word(b.ref.kind)}",
                           pos, "rename it: shadowing is an error in the spec language")
            return False
        return True

    # ------------------------------------------------------------ names
    def name(self, e: S.Name, scope: Scope) -> Type:
        if e.id in ("true", "True"):
            e.ref = Ref("bool", value=True)
            return BOOL
        if e.id in ("false", "False"):
            e.ref = Ref("bool", value=False)
            return BOOL
        if e.id in ("self", "pc"):
            if scope.in_define:
                return self._err("DR204", f"`{e.id}` cannot be used in a define", e,
                                 f"pass it as an argument: `f(w): ...`, called as f({e.id})")
            if scope.process is None:
                return self._err("DR204", f"`{e.id}` is only defined inside a process's steps", e,
                                 "elsewhere, read a process's state as `P.pc[i]` or `P.x[i]`")
            e.ref = Ref(e.id, process=scope.process)
            return scope.lookup("\0" + e.id).type
        b = scope.lookup(e.id)
        if b is None and e.id in ("any", "choose", "nondet", "random", "arbitrary"):
            return self._err("DR201", f"unknown name '{e.id}': there is no nondeterministic "
                             "value", e, "give the step or action parameters (`params: {v: "
                             "\"0..3\"}`, one transition per value) or `either` branches, "
                             "and assign the parameter")
        if b is None:
            hint = did_you_mean(e.id, [n for n in scope.visible() if not n.startswith("\0")])
            return self._err("DR201", f"unknown name '{e.id}'", e,
                             hint or "declare it under constants, variables, types or define")
        if b.ref.kind == "broken":
            e.ref = b.ref
            return ANY  # its declaration was rejected, and reported, already
        if b.ref.kind == "action":
            return self._err("DR203", f"'{e.id}' is an action, not a value", e,
                             "an action is a transition; read the variables it writes")
        if b.ref.kind == "process" and self.globals.lookup("\0scalarset:" + e.id) is not None:
            b = self.globals.lookup("\0scalarset:" + e.id)   # the type of the same name
        elif b.ref.kind == "process":
            return self._err("DR203", f"'{e.id}' is a process, not a value", e,
                             f"read its state as `{e.id}.pc[i]` or `{e.id}.<local>[i]`")
        if b.ref.kind == "define":
            d = self.defines[e.id]
            if d.params:
                return self._err("DR206", f"define '{e.id}' takes {_args(len(d.params))}, so it "
                                 "cannot be used by its bare name", e,
                                 f"call it as {e.id}({', '.join(d.params)})")
            e.ref = b.ref
            return self.define_body(d, [], e)
        e.ref = b.ref
        return b.type

    def attr(self, e: S.Attr, scope: Scope) -> Type:
        obj = e.obj
        b = scope.lookup(obj.id) if isinstance(obj, S.Name) else None
        if b is None or b.ref.kind != "process":
            what = f"'{obj.id}' is not a process" if isinstance(obj, S.Name) else \
                "only a process has attributes"
            return self._err("DR204", f"attribute access `.{e.attr}` is not allowed: {what}", e,
                             "values have no attributes or methods; only `Process.pc[i]` and "
                             "`Process.local[i]` use '.', to read a process's state")
        proc = b.ref.name
        info_binding = self.globals.lookup("\0proc:" + proc)
        if info_binding is None:  # the process itself was rejected (and reported)
            return ANY
        info = info_binding.type  # dict of attr -> ArrayT
        obj.ref = b.ref
        if e.attr not in info:
            return self._err("DR201", f"process '{proc}' has no local '{e.attr}'", e,
                             did_you_mean(e.attr, info, "its locals") or "`pc` is always there")
        e.ref = Ref("procpc", process=proc) if e.attr == "pc" else \
            Ref("proclocal", name=e.attr, process=proc)
        return info[e.attr]

    # ------------------------------------------------------------ expressions
    def expr(self, e: S.Expr, scope: Scope) -> Type:
        if self._depth >= MAX_EXPANDED_DEPTH:
            t = ANY
            if not self._too_deep:   # once: every branch past the bound would say it again
                self._too_deep = True
                self._err("DR213", f"expressions are nested more than {MAX_EXPANDED_DEPTH} deep "
                          "here, counting the defines expanded in place", e,
                          "flatten the defines: a define that uses a define that uses a define "
                          "... nests each body inside the one before")
        else:
            self._depth += 1
            try:
                t = self._expr(e, scope)
            finally:
                self._depth -= 1
        e.type = t
        return t

    def _expr(self, e: S.Expr, scope: Scope) -> Type:
        match e:
            case S.Num():
                return INT
            case S.BoolLit():
                return BOOL
            case S.Name():
                return self.name(e, scope)
            case S.Attr():
                return self.attr(e, scope)
            case S.Index(obj=o, index=i):
                return self.index(e, o, i, scope)
            case S.Prime(expr=x):
                if scope.in_prime:
                    return self._err("DR209", "a primed expression cannot be primed again", e,
                                     "x' is already the value after the step; remove the "
                                     "second prime")
                if not scope.primes:
                    return self._err("DR209", "a primed expression (x') is only allowed under "
                                     "`transitions:`", e, "invariants, guards and effects read "
                                     "one state; relate two states in a `transitions:` property")
                return self.expr(x, scope.child({}, primes=False, in_prime=True))
            case S.Call():
                return self.call(e, scope)
            case S.Comprehension():
                return self.comprehension(e, scope)
            case S.SetLit(elems=es):
                return SetT(self._common(es, scope, "set elements"))
            case S.SeqLit(elems=es):
                return SeqT(self._common(es, scope, "sequence elements"))
            case S.Unary(op="-", operand=o):
                t = self.expr(o, scope)   # typed once: nested minuses stay linear
                if not self.no_scalarset_arith([(o, t)], "unary '-'"):
                    self.require(t, o, "int", "the operand of unary '-'")
                return INT
            case S.Unary(op="not", operand=o):
                self.expect(o, scope, "bool", "the operand of `not`")
                return BOOL
            case S.BinOp():
                return self.binop(e, scope)
            case S.BoolOp(op=op, left=l, right=r):
                self.expect(l, scope, "bool", f"the left side of `{op}`")
                self.expect(r, scope, "bool", f"the right side of `{op}`")
                return BOOL
            case S.Compare():
                return self.compare(e, scope)
            case S.IfExp(cond=c, then=t, orelse=o):
                self.expect(c, scope, "bool", "the condition of `if ... else`")
                tt, to = self.expr(t, scope), self.expr(o, scope)
                if _mixes_scalarset(tt, to):
                    self._err("DR333", f"the two branches of `if ... else` differ: "
                              f"{describe(tt)} and {describe(to)}", e, _scalarset_mix(tt, to))
                elif not compatible(tt, to):
                    self._err("DR203", f"the two branches of `if ... else` differ: "
                              f"{describe(tt)} and {describe(to)}", e,
                              "both branches must give a value of one type")
                return tt if not isinstance(tt, AnyT) else to
        return self._err("DR204", "this expression is not part of the spec language", e,
                         "see the Expressions section of the spec language")

    def _common(self, es: list[S.Expr], scope: Scope, what: str) -> Type:
        t: Type = ANY
        for x in es:
            tx = self.expr(x, scope)
            if isinstance(t, AnyT):
                t = tx
            elif _mixes_scalarset(t, tx):
                self._err("DR333", f"{what} must all have one type: {describe(t)} and "
                          f"{describe(tx)} are mixed", x, _scalarset_mix(t, tx))
            elif not compatible(t, tx):
                self._err("DR203", f"{what} must all have one type: {describe(t)} and "
                          f"{describe(tx)} are mixed", x, "a set or sequence holds values of "
                          "one type only")
        return t

    def index(self, e, o, i, scope) -> Type:
        to = self.expr(o, scope)
        ti = self.expr(i, scope)
        if isinstance(to, AnyT):
            return ANY
        if isinstance(to, ArrayT):
            if self.scalarset_index(to.key, ti, i):
                return to.elem
            want = "symbol" if isinstance(to.key, SymT) else "int"
            if not isinstance(ti, AnyT) and describe(ti) != want:
                self._err("DR203", f"this array is indexed by {_a(want)}, not by "
                          f"{_a(describe(ti))}", i, f"its indices are {to.key}")
            return to.elem
        if isinstance(to, SeqT):
            if isinstance(ti, ScalarsetT):
                self.not_an_integer(ti, i, "a sequence's index")
            elif not isinstance(ti, (IntT, AnyT)):
                self._err("DR203", f"a sequence is indexed by an int, not by {_a(describe(ti))}",
                          i, "a sequence's indices are 0..len(s)-1")
            return to.elem
        return self._err("DR203", f"only arrays and sequences can be indexed; this is "
                         f"{_a(describe(to))}", o, _index_hint(to))

    def scalarset_index(self, key: Type, ti: Type, i: S.Expr) -> bool:
        """Check an index where the array's indices or the index are a scalarset's
        identities (True: checked here, reported or fine)."""
        if isinstance(key, ScalarsetT):
            if isinstance(ti, AnyT) or compatible(key, ti):
                return True
            if isinstance(ti, ScalarsetT):
                self._err("DR333", f"this array is indexed by {key.name}, not by the other "
                          f"scalarset {ti.name}", i, "the identities of two scalarsets are "
                          "never interchangeable")
            else:
                self._err("DR333", f"this array is indexed by {key.name}, not by "
                          f"{_a(describe(ti))}", i, f"an index names one identity of "
                          f"{key.name}: use a parameter, `self` or a loop over {key.name}; "
                          "identities have no literals")
            return True
        if isinstance(ti, ScalarsetT) and isinstance(key, IntT):
            self.not_an_integer(ti, i, "this array's index")
            return True
        return False

    def binop(self, e: S.BinOp, scope: Scope) -> Type:
        op = e.op
        if op == "..":
            tl, tr = self.expr(e.left, scope), self.expr(e.right, scope)
            if self.no_scalarset_arith([(e.left, tl), (e.right, tr)], "`..`"):
                return ANY
            self.require(tl, e.left, "int", "the low end of a range")
            self.require(tr, e.right, "int", "the high end of a range")
            return SetT(INT)
        tl = self.expr(e.left, scope)
        tr = self.expr(e.right, scope)
        if isinstance(tl, AnyT) or isinstance(tr, AnyT):
            return tl if not isinstance(tl, AnyT) else tr
        if op in ("|", "&", "-") and isinstance(tl, SetT):
            if _mixes_scalarset(tl, tr):
                return self._err("DR333", f"'{op}' needs two sets of one type, not "
                                 f"{describe(tl)} and {describe(tr)}", e, _scalarset_mix(tl, tr))
            if not isinstance(tr, SetT) or not compatible(tl, tr):
                return self._err("DR203", f"'{op}' needs two sets of one type, not "
                                 f"{describe(tl)} and {describe(tr)}", e,
                                 "to add or remove one element x, write {x}")
            return tl if not isinstance(tl.elem, AnyT) else tr
        if isinstance(tl, ScalarsetT) or isinstance(tr, ScalarsetT):
            bad, tb = (e.left, tl) if isinstance(tl, ScalarsetT) else (e.right, tr)
            return self._err("DR332", f"'{op}' is arithmetic, and this is a value of scalarset "
                             f"{tb.name}", bad, SCALARSET_HINT)
        if op in ("|", "&"):
            return self._err("DR203", f"'{op}' is set union/intersection, not "
                             f"{_a(describe(tl))} operator", e,
                             f"use `{'or' if op == '|' else 'and'}` for booleans")
        if not isinstance(tl, IntT) or not isinstance(tr, IntT):
            bad = e.left if not isinstance(tl, IntT) else e.right
            tb = tl if not isinstance(tl, IntT) else tr
            return self._err("DR203", f"'{op}' needs integers, but this is "
                             f"{_a(describe(tb))}", bad, _arith_hint(op, tb))
        return INT

    def no_scalarset_arith(self, typed: list, what: str) -> bool:
        """Report the first operand (an (expression, type) pair of a `..` or a unary '-')
        that is a scalarset value."""
        for x, t in typed:
            if isinstance(t, ScalarsetT):
                self._err("DR332", f"{what} needs integers, and this is a value of scalarset "
                          f"{t.name}", x, SCALARSET_HINT)
                return True
        return False

    def compare(self, e: S.Compare, scope: Scope) -> Type:
        types = [self.expr(x, scope) for x in e.operands]
        for k, op in enumerate(e.ops):
            a, b = types[k], types[k + 1]
            node = e.operands[k + 1]
            if isinstance(a, AnyT) or isinstance(b, AnyT):
                continue
            if self.scalarset_compare(op, a, b, e.operands[k], node):
                continue
            if op in ("in", "not in"):
                el = elem_type(b)
                if el is None:
                    self._err("DR203", f"`{op}` needs a set or a sequence on its right, not "
                              f"{_a(describe(b))}", node, "to compare two values, use '==' or "
                              "'!='; a range LO..HI is a set")
                elif not compatible(a, el):
                    self._err("DR203", f"{_a(describe(a))} can never be in a collection of "
                              f"{describe(el)}", e.operands[k],
                              "the value and the collection's elements must have one type")
            elif op in ("==", "!="):
                if not compatible(a, b):
                    self._err("DR203", f"cannot compare {_a(describe(a))} with "
                              f"{_a(describe(b))}", node, _compare_hint(op, a, b))
            else:
                if isinstance(a, SetT) and isinstance(b, SetT) and compatible(a, b):
                    continue
                if not isinstance(a, IntT) or not isinstance(b, IntT):
                    self._err("DR203", f"'{op}' orders integers (or compares sets), not "
                              f"{describe(a)} and {describe(b)}", node,
                              _compare_hint(op, a, b))
        return BOOL

    def scalarset_compare(self, op: str, a: Type, b: Type, left, right) -> bool:
        """Check a comparison with a scalarset value on a side (True: checked here)."""
        if op in ("in", "not in"):
            el = elem_type(b)
            if el is None or isinstance(el, AnyT) or compatible(a, el) or \
                    not (isinstance(a, ScalarsetT) or isinstance(el, ScalarsetT)):
                return False
            self._err("DR333", f"{_a(describe(a))} can never be in a collection of "
                      f"{describe(el)}", left, _scalarset_mix(a, el))
            return True
        if op in ("==", "!=") and _mixes_scalarset(a, b):
            self._err("DR333", f"cannot compare {_a(describe(a))} with {_a(describe(b))}",
                      right, _scalarset_mix(a, b))
            return True
        if not (isinstance(a, ScalarsetT) or isinstance(b, ScalarsetT)):
            return False
        if op not in ("==", "!="):
            t = a if isinstance(a, ScalarsetT) else b
            self._err("DR331", f"'{op}' orders values, and scalarset {t.name} has no order",
                      left if t is a else right, "compare identities with == and != only: "
                      "a scalarset's identities are interchangeable")
            return True
        return True

    def call(self, e: S.Call, scope: Scope) -> Type:
        f = e.func
        if f in self.defines and scope.lookup(f) is not None and scope.lookup(f).ref.kind == "define":
            return self.call_define(e, scope)
        if f not in BUILTINS:
            if f in ("all", "any"):
                return self._err("DR202", f"`{f}` takes a generator, not a list of arguments", e,
                                 f"write {f}(c for x in D)")
            known = list(BUILTINS) + [d for d in self.defines if self.defines[d].params]
            for a in e.args:
                self.expr(a, scope)
            return self._err("DR205", f"unknown function '{f}'", e,
                             PYTHON_FUNCTIONS.get(f) or did_you_mean(f, known, "the functions are")
                             or "the built-ins are len, min, max, abs, head, tail, append")
        lo, hi = BUILTINS[f]
        if not lo <= len(e.args) <= hi:
            n = f"{lo}" if lo == hi else f"{lo} or {hi}"
            plural = "s" if hi > 1 else ""
            for a in e.args:
                self.expr(a, scope)
            return self._err("DR206", f"{f}() takes {n} argument{plural}, not {len(e.args)}", e,
                             f"call it as {USAGE[f]}")
        ts = [self.expr(a, scope) for a in e.args]
        if any(isinstance(t, AnyT) for t in ts):
            return ANY if f not in ("len", "abs") else INT
        a0 = ts[0]
        if f == "len":
            if not isinstance(a0, (SeqT, SetT, ArrayT)):
                return self._err("DR203", f"len() needs a sequence, set or array, not "
                                 f"{_a(describe(a0))}", e.args[0], "call it as len(s)")
            return INT
        if f in ("abs", "min", "max"):
            for a, t in zip(e.args, ts):
                s_t = t if isinstance(t, ScalarsetT) else \
                    t.elem if isinstance(t, SetT) and isinstance(t.elem, ScalarsetT) else None
                if s_t is not None:
                    return self._err("DR332", f"{f}() needs integers, and scalarset {s_t.name} "
                                     "has no order and no arithmetic", a, SCALARSET_HINT)
        if f == "abs":
            self._need(a0, IntT, e.args[0], "abs()", "an int")
            return INT
        if f in ("min", "max"):
            if len(ts) == 2:
                self._need(a0, IntT, e.args[0], f"{f}()", "an int")
                self._need(ts[1], IntT, e.args[1], f"{f}()", "an int")
                return INT
            if not isinstance(a0, SetT) or not isinstance(a0.elem, (IntT, AnyT)):
                return self._err("DR203", f"{f}() takes a set of integers or two integers, not "
                                 f"{_a(describe(a0))}", e.args[0], f"call it as {USAGE[f]}")
            return INT
        if not isinstance(a0, SeqT):
            return self._err("DR203", f"{f}() needs a sequence, not {_a(describe(a0))}", e.args[0],
                             f"call it as {USAGE[f]}")
        if f == "head":
            return a0.elem
        if f == "tail":
            return SeqT(a0.elem)
        if _mixes_scalarset(a0.elem, ts[1]):
            self._err("DR333", f"cannot append {_a(describe(ts[1]))} to a {describe(a0)}",
                      e.args[1], _scalarset_mix(a0.elem, ts[1]))
        elif not compatible(a0.elem, ts[1]):
            self._err("DR203", f"cannot append {_a(describe(ts[1]))} to a {describe(a0)}", e.args[1],
                      "the appended value must have the type of the sequence's elements")
        return SeqT(a0.elem if not isinstance(a0.elem, AnyT) else ts[1])

    def _need(self, t, cls, node, where, what):
        if not isinstance(t, (cls, AnyT)):
            self._err("DR203", f"{where} needs {what}, not {_a(describe(t))}", node,
                      f"call it as {USAGE[where[:-2]]}")

    def call_define(self, e: S.Call, scope: Scope) -> Type:
        d = self.defines[e.func]
        if len(e.args) != len(d.params):
            for a in e.args:
                self.expr(a, scope)
            return self._err("DR206", f"define '{d.name}' takes {_args(len(d.params))}, "
                             f"not {len(e.args)}", e, f"call it as {d.name}({', '.join(d.params)})")
        e.define = d.name
        ts = [self.expr(a, scope) for a in e.args]
        return self.define_body(d, ts, e)

    def define_body(self, d: Define, arg_types: list[Type], at) -> Type:
        key = (d.name, tuple(arg_types))
        if key in self._define_cache:
            return self._define_cache[key]
        if d.name in self._define_stack:
            if d.name in self._recursive:
                return ANY
            self._recursive.add(d.name)
            cycle = " -> ".join(self._define_stack[self._define_stack.index(d.name):] + [d.name])
            return self._err("DR210", f"define '{d.name}' is recursive ({cycle})", at,
                             "defines are expanded in place, so they cannot call themselves; "
                             "use a comprehension or a quantifier over a finite domain instead")
        self._define_stack.append(d.name)
        names = {p: Binding(Ref("defarg", name=p), t) for p, t in zip(d.params, arg_types)}
        scope = Scope(names, self.globals, in_define=True)
        t = self.expr(d.body, scope)
        self._define_stack.pop()
        self._define_cache[key] = t
        return t

    def comprehension(self, e: S.Comprehension, scope: Scope) -> Type:
        inner = scope
        for c in e.clauses:
            td = self.expr(c.domain, inner)
            el = elem_type(td)
            if el is None:
                self._err("DR203", f"a comprehension ranges over a set or a sequence, not "
                          f"{_a(describe(td))}", c.domain, "for a range of integers write LO..HI")
                el = ANY
            if not self.declare(c.var, c.var_pos, inner, "the bound variable"):
                el = ANY
            inner = inner.child({c.var: Binding(Ref("bound", name=c.var), el)})
            if c.cond is not None:
                self.expect(c.cond, inner, "bool", "the filter of a comprehension")
        kind = e.kind
        if kind.startswith("gen:"):
            return self._err("DR205", f"'{kind[4:]}' cannot take a generator", e,
                             PYTHON_FUNCTIONS.get(kind[4:]) or
                             "generators go in all(...), any(...), min(...), max(...)")
        if kind in ("all", "any"):
            self.expect(e.elem, inner, "bool", f"the condition of {kind}()")
            return BOOL
        if kind in ("min", "max"):
            self.expect(e.elem, inner, "int", f"the values of {kind}()")
            return INT
        te = self.expr(e.elem, inner)
        if kind != "set":
            self.no_order_of_identities(e, inner)
        return SetT(te) if kind == "set" else SeqT(te)

    def no_order_of_identities(self, e: S.Comprehension, scope: Scope) -> None:
        """A sequence built over a set of identities would put them in an order."""
        for c in e.clauses:
            s_t = _ordered_by_identity(c.domain.type)
            if s_t is not None:
                self._err("DR336", f"a sequence built by iterating over this would list "
                          f"{s_t.name}'s identities in an order, and they have none",
                          c.domain, "build a set instead ({... for x in D}), or test the "
                          "elements with all(...)/any(...)")
                return

    # ------------------------------------------------------------ effects
    def block(self, stmts: list[S.Stmt], scope: Scope) -> None:
        for s in stmts:
            self.stmt(s, scope)

    def stmt(self, s: S.Stmt, scope: Scope) -> None:
        match s:
            case S.Assign():
                self.assign(s, scope)
            case S.If(branches=bs, orelse=o):
                for c, body in bs:
                    self.expect(c, scope, "bool", "an `if` condition")
                    self.block(body, scope)
                self.block(o, scope)
            case S.For(var=v, var_pos=vp, domain=d, body=b):
                td = self.expr(d, scope)
                el = elem_type(td)
                if el is None:
                    self._err("DR203", f"`for` ranges over a set or a sequence, not "
                              f"{_a(describe(td))}", d, "for a range of integers write LO..HI")
                    el = ANY
                if not self.declare(v, vp, scope, "the loop variable"):
                    el = ANY
                self.block(b, scope.child({v: Binding(Ref("bound", name=v), el)}))
                if isinstance(el, ScalarsetT) and isinstance(td, SetT):
                    self.check_scalarset_loop(s, el)
                elif isinstance(td, ArrayT) and isinstance(td.key, ScalarsetT):
                    self._err("DR336", f"`for` over an array indexed by {td.key.name} visits "
                              "its elements in an order of the identities, and they have none",
                              d, f"loop over the identities instead: `for {v} in "
                              f"{td.key.name}:` and read the element at `{v}`")
            case S.Assert(cond=c):
                self.expect(c, scope, "bool", "an assertion")
            case S.Pass():
                pass

    def check_scalarset_loop(self, loop: S.For, t: ScalarsetT) -> None:
        """In `for x in S`, the order of the iterations must not matter: the body assigns
        only elements indexed by x itself, and reads no array it assigns at another index."""
        written = set()
        for s in S.walk_stmts(loop.body):
            if not isinstance(s, S.Assign):
                continue
            first = s.indices[0] if s.indices else None
            if not (isinstance(first, S.Name) and first.id == loop.var):
                self.rep.error("DR336", f"`for {loop.var} in {t.name}` may assign only "
                               f"elements indexed by {loop.var}, and this assigns "
                               f"`{s.shown}{'[...]' if s.indices else ''}`", s.target.pos,
                               "the iterations over a scalarset come in no meaningful order: "
                               f"write `a[{loop.var}] = ...` in the loop, or assign after it")
                return
            written.add((s.target.id, s.attr))
        for s in S.walk_stmts(loop.body):
            for e in S.stmt_exprs(s):
                bad = self._read_elsewhere(e, written, loop.var, set())
                if bad is not None:
                    self.rep.error("DR336", f"`for {loop.var} in {t.name}` assigns "
                                   f"'{bad[1]}' and reads it at another index than "
                                   f"{loop.var}", bad[0],
                                   "an iteration would see what an earlier one wrote, so the "
                                   f"order of {t.name}'s identities would matter: read "
                                   f"only `{bad[1]}[{loop.var}]` in the loop")
                    return

    def _read_elsewhere(self, e: S.Expr, written: set, var: str, seen: set):
        """(pos, name) of a read of a `written` array in `e` that is not at index `var`."""
        def key(x):
            if isinstance(x, S.Name):
                return (x.id, None)
            if isinstance(x, S.Attr) and isinstance(x.obj, S.Name):
                return (x.obj.id, x.attr)
            return None

        def shown(k):
            return k[0] if k[1] is None else f"{k[0]}.{k[1]}"

        stack = [e]
        while stack:
            x = stack.pop()
            if isinstance(x, S.Index) and key(x.obj) in written and \
                    isinstance(x.index, S.Name) and x.index.id == var:
                stack.append(x.index)
                continue
            k = key(x)
            if k in written:
                return (x.obj.pos if isinstance(x, S.Attr) else x.pos), shown(k)
            d = None
            if isinstance(x, S.Call) and x.func in self.defines:
                d = self.defines[x.func]
            elif isinstance(x, S.Name) and isinstance(x.ref, Ref) and x.ref.kind == "define":
                d = self.defines.get(x.id)
            if d is not None and d.name not in seen:
                seen.add(d.name)   # a define's body cannot see `var`: any read is elsewhere
                inner = self._read_elsewhere(d.body, written, "\0", seen)
                if inner is not None:
                    return x.pos, inner[1]
            if isinstance(x, S.Attr):
                continue
            stack.extend(S.children(x))
        return None

    def _skip_assign(self, s: S.Assign, scope: Scope) -> None:
        """Type the parts of a rejected assignment, for the errors inside them."""
        for x in s.indices:
            self.expr(x, scope)
        self.expr(s.value, scope)

    def process_target(self, s: S.Assign, scope: Scope) -> Binding | None:
        """The binding `P.pc[i] = ...` / `P.x[i] = ...` writes (the instance index taken as
        the first array index), or None once reported."""
        target, attr = s.target, s.attr
        b = scope.lookup(target.id)
        if b is not None and b.ref.kind == "broken":
            return None
        if b is None or b.ref.kind != "process":
            what = f"'{target.id}' is not a process" if b is not None else \
                f"there is no process '{target.id}'"
            self.rep.error("DR230", f"cannot assign to `{s.shown}`: {what}", target.pos,
                           "only a process's state is written with '.': `P.pc[i] = step` or "
                           "`P.local[i] = value`, in an action")
            return None
        proc = b.ref.name
        info_binding = self.globals.lookup("\0proc:" + proc)
        if info_binding is None:  # the process itself was rejected (and reported)
            return None
        info = info_binding.type
        if attr not in info:
            self.rep.error("DR201", f"process '{proc}' has no local '{attr}'", target.pos,
                           did_you_mean(attr, info, "its locals") or "`pc` is always there")
            return None
        if scope.process is not None:
            own = scope.process == proc
            hint = ("a step moves its own pc with `next:`; to send another instance back, "
                    "write an action" if attr == "pc" else
                    f"write `{attr} = ...` to set this instance's own local; another "
                    "instance's state is written only by an action") if own else \
                f"a step of {scope.process} writes only its own locals; write {proc}'s state " \
                "in an action (a crash, a restart, an operator's hand)"
            self.rep.error("DR231", f"a process step cannot assign `{s.shown}[...]`: only an "
                           "action's effect writes a process's state this way", target.pos, hint)
            return None
        if not s.indices:
            self.rep.error("DR230", f"`{s.shown}` is written one instance at a time", target.pos,
                           f"index it by the instance: `{s.shown}[i] = ...`")
            return None
        target.ref = Ref("procpc", process=proc) if attr == "pc" else \
            Ref("proclocal", name=attr, process=proc)
        return Binding(target.ref, info[attr])

    def unknown_step(self, s: S.Assign, scope: Scope) -> bool:
        """`P.pc[i] = pik`: an unknown bare name written to a pc is a misspelt step (reported
        as such, with P's steps to choose from)."""
        v = s.value
        if s.attr != "pc" or not isinstance(v, S.Name) or scope.lookup(v.id) is not None \
                or v.id in ("true", "True", "false", "False", "self", "pc"):
            return False
        self.report_not_a_step(s, v)
        return True

    def report_not_a_step(self, s: S.Assign, v: S.Name) -> None:
        proc = s.target.ref.process
        steps = self.globals.lookup("\0proc:" + proc).type["pc"].elem.values
        self.rep.error("DR232", f"'{v.id}' is not a step of {proc}, so it cannot be the "
                       f"value of `{s.shown}[...]`", v.pos,
                       did_you_mean(v.id, list(steps), "its steps and `done`") or
                       f"the steps of {proc} and `done`: {', '.join(steps)}")

    def check_pc_value(self, s: S.Assign) -> None:
        """A literal step name written to `P.pc[i]` must be a step of P or `done` (any other
        value is a run-time error of the write)."""
        v = s.value
        if s.attr != "pc" or not isinstance(v, S.Name) or v.ref is None or v.ref.kind != "sym":
            return
        steps = self.globals.lookup("\0proc:" + s.target.ref.process).type["pc"].elem.values
        if v.id not in steps:
            self.report_not_a_step(s, v)

    def assign(self, s: S.Assign, scope: Scope) -> None:
        if s.attr is not None:
            b = self.process_target(s, scope)
            if b is None:
                self._skip_assign(s, scope)
                return
            if self.unknown_step(s, scope):
                for x in s.indices:
                    self.expr(x, scope)
                return
            self.assign_to(s, scope, b)
            self.check_pc_value(s)
            return
        target = s.target
        b = scope.lookup(target.id)
        if b is not None and b.ref.kind == "broken":
            for x in s.indices:
                self.expr(x, scope)
            self.expr(s.value, scope)
            return
        if b is None:
            hint = did_you_mean(target.id, [n for n in scope.visible()
                                            if not n.startswith("\0")])
            self.rep.error("DR201", f"unknown variable '{target.id}'", target.pos,
                           hint or "declare it under variables (or the process's locals)")
            for x in s.indices:
                self.expr(x, scope)
            self.expr(s.value, scope)
            return
        if b.ref.kind not in ("var", "local"):
            what = kind_word(b.ref.kind)
            self.rep.error("DR207", f"cannot assign to '{target.id}': it is {what}", target.pos,
                           "only variables and a process's own locals can be written")
            self.expr(s.value, scope)
            return
        target.ref = b.ref
        self.assign_to(s, scope, b)

    def assign_to(self, s: S.Assign, scope: Scope, b: Binding) -> None:
        """Type the indices and the value of an assignment to the binding b."""
        target = s.target
        target.type = b.type
        t = b.type
        for x in s.indices:
            t = self._target_index(t, x, scope)
        tv = self.expr(s.value, scope)
        if s.op in ("+=", "-=") and isinstance(t, ScalarsetT):
            self.rep.error("DR332", f"'{s.op}' is arithmetic, and '{s.shown}' holds a value of "
                           f"scalarset {t.name}", s.pos, SCALARSET_HINT)
        elif s.op == "=" and _mixes_scalarset(t, tv):
            self.rep.error("DR333", f"cannot assign {_a(describe(tv))} to '{s.shown}', which "
                           f"holds {_a(describe(t))}", s.value.pos, _scalarset_mix(t, tv))
        elif s.op in ("+=", "-=") and not isinstance(t, (IntT, SetT, AnyT)):
            self.rep.error("DR203", f"'{s.op}' needs an integer target, and '{s.shown}' holds "
                           f"{_a(describe(t))}", s.pos, "write the new value with '='")
        elif s.op in ("|=", "&=") and not isinstance(t, (SetT, AnyT)):
            self.rep.error("DR203", f"'{s.op}' needs a set target, and '{s.shown}' holds "
                           f"{_a(describe(t))}", s.pos, "write the new value with '='")
        elif s.op == "+=" and isinstance(t, SetT):
            self.rep.error("DR203", "'+=' is for integers, not sets", s.pos,
                           "use '|=' to add to a set: s |= {x}")
        elif not compatible(t, tv) and not isinstance(tv, AnyT):
            self.rep.error("DR203", f"cannot assign {_a(describe(tv))} to '{s.shown}', which "
                           f"holds {_a(describe(t))}", s.value.pos,
                           f"'{s.shown}' is declared as {b.type}" if not s.indices else
                           f"the elements of '{s.shown}' are {t}")

    def _target_index(self, t: Type, x: S.Expr, scope: Scope) -> Type:
        tx = self.expr(x, scope)
        if isinstance(t, AnyT):
            return ANY
        if isinstance(t, ArrayT):
            if self.scalarset_index(t.key, tx, x):
                return t.elem
            want = "symbol" if isinstance(t.key, SymT) else "int"
            if not isinstance(tx, AnyT) and describe(tx) != want:
                self.rep.error("DR203", f"this array is indexed by {_a(want)}, not by "
                               f"{_a(describe(tx))}", x.pos, f"its indices are {t.key}")
            return t.elem
        if isinstance(t, SeqT):
            if isinstance(tx, ScalarsetT):
                self.not_an_integer(tx, x, "a sequence's index")
            elif not isinstance(tx, (IntT, AnyT)):
                self.rep.error("DR203", f"a sequence is indexed by an int, not by "
                               f"{_a(describe(tx))}", x.pos, "a sequence's indices are 0..len(s)-1")
            return t.elem
        self.rep.error("DR203", f"only arrays and sequences can be indexed; this is "
                       f"{_a(describe(t))}", x.pos, _index_hint(t))
        return ANY


def _ordered_by_identity(t) -> ScalarsetT | None:
    """The scalarset whose identities iterating over a value of type t would order."""
    if isinstance(t, SetT) and isinstance(t.elem, ScalarsetT):
        return t.elem
    if isinstance(t, ArrayT) and isinstance(t.key, ScalarsetT):
        return t.key
    return None


SCALARSET_HINT = ("a scalarset's identities have no order and no arithmetic: compare them "
                  "with == and !=, test them with `in`, index arrays with them")


def _mixes_scalarset(a: Type, b: Type) -> bool:
    """Whether a and b are incompatible because of a scalarset on one side."""
    if isinstance(a, AnyT) or isinstance(b, AnyT) or compatible(a, b):
        return False
    keys = [t.key for t in (a, b) if isinstance(t, ArrayT)]
    return scalarset_in(a) is not None or scalarset_in(b) is not None or \
        any(isinstance(k, ScalarsetT) for k in keys)


def _scalarset_mix(a: Type, b: Type) -> str:
    sa, sb = scalarset_in(a), scalarset_in(b)
    if sa is not None and sb is not None and sa.name != sb.name:
        return (f"{sa.name} and {sb.name} are two scalarsets: their identities are never "
                "interchangeable")
    s = sa or sb
    name = s.name if s is not None else "a scalarset"
    return (f"a value of {name} is an identity, not a number: it has no literals and is never "
            "an integer; take it from a parameter, `self` or a loop over " + name)


KIND_WORDS = {"const": "a constant", "sym": "a symbol", "param": "a parameter",
              "bound": "a bound variable", "define": "a define", "enumset": "an enumeration",
              "process": "a process", "action": "an action", "defarg": "an argument",
              "var": "a variable", "local": "a local", "broken": "a rejected declaration"}


def kind_word(kind: str) -> str:
    """What a `Ref` kind is, in words: 'a constant', 'a variable', ..."""
    return KIND_WORDS.get(kind, kind)


def _arith_hint(op: str, t: Type) -> str:
    if isinstance(t, BoolT):
        return "a bool is not a number: write `(1 if c else 0)` to count a condition"
    if isinstance(t, SetT) and op == "+":
        return "use '|' for the union of two sets, and len(s) for a set's size"
    if isinstance(t, (SetT, SeqT, ArrayT)):
        return "use len(...) for the number of elements"
    return "arithmetic is on integers only"


def _compare_hint(op: str, a: Type, b: Type) -> str:
    sizes = (SetT, SeqT, ArrayT)
    if isinstance(a, sizes) and isinstance(b, IntT) or isinstance(b, sizes) and isinstance(a, IntT):
        return f"to compare the number of elements, write len(...) {op} ..."
    if isinstance(a, (SetT, SeqT)) and isinstance(b, (SetT, SeqT)) and type(a) is not type(b):
        return "a set and a sequence are never equal; {} is the empty set, [] the empty sequence"
    return f"both sides of '{op}' must have one type"


def _index_hint(t: Type) -> str:
    if isinstance(t, SetT):
        return "sets have no order or index; test membership with `x in s`"
    return "index an array or a sequence: a[i]"


def _args(n: int) -> str:
    return f"{n} argument" + ("" if n == 1 else "s")


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word
