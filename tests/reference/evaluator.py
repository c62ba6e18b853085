"""A deliberately simple reference evaluator for dnsrace models, used only by the tests.

It walks the typed AST that the front end produces (`dnsrace.frontend.build.load_model`) and
explores the state graph breadth-first, following the contract (/work/shared/SPEC-LANGUAGE.md)
literally.  It shares nothing with the real engine except the front end, so the two can be
compared: same states, transitions, depth, verdicts and traces.

    explore(model) -> {"states", "transitions", "depth", "properties": [...]}

Runtime values: int, bool, `Sym`, frozenset (sets), tuple (sequences) and `Arr` (arrays: a
tuple that also knows its index keys, so `a[i]` can check and translate the index).
"""

from __future__ import annotations

import itertools
import json

from dnsrace.frontend import syntax as S
from dnsrace.frontend.model import Model
from dnsrace.frontend.types import ArrayT, SeqT, SetT, Sym, SymT, contains


class Arr(tuple):
    """An array value: its elements in index order, plus its index keys (`keys[k]` is the
    index of element k).  Compares and hashes as the plain tuple of its elements."""

    def __new__(cls, keys, values):
        obj = super().__new__(cls, values)
        obj.keys = tuple(keys)
        return obj


class Fail(Exception):
    """A failure found while evaluating: `prop` is 'error', 'assertion' or 'type'."""

    def __init__(self, prop: str, message: str):
        super().__init__(message)
        self.prop = prop
        self.message = message


def _err(message: str) -> Fail:
    return Fail("error", message)


class Thunk:
    """A define's argument: its expression and the caller's context (call by name)."""

    __slots__ = ("expr", "ctx")

    def __init__(self, expr, ctx):
        self.expr = expr
        self.ctx = ctx


class World:
    """A mutable copy of one state: globals, and per process the pcs and locals by instance."""

    def __init__(self, g, pc, loc):
        self.g = g      # name -> value
        self.pc = pc    # process name -> [Sym per instance]
        self.loc = loc  # (process name, local name) -> [value per instance]

    def copy(self) -> "World":
        return World(dict(self.g), {k: list(v) for k, v in self.pc.items()},
                     {k: list(v) for k, v in self.loc.items()})


class Ctx:
    """Where an expression is evaluated: the state (`st`), the state after the step for
    primes (`post`), the running process instance, and the bound names (parameters,
    comprehension and loop variables, define arguments as `Thunk`s)."""

    __slots__ = ("st", "post", "proc", "inst", "env")

    def __init__(self, st, post=None, proc=None, inst=None, env=None):
        self.st = st
        self.post = post
        self.proc = proc
        self.inst = inst
        self.env = env or {}

    def bind(self, name, value) -> "Ctx":
        env = dict(self.env)
        env[name] = value
        return Ctx(self.st, self.post, self.proc, self.inst, env)


# ------------------------------------------------------------------ values


def conform(t, v):
    """Give a value the shape of its declared type (tuples become `Arr` where t is an array)."""
    if isinstance(t, ArrayT):
        return Arr(t.keys, (conform(t.elem, x) for x in v))
    if isinstance(t, SeqT):
        return tuple(conform(t.elem, x) for x in v)
    return v


class Evaluator:
    def __init__(self, model: Model):
        self.model = model
        self.rank = {s: i for i, s in enumerate(model.symbols)}

    # ---------------------------------------------------------- order
    def key(self, v, enum=None):
        """The contract's order: integers ascending, false before true, symbols as declared
        (in `enum`'s order when the values are known to come from that enumeration)."""
        if isinstance(v, bool):
            return (0, int(v))
        if isinstance(v, int):
            return (1, v)
        if isinstance(v, Sym):
            if enum is not None and v in enum:
                return (2, enum.index(v))
            return (2, len(enum or ()) + self.rank.get(v, 1 << 30))
        return (3, repr(v))

    def sort_set(self, values, elem_type=None):
        enum = elem_type.values if isinstance(elem_type, SymT) else None
        return sorted(values, key=lambda v: self.key(v, enum))

    def iterate(self, value, domain_expr):
        if isinstance(value, frozenset):
            t = getattr(domain_expr, "type", None)
            return self.sort_set(value, t.elem if isinstance(t, SetT) else None)
        if isinstance(value, tuple):
            return list(value)
        raise _err(f"cannot iterate over {value!r}")

    # ---------------------------------------------------------- expressions
    def ev(self, e, ctx: Ctx):
        method = getattr(self, "ev_" + type(e).__name__)
        return method(e, ctx)

    def ev_Num(self, e, ctx):
        return e.value

    def ev_BoolLit(self, e, ctx):
        return e.value

    def ev_Name(self, e, ctx):
        ref = e.ref
        k = ref.kind
        if k == "const":
            return ref.value
        if k == "sym":
            return Sym(ref.name)
        if k == "bool":
            return ref.value
        if k == "enumset":
            return frozenset(Sym(x) for x in ref.value)
        if k == "scalarset":
            return frozenset(range(ref.value))
        if k == "var":
            return ctx.st.g[ref.name]
        if k == "local":
            return ctx.st.loc[(ctx.proc.name, ref.name)][ctx.inst]
        if k == "self":
            return ctx.inst
        if k == "pc":
            return ctx.st.pc[ctx.proc.name][ctx.inst]
        if k in ("param", "bound"):
            return ctx.env[ref.name]
        if k == "define":
            d = self.model.defines[ref.name]
            return self.ev(d.body, Ctx(ctx.st, ctx.post))
        if k == "defarg":
            th = ctx.env[ref.name]
            return self.ev(th.expr, th.ctx)
        raise AssertionError(f"unexpected name {e.id} ({k})")

    def ev_Attr(self, e, ctx):
        ref = e.ref
        proc = self.model.process(ref.process)
        keys = range(proc.count)
        if ref.kind == "procpc":
            return Arr(keys, ctx.st.pc[proc.name])
        return Arr(keys, ctx.st.loc[(proc.name, ref.name)])

    def position(self, coll, i):
        """The element number of index i in an array or sequence, or a run-time error."""
        if isinstance(coll, Arr):
            for k, key in enumerate(coll.keys):
                if key == i and not isinstance(i, bool):
                    return k
            raise _err(f"index {i} is outside the array (indices {list(coll.keys)})")
        if isinstance(coll, tuple):
            if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(coll):
                return i
            raise _err(f"index {i} is outside the sequence of length {len(coll)}")
        raise _err(f"cannot index {coll!r}")

    def ev_Index(self, e, ctx):
        coll = self.ev(e.obj, ctx)
        i = self.ev(e.index, ctx)
        return coll[self.position(coll, i)]

    def ev_Prime(self, e, ctx):
        assert ctx.post is not None, "a primed expression outside a transition property"
        return self.ev(e.expr, Ctx(ctx.post, None, ctx.proc, ctx.inst, ctx.env))

    def ev_Call(self, e, ctx):
        if e.define is not None:
            d = self.model.defines[e.define]
            env = {p: Thunk(a, ctx) for p, a in zip(d.params, e.args)}
            return self.ev(d.body, Ctx(ctx.st, ctx.post, None, None, env))
        f = e.func
        args = [self.ev(a, ctx) for a in e.args]
        if f == "len":
            return len(args[0])
        if f == "abs":
            return abs(args[0])
        if f in ("min", "max"):
            pool = list(args[0]) if len(args) == 1 else args
            if not pool:
                raise _err(f"{f} of an empty set")
            return min(pool) if f == "min" else max(pool)
        if f in ("head", "tail"):
            if len(args[0]) == 0:
                raise _err(f"{f} of an empty sequence")
            return args[0][0] if f == "head" else tuple(args[0][1:])
        if f == "append":
            return tuple(args[0]) + (args[1],)
        raise AssertionError(f"unknown function {f}")

    def bindings(self, clauses, k, ctx):
        """The contexts of a comprehension, lazily, in iteration order."""
        if k == len(clauses):
            yield ctx
            return
        c = clauses[k]
        for v in self.iterate(self.ev(c.domain, ctx), c.domain):
            inner = ctx.bind(c.var, v)
            if c.cond is None or self.ev(c.cond, inner):
                yield from self.bindings(clauses, k + 1, inner)

    def ev_Comprehension(self, e, ctx):
        each = self.bindings(e.clauses, 0, ctx)
        if e.kind == "all":
            for c in each:
                if not self.ev(e.elem, c):
                    return False
            return True
        if e.kind == "any":
            for c in each:
                if self.ev(e.elem, c):
                    return True
            return False
        values = [self.ev(e.elem, c) for c in each]
        if e.kind == "set":
            return frozenset(values)
        if e.kind == "seq":
            return tuple(values)
        if not values:
            raise _err(f"{e.kind} of an empty collection")
        return min(values) if e.kind == "min" else max(values)

    def ev_SetLit(self, e, ctx):
        return frozenset(self.ev(x, ctx) for x in e.elems)

    def ev_SeqLit(self, e, ctx):
        return tuple(self.ev(x, ctx) for x in e.elems)

    def ev_Unary(self, e, ctx):
        v = self.ev(e.operand, ctx)
        return -v if e.op == "-" else not v

    def ev_BinOp(self, e, ctx):
        a = self.ev(e.left, ctx)
        b = self.ev(e.right, ctx)
        op = e.op
        if op == "..":
            return frozenset(range(a, b + 1))
        if isinstance(a, frozenset):
            return {"|": a | b, "&": a & b, "-": a - b}[op]
        if op in ("//", "%") and b == 0:
            raise _err("division by zero" if op == "//" else "modulo by zero")
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return a // b if op == "//" else a % b

    def ev_BoolOp(self, e, ctx):
        a = self.ev(e.left, ctx)
        if e.op == "and":
            return bool(self.ev(e.right, ctx)) if a else False
        if e.op == "or":
            return True if a else bool(self.ev(e.right, ctx))
        return bool(self.ev(e.right, ctx)) if a else True  # =>

    def ev_Compare(self, e, ctx):
        # Python's chained comparison: each operand evaluated at most once, left to right,
        # stopping at the first comparison that is false.
        left = self.ev(e.operands[0], ctx)
        for op, right_e in zip(e.ops, e.operands[1:]):
            right = self.ev(right_e, ctx)
            if op == "==":
                ok = left == right
            elif op == "!=":
                ok = left != right
            elif op == "<":
                ok = left < right
            elif op == "<=":
                ok = left <= right
            elif op == ">":
                ok = left > right
            elif op == ">=":
                ok = left >= right
            elif op == "in":
                ok = left in right
            elif op == "not in":
                ok = left not in right
            else:
                raise AssertionError(op)
            if not ok:
                return False
            left = right
        return True

    def ev_IfExp(self, e, ctx):
        return self.ev(e.then, ctx) if self.ev(e.cond, ctx) else self.ev(e.orelse, ctx)

    # ---------------------------------------------------------- statements
    def run(self, stmts, ctx: Ctx):
        for s in stmts:
            self.stmt(s, ctx)

    def stmt(self, s, ctx: Ctx):
        if isinstance(s, S.Assign):
            self.assign(s, ctx)
        elif isinstance(s, S.If):
            for cond, body in s.branches:
                if self.ev(cond, ctx):
                    self.run(body, ctx)
                    return
            self.run(s.orelse, ctx)
        elif isinstance(s, S.For):
            for v in self.iterate(self.ev(s.domain, ctx), s.domain):
                self.run(s.body, ctx.bind(s.var, v))
        elif isinstance(s, S.Assert):
            if not self.ev(s.cond, ctx):
                raise Fail("assertion", s.message or "assertion failed")
        elif isinstance(s, S.Pass):
            pass
        else:
            raise AssertionError(f"unknown statement {s!r}")

    def assign(self, s: S.Assign, ctx: Ctx):
        ref = s.target.ref
        if ref.kind in ("procpc", "proclocal"):
            return self.assign_process(s, ctx)
        if ref.kind == "var":
            var = next(v for v in self.model.variables if v.name == ref.name)
            current = ctx.st.g[ref.name]
        else:
            var = next(v for v in ctx.proc.locals if v.name == ref.name)
            current = ctx.st.loc[(ctx.proc.name, ref.name)][ctx.inst]
        indices = [self.ev(x, ctx) for x in s.indices]
        new = self.updated(current, indices, s, ctx)
        if not contains(var.type, new):
            shown = json.dumps(self.to_json(var.type, new))
            raise Fail("type", f"{s.target.id} = {shown} is outside its type {var.type}")
        new = conform(var.type, new)
        if ref.kind == "var":
            ctx.st.g[ref.name] = new
        else:
            ctx.st.loc[(ctx.proc.name, ref.name)][ctx.inst] = new

    def updated(self, current, indices: list, s: S.Assign, ctx: Ctx):
        """`current` with the element at `indices` set by `s` (`=` or a compound `op=`)."""
        value = self.ev(s.value, ctx)
        if s.op != "=":
            old = current
            for i in indices:
                old = old[self.position(old, i)]
            if isinstance(old, frozenset):
                value = {"-=": old - value, "|=": old | value, "&=": old & value}[s.op]
            else:
                value = old + value if s.op == "+=" else old - value
        return self.replace(current, indices, value)

    def assign_process(self, s: S.Assign, ctx: Ctx):
        """`P.pc[i] = step` / `P.x[i] = v` in an action: instance i's pc or local."""
        ref = s.target.ref
        proc = self.model.process(ref.process)
        inst = self.position(Arr(range(proc.count), [None] * proc.count), self.ev(s.indices[0], ctx))
        if ref.kind == "procpc":
            value = self.ev(s.value, ctx)
            if s.op != "=" or value not in proc.pc_values:
                raise Fail("type", f"{s.shown}[{inst}] = {value} is not a step of {proc.name}")
            ctx.st.pc[proc.name][inst] = Sym(value)
            return
        var = next(v for v in proc.locals if v.name == ref.name)
        current = ctx.st.loc[(proc.name, ref.name)][inst]
        indices = [self.ev(x, ctx) for x in s.indices[1:]]
        new = self.updated(current, indices, s, ctx)
        if not contains(var.type, new):
            raise Fail("type", f"{s.shown}[{inst}] is outside its type {var.type}")
        ctx.st.loc[(proc.name, ref.name)][inst] = conform(var.type, new)

    def replace(self, coll, indices, value):
        if not indices:
            return value
        k = self.position(coll, indices[0])
        items = list(coll)
        items[k] = self.replace(coll[k], indices[1:], value)
        return Arr(coll.keys, items) if isinstance(coll, Arr) else tuple(items)

    # ---------------------------------------------------------- JSON
    def to_json(self, t, v):
        if isinstance(v, bool) or isinstance(v, int):
            return v
        if isinstance(v, Sym):
            return str(v)
        if isinstance(v, frozenset):
            elem = t.elem if isinstance(t, SetT) else None
            return [self.to_json(elem, x) for x in self.sort_set(v, elem)]
        if isinstance(v, tuple):
            elem = t.elem if isinstance(t, (SeqT, ArrayT)) else None
            if isinstance(t, ArrayT) and isinstance(t.key, SymT):
                return {str(k): self.to_json(elem, x) for k, x in zip(t.keys, v)}
            return [self.to_json(elem, x) for x in v]
        raise AssertionError(f"no JSON for {v!r}")


# ------------------------------------------------------------------ the search


class _Transition:
    """One transition shape: an action binding, or a process instance's step alternative
    binding."""

    def __init__(self, name, guard, effect, env, proc=None, inst=None, step=None, nxt=None):
        self.name = name
        self.guard = guard
        self.effect = effect
        self.env = env
        self.proc = proc
        self.inst = inst
        self.step = step
        self.next = nxt


def _label(base: str, params, binding) -> str:
    if not params:
        return base
    inner = ", ".join(f"{p.name}={json.dumps(_plain(v))}" for p, v in zip(params, binding))
    return f"{base}({inner})"


def _plain(v):
    if isinstance(v, Sym):
        return str(v)
    if isinstance(v, frozenset):
        return sorted(_plain(x) for x in v)
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def transitions_of(model: Model) -> list[_Transition]:
    """Every transition shape, in file order."""
    out = []
    for proc in model.processes:
        for inst in range(proc.count):
            for step in proc.steps:
                for alt in step.alternatives:
                    base = f"{proc.name}[{inst}].{step.name}"
                    if step.has_either:
                        base += f".{alt.name}"
                    for binding in itertools.product(*(p.values for p in alt.params)):
                        env = {p.name: v for p, v in zip(alt.params, binding)}
                        out.append(_Transition(_label(base, alt.params, binding), alt.guard,
                                               alt.effect, env, proc, inst, step.name, alt.next))
    for act in model.actions:
        for binding in itertools.product(*(p.values for p in act.params)):
            env = {p.name: v for p, v in zip(act.params, binding)}
            out.append(_Transition(_label(act.name, act.params, binding), act.guard, act.effect,
                                   env))
    return out


class _Explorer:
    def __init__(self, model: Model):
        self.model = model
        self.ev = Evaluator(model)
        self.transitions = transitions_of(model)
        self.state_props = [p for p in model.properties if p.kind in ("invariant", "reachable")]
        self.trans_props = [p for p in model.properties if p.kind == "transition"]
        self.depth: dict[tuple, int] = {}        # visited state -> BFS depth
        self.parent: dict[tuple, tuple | None] = {}  # state -> (previous state, action) or None
        self.queue: list[tuple] = []
        self.n_transitions = 0
        self.best: dict[str, tuple[int, dict]] = {}  # property -> (length, trace)

    # ---------------------------------------------------------- states
    def freeze(self, w: World) -> tuple:
        parts = [w.g[v.name] for v in self.model.variables]
        for p in self.model.processes:
            parts.append(tuple(w.pc[p.name]))
            for x in p.locals:
                parts.append(tuple(w.loc[(p.name, x.name)]))
        return tuple(parts)

    def thaw(self, s: tuple) -> World:
        it = iter(s)
        g = {v.name: next(it) for v in self.model.variables}
        pc, loc = {}, {}
        for p in self.model.processes:
            pc[p.name] = list(next(it))
            for x in p.locals:
                loc[(p.name, x.name)] = list(next(it))
        return World(g, pc, loc)

    def state_json(self, s: tuple) -> dict:
        w = self.thaw(s)
        out = {}
        for v in self.model.variables:
            out[v.name] = self.ev.to_json(v.type, w.g[v.name])
        for p in self.model.processes:
            out[f"{p.name}.pc"] = [str(x) for x in w.pc[p.name]]
            for x in p.locals:
                out[f"{p.name}.{x.name}"] = [self.ev.to_json(x.type, v)
                                             for v in w.loc[(p.name, x.name)]]
        return out

    def initial_states(self):
        m = self.model
        choices = [v.inits for v in m.variables]
        slots = []  # (process, instance, local) for each local choice
        for p in m.processes:
            for inst in range(p.count):
                for x in p.locals:
                    choices.append(x.inits)
                    slots.append((p, inst, x))
        for combo in itertools.product(*choices):
            g = {v.name: conform(v.type, val) for v, val in zip(m.variables, combo)}
            pc = {p.name: [Sym(p.steps[0].name)] * p.count for p in m.processes}
            loc = {(p.name, x.name): [None] * p.count for p in m.processes for x in p.locals}
            for (p, inst, x), val in zip(slots, combo[len(m.variables):]):
                loc[(p.name, x.name)][inst] = conform(x.type, val)
            yield self.freeze(World(g, pc, loc))

    # ---------------------------------------------------------- traces
    def path(self, s: tuple) -> list[tuple]:
        steps = []
        while True:
            link = self.parent[s]
            if link is None:
                steps.append((None, s))
                break
            prev, action = link
            steps.append((action, s))
            s = prev
        steps.reverse()
        return steps

    def record(self, prop: str, length: int, make_trace):
        """Keep the first trace of the smallest length seen so far for `prop`."""
        if prop in self.best and self.best[prop][0] <= length:
            return
        self.best[prop] = (length, make_trace())

    def trace_to(self, s: tuple, last=None) -> dict:
        """The path to s, then optionally one more step: (action, state or None, message)."""
        steps = [{"action": a, "state": self.state_json(x)} for a, x in self.path(s)]
        if last is not None:
            action, after, message = last
            if after is None:
                steps.append({"action": action, "state": None, "message": message})
            else:
                steps.append({"action": action, "state": self.state_json(after)})
        return {"length": len(steps) - 1, "steps": steps}

    # ---------------------------------------------------------- search
    def discover(self, s: tuple, depth: int, link):
        if s in self.depth:
            return
        self.depth[s] = depth
        self.parent[s] = link
        self.queue.append(s)
        ctx = Ctx(self.thaw(s))
        for p in self.state_props:
            try:
                v = self.ev.ev(p.expr, ctx)
            except Fail as f:
                self.record(f.prop, depth, lambda: self.trace_to(s))
                continue
            if (p.kind == "invariant" and not v) or (p.kind == "reachable" and v):
                self.record(p.name, depth, lambda: self.trace_to(s))

    def expand(self, s: tuple):
        d = self.depth[s]
        w = self.thaw(s)
        enabled = 0
        for t in self.transitions:
            if t.proc is not None and w.pc[t.proc.name][t.inst] != t.step:
                continue
            ctx = Ctx(w, None, t.proc, t.inst, t.env)
            try:
                ok = True if t.guard is None else self.ev.ev(t.guard, ctx)
            except Fail as f:
                self.record(f.prop, d, lambda: self.trace_to(s))
                continue
            if not ok:
                continue
            enabled += 1
            self.n_transitions += 1
            w2 = w.copy()
            ctx2 = Ctx(w2, None, t.proc, t.inst, t.env)
            try:
                self.ev.run(t.effect, ctx2)
                if t.proc is not None:
                    target = t.next.target
                    if target is None:
                        target = self.ev.ev(t.next.expr, ctx2)
                        if target not in t.proc.pc_values:
                            raise _err(f"`next` gave {target}, which is not a step of "
                                       f"{t.proc.name}")
                    w2.pc[t.proc.name][t.inst] = Sym(target)
            except Fail as f:
                prop, message = f.prop, f.message
                self.record(prop, d + 1,
                            lambda: self.trace_to(s, (t.name, None, message)))
                continue
            s2 = self.freeze(w2)
            pctx = Ctx(w, w2)
            for p in self.trans_props:
                try:
                    v = self.ev.ev(p.expr, pctx)
                except Fail as f:
                    self.record(f.prop, d + 1, lambda: self.trace_to(s, (t.name, s2, None)))
                    continue
                if not v:
                    self.record(p.name, d + 1, lambda: self.trace_to(s, (t.name, s2, None)))
            self.discover(s2, d + 1, (s, t.name))
        if enabled == 0 and self.model.deadlock and not self.all_done(w):
            self.record("deadlock", d, lambda: self.trace_to(s))

    def all_done(self, w: World) -> bool:
        procs = self.model.processes
        return bool(procs) and all(pc == "done" for p in procs for pc in w.pc[p.name])

    def explore(self) -> dict:
        for s in self.initial_states():
            self.discover(s, 0, None)
        k = 0
        while k < len(self.queue):
            self.expand(self.queue[k])
            k += 1
        props = []
        for p in self.model.properties:
            found = self.best.get(p.name)
            if p.kind == "reachable":
                outcome = "reachable" if found else "unreachable"
            else:
                outcome = "violated" if found else "holds"
            props.append(self._prop(p.name, p.kind, p.expected, outcome, found))
        builtins = ["assertion", "type", "error"] + (["deadlock"] if self.model.deadlock else [])
        for name in builtins:
            found = self.best.get(name)
            props.append(self._prop(name, name, "holds", "violated" if found else "holds", found))
        return {"states": len(self.depth), "transitions": self.n_transitions,
                "depth": max(self.depth.values(), default=0), "properties": props}

    @staticmethod
    def _prop(name, kind, expected, outcome, found):
        return {"name": name, "kind": kind, "expected": expected, "outcome": outcome,
                "trace": found[1] if found else None}


def explore(model: Model) -> dict:
    """Explore `model` breadth-first; see the module docstring for the result's shape."""
    return _Explorer(model).explore()
