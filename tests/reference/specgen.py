"""Hypothesis strategies for random, valid, small dnsrace specs (YAML text).

`specs()` draws a whole spec: a few small variables (ints, a bool, an enumeration value, an
array, a set, a bounded sequence), up to two processes (steps with guards, effects, `either`
alternatives, `next` expressions, `done`), actions with parameters, defines with and without
arguments, invariants, a transition property with primes, a reachable property and sometimes
`deadlock: error`.  Expressions include operations that can fail at run time (indices computed
from variables, `//` and `%` by values that can be 0, `head`/`min`/`max` of possibly empty
collections, writes that can leave a range), so the error paths of an engine are exercised.

The state space is kept small by construction: the product of every state component's domain
size (an upper bound on the reachable states) stays within `BUDGET`.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

BUDGET = 2000

MODE = ["red", "green"]

# the array variable's shapes: type text, index keys
ARRAY_SHAPES = {
    "int": ('"[2]0..1"', (0, 1)),
    "range": ('"[1..2]0..1"', (1, 2)),
    "enum": ('"[Mode]0..1"', ("red", "green")),
}


class _Scope:
    """What an expression may mention besides the globals: bound int, bool and symbol names,
    the process whose step it is in (its local, `self`, `pc`), and whether it may call
    defines (define bodies may not)."""

    def __init__(self, ints=(), bools=(), syms=(), proc=None, defines=True):
        self.ints = list(ints)
        self.bools = list(bools)
        self.syms = list(syms)
        self.proc = proc
        self.defines = defines

    def with_int(self, name: str) -> "_Scope":
        return _Scope(self.ints + [name], self.bools, self.syms, self.proc, self.defines)

    def with_sym(self, name: str) -> "_Scope":
        return _Scope(self.ints, self.bools, self.syms + [name], self.proc, self.defines)


class _Gen:
    def __init__(self, draw, temporal: bool = False):
        self.draw = draw
        self.temporal = temporal
        self.fresh_n = 0
        self.vars: dict[str, dict] = {}
        self.procs: list[dict] = []
        self.defines: dict[str, str] = {}

    # ------------------------------------------------------------------ small helpers
    def pick(self, options):
        return self.draw(st.sampled_from(list(options)))

    def chance(self, p_true_in_4: int = 2) -> bool:
        """True with probability p/4."""
        return self.draw(st.integers(0, 3)) < p_true_in_4

    def fresh(self, prefix: str) -> str:
        self.fresh_n += 1
        return f"{prefix}{self.fresh_n}"

    # ------------------------------------------------------------------ expressions
    def int_leaf(self, sc: _Scope) -> str:
        options = ["0", "1", "2"] + sc.ints
        if "x" in self.vars:
            options.append("x")
        if "y" in self.vars:
            options.append("y")
        if "q" in self.vars:
            options.append("len(q)")
        if "st" in self.vars:
            options.append("len(st)")
        if sc.proc is not None:
            options.append("self")
            if sc.proc["local"]:
                options.append(sc.proc["local"])
        if sc.defines and "tot" in self.defines:
            options.append("tot")
        return self.pick(options)

    def sym_leaf(self, sc: _Scope) -> str:
        options = list(MODE) + sc.syms
        if "m" in self.vars:
            options.append("m")
        return self.pick(options)

    def risky_int(self, sc: _Scope, d: int) -> str:
        """An int expression that may fail at run time."""
        options = []
        if "arr" in self.vars:
            options.append("arr")
        if "q" in self.vars:
            options += ["q_index", "head"]
        if "st" in self.vars:
            options.append("minmax")
        options.append("div")
        choice = self.pick(options)
        if choice == "arr":
            if self.vars["arr"]["shape"] == "enum":
                return f"arr[{self.sym_leaf(sc)}]"
            return f"arr[{self.ie(sc, d - 1)}]"
        if choice == "q_index":
            return f"q[{self.ie(sc, d - 1)}]"
        if choice == "head":
            return "head(q)"
        if choice == "minmax":
            return f"{self.pick(['min', 'max'])}(st)"
        op = self.pick(["//", "%"])
        return f"({self.ie(sc, d - 1)} {op} {self.ie(sc, d - 1)})"

    def ie(self, sc: _Scope, d: int = 2) -> str:
        """An int expression."""
        if d <= 0:
            return self.int_leaf(sc)
        k = self.draw(st.integers(0, 9))
        if k <= 3:
            return self.int_leaf(sc)
        if k == 4:
            op = self.pick(["+", "-", "*"])
            return f"({self.ie(sc, d - 1)} {op} {self.ie(sc, d - 1)})"
        if k == 5:
            return self.risky_int(sc, d)
        if k == 6:
            f = self.pick(["abs", "min", "max", "neg"])
            if f == "abs":
                return f"abs({self.ie(sc, d - 1)})"
            if f == "neg":
                return f"-{self.int_leaf(sc)}"
            return f"{f}({self.ie(sc, d - 1)}, {self.ie(sc, d - 1)})"
        if k == 7:
            return f"({self.ie(sc, d - 1)} if {self.be(sc, d - 1)} else {self.ie(sc, d - 1)})"
        if k == 8 and sc.defines and "pick" in self.defines:
            return f"pick({self.ie(sc, d - 1)}, {self.ie(sc, d - 1)})"
        if k == 8 and self.procs:
            p = self.pick(self.procs)
            if p["local"]:  # another instance's local; index x may be out of range
                idx = self.pick(["0", str(p["count"] - 1), "x"])
                return f"{p['name']}.{p['local']}[{idx}]"
        # a comprehension over a small domain
        var = self.fresh("k")
        inner = sc.with_int(var)
        kind = self.pick(["min", "max", "len"])
        dom = self.domain(sc)
        if kind == "len":
            return f"len({{{self.ie(inner, d - 1)} for {var} in {dom} if {self.be(inner, d - 1)}}})"
        return f"{kind}({self.ie(inner, d - 1)} for {var} in {dom})"

    def domain(self, sc: _Scope) -> str:
        options = ["0..1", "0..2", "1..0"]  # 1..0 is empty
        if "st" in self.vars:
            options.append("st")
        if "q" in self.vars:
            options.append("q")
        return self.pick(options)

    def be(self, sc: _Scope, d: int = 2) -> str:
        """A bool expression."""
        k = self.draw(st.integers(0, 11)) if d > 0 else self.draw(st.integers(0, 3))
        if k == 0:
            leaves = ["true", "false"] + sc.bools
            if "b" in self.vars:
                leaves += ["b", "b"]
            return self.pick(leaves)
        if k in (1, 2):
            op = self.pick(["==", "!=", "<", "<=", ">", ">="])
            return f"{self.ie(sc, d - 1)} {op} {self.ie(sc, d - 1)}"
        if k == 3:
            options = ["sym"]
            if "st" in self.vars:
                options += ["inset", "stempty"]
            if "q" in self.vars:
                options += ["qempty", "inq"]
            if sc.proc is not None:
                options.append("pc")
            if self.procs:
                options.append("procpc")
            if "arr" in self.vars:
                options.append("arreq")
            c = self.pick(options)
            if c == "sym":
                return f"{self.sym_leaf(sc)} {self.pick(['==', '!='])} {self.sym_leaf(sc)}"
            if c == "inset":
                return f"{self.ie(sc, d - 1)} {self.pick(['in', 'not in'])} st"
            if c == "stempty":
                return self.pick(["st == {}", "st != {}", "{0} <= st", "st < {0, 1}"])
            if c == "qempty":
                return self.pick(["q == []", "q != []", "q == [1]"])
            if c == "inq":
                return f"{self.ie(sc, d - 1)} in q"
            if c == "pc":
                return f"pc {self.pick(['==', '!='])} {self.pick(sc.proc['steps'] + ['done'])}"
            if c == "arreq":
                vals = "[0, 1]" if self.chance() else "[1, 1]"
                return f"arr {self.pick(['==', '!='])} {vals}"
            p = self.pick(self.procs)
            idx = self.pick(["0", str(p["count"] - 1)] + (["x"] if "x" in self.vars else []))
            return f"{p['name']}.pc[{idx}] == {self.pick(p['steps'] + ['done'])}"
        if k == 4:
            return f"not ({self.be(sc, d - 1)})"
        if k in (5, 6):
            op = self.pick(["and", "or", "=>"])
            return f"(({self.be(sc, d - 1)}) {op} ({self.be(sc, d - 1)}))"
        if k == 7:
            return f"({self.be(sc, d - 1)} if {self.be(sc, d - 1)} else {self.be(sc, d - 1)})"
        if k == 8:
            var = self.fresh("k")
            inner = sc.with_int(var)
            q = self.pick(["all", "any"])
            cond = f" if {self.be(inner, d - 1)}" if self.chance(1) else ""
            return f"{q}({self.be(inner, d - 1)} for {var} in {self.domain(sc)}{cond})"
        if k == 9 and sc.defines and "okd" in self.defines:
            return f"okd({self.ie(sc, d - 1)})"
        if k == 10 and sc.defines and "ignore" in self.defines:
            # the argument is never evaluated: it may fail freely
            return f"ignore({self.risky_int(sc, d)})"
        if k == 11 and "arr" in self.vars and self.vars["arr"]["shape"] == "enum":
            var = self.fresh("c")
            return f"any(arr[{var}] == 1 for {var} in Mode)"
        return f"{self.ie(sc, d - 1)} == {self.ie(sc, d - 1)}"

    # ------------------------------------------------------------------ statements
    def assign(self, sc: _Scope) -> list[str]:
        targets = list(self.vars)
        if sc.proc is not None and sc.proc["local"]:
            targets += [sc.proc["local"]] * 2
        t = self.pick(targets)
        if self.chance(3):
            return [self.benign(t, sc)]
        if t == "x" or t == "y":
            return [self.pick([f"{t} = {self.ie(sc)}", f"{t} += 1", f"{t} -= 1",
                               f"{t} = ({t} + 1) % 3", f"{t} = {self.int_leaf(sc)}"])]
        if t == "b":
            return [self.pick([f"b = {self.be(sc)}", "b = not b"])]
        if t == "m":
            return [f"m = {self.sym_leaf(sc)} if {self.be(sc, 1)} else {self.sym_leaf(sc)}"]
        if t == "arr":
            shape = self.vars["arr"]["shape"]
            if self.chance(1):
                return [f"arr = [{self.ie(sc, 0)}, {self.ie(sc, 0)}]"]
            idx = self.sym_leaf(sc) if shape == "enum" else self.ie(sc, 1)
            return [self.pick([f"arr[{idx}] = {self.ie(sc, 1)}", f"arr[{idx}] = 1 - arr[{idx}]",
                               f"arr[{idx}] += 1"])]
        if t == "st":
            e = self.fresh("e")
            return [self.pick([f"st |= {{{self.ie(sc, 1)}}}", f"st -= {{{self.ie(sc, 1)}}}",
                               "st &= {0, 1}", "st = {}", f"st = st | {{{self.int_leaf(sc)}}}",
                               f"st = {{{e} for {e} in 0..2 if {self.be(sc.with_int(e), 1)}}}"])]
        if t == "q":
            return [self.pick([f"q = append(q, {self.ie(sc, 1)})", "q = tail(q)", "q = []",
                               f"q[{self.ie(sc, 1)}] = {self.int_leaf(sc)}",
                               f"q = append(q, {self.int_leaf(sc)})"])]
        # the process's local
        return [self.pick([f"{t} = {self.ie(sc)}", f"{t} += 1", f"{t} = 1 - {t}",
                           f"{t} = {self.int_leaf(sc)}"])]

    def benign(self, t: str, sc: _Scope) -> str:
        """An assignment to t that always stays within t's type (and cannot fail)."""
        if t in ("x", "y"):
            lo = 0 if t == "x" else -1
            return self.pick([f"{t} = ({t} + 1) % 3" if t == "x" else "y = (y + 2) % 3 - 1",
                              f"{t} = {lo} if {t} > {lo} else {lo + 1}",
                              f"{t} = (({self.safe_int(sc)}) % 3) + {lo}"])
        if t == "b":
            return self.pick(["b = not b", f"b = {self.be(sc, 0)}"])
        if t == "m":
            return self.pick(["m = red if m == green else green", f"m = {self.pick(MODE)}"])
        if t == "arr":
            if self.vars["arr"]["shape"] == "enum":
                return f"arr[{self.pick(MODE + (['m'] if 'm' in self.vars else []))}] = " \
                       f"1 - arr[{self.pick(MODE)}]"
            lo = 1 if self.vars["arr"]["shape"] == "range" else 0
            idx = self.pick([str(lo), str(lo + 1), f"{lo} + (({self.safe_int(sc)}) % 2)"])
            return f"arr[{idx}] = 1 - arr[{idx}]"
        if t == "st":
            return self.pick([f"st |= {{({self.safe_int(sc)}) % 2}}", "st -= {0}", "st = {}",
                              "st = st - {1} if 1 in st else st | {1}"])
        if t == "q":
            return self.pick(["q = tail(q) if len(q) > 0 else [1]",
                              "q = append(q, 0) if len(q) < 2 else []",
                              f"q = [({self.safe_int(sc)}) % 2]"])
        return self.pick([f"{t} = 1 - {t}", f"{t} = ({self.safe_int(sc)}) % 2"])

    def safe_int(self, sc: _Scope) -> str:
        """An int expression that cannot fail."""
        a, b = self.int_leaf(sc), self.int_leaf(sc)
        return self.pick([a, f"{a} + {b}", f"{a} - {b}", f"max({a}, {b})"])

    def stmt(self, sc: _Scope, d: int) -> list[str]:
        k = self.draw(st.integers(0, 9)) if d > 0 else 0
        if k <= 4:
            return self.assign(sc)
        if k in (5, 6):
            lines = [f"if {self.be(sc)}:"] + _indent(self.block(sc, d - 1))
            for _ in range(self.draw(st.integers(0, 1))):
                lines += [f"elif {self.be(sc)}:"] + _indent(self.block(sc, d - 1))
            if self.chance():
                lines += ["else:"] + _indent(self.block(sc, d - 1))
            return lines
        if k == 7:
            var = self.fresh("i")
            dom = self.pick(["0..1", "0..2"] + (["st"] if "st" in self.vars else [])
                            + (["q"] if "q" in self.vars else []))
            return [f"for {var} in {dom}:"] + _indent(self.block(sc.with_int(var), d - 1))
        if k == 8:
            return [f'assert {self.be(sc)}, "check {self.fresh("a")}"']
        return self.assign(sc) if self.chance(3) else ["pass"]

    def block(self, sc: _Scope, d: int = 2) -> list[str]:
        lines = []
        for _ in range(self.draw(st.integers(1, 3))):
            lines += self.stmt(sc, d)
        return lines

    # ------------------------------------------------------------------ sections
    def choose_components(self):
        """Processes first, then the optional variables, each only while the bound fits."""
        bound = 3 * 2  # x and b are always there
        n_procs = self.draw(st.integers(0, 2))
        for name, letter in (("P", "a"), ("Q", "b"))[:n_procs]:
            count = self.draw(st.integers(1, 2))
            steps = self.draw(st.integers(1, 3))
            local = self.chance()
            factor = (steps + 1) ** count * (2 ** count if local else 1)
            if bound * factor > BUDGET:
                count, local = 1, False
                factor = steps + 1
                if bound * factor > BUDGET:
                    continue
            bound *= factor
            self.procs.append({"name": name, "count": count,
                               "steps": [f"{name.lower()}{letter}{i + 1}" for i in range(steps)],
                               "local": f"l{name.lower()}" if local else None})
        self.vars["x"] = {"type": '"0..2"', "init": self.pick(["0", "any", "2"])}
        self.vars["b"] = {"type": "bool", "init": self.pick(["false", "true", "any"])}
        optional = [
            ("y", 3, lambda: {"type": '"-1..1"', "init": self.pick(["0", "1", "any"])}),
            ("m", 2, lambda: {"type": "Mode", "init": self.pick(["red", "any"])}),
            ("arr", 4, self.array_var),
            ("st", 4, lambda: {"type": '"set of 0..1"',
                               "init": self.pick(['"{}"', '"{1}"', "any"])}),
            ("q", 7, lambda: {"type": '"seq of 0..1 max 2"',
                              "init": self.pick(['"[]"', '"[1]"', '"[0, 1]"'])}),
        ]
        for name, size, make in optional:
            if self.chance() and bound * size <= BUDGET:
                bound *= size
                self.vars[name] = make()
        return bound

    def array_var(self) -> dict:
        shape = self.pick(list(ARRAY_SHAPES))
        type_text, _ = ARRAY_SHAPES[shape]
        init = self.pick(["0", "any", "[0, 1]", '"[k % 2 for k in 1..2]"'])
        return {"type": type_text, "init": init, "shape": shape}

    def global_scope(self, defines=True) -> _Scope:
        return _Scope(defines=defines)

    def build(self) -> str:
        self.choose_components()
        out = ["dnsrace: 1", f"name: gen-{self.draw(st.integers(0, 999))}"]
        if self.chance(1):
            out += ["constants:", "  TOP: 2"]
        out += ["types:", f"  Mode: [{', '.join(MODE)}]"]

        # defines: bodies read globals only, and never call other defines
        gs = self.global_scope(defines=False)
        if self.chance(3):
            self.defines["tot"] = self.ie(gs, 1)
        if self.chance(3):
            self.defines["pick"] = f"u if {self.be(gs, 1)} else v"
        if self.chance(2):
            self.defines["okd"] = f"{self.ie(gs.with_int('u'), 1)} >= 1 or {self.be(gs, 0)}"
        if self.chance(2):
            self.defines["ignore"] = "true"
        if self.defines:
            out.append("define:")
            heads = {"tot": "tot", "pick": "pick(u, v)", "okd": "okd(u)", "ignore": "ignore(u)"}
            for name, body in self.defines.items():
                out.append(f"  {heads[name]}: {json.dumps(body)}")

        out.append("variables:")
        for name, v in self.vars.items():
            out.append(f"  {name}: {{type: {v['type']}, init: {v['init']}}}")

        if self.procs:
            out.append("processes:")
            for p in self.procs:
                out += self.process(p)

        n_actions = self.draw(st.integers(0 if self.procs else 1, 2))
        if n_actions:
            out.append("actions:")
            for i in range(n_actions):
                out += self.action(f"act{i + 1}")

        gs = self.global_scope()
        out.append("invariants:")
        for i in range(self.draw(st.integers(1, 2))):
            if self.chance(1):
                out += [f"  inv{i + 1}:", f"    expr: {json.dumps(self.be(gs))}",
                        "    expect: violated"]
            else:
                out.append(f"  inv{i + 1}: {json.dumps(self.be(gs))}")
        if self.chance(3):
            out += ["transitions:", f"  tp1: {json.dumps(self.transition_prop(gs))}"]
        out += ["reachable:", f"  reach1: {json.dumps(self.be(gs))}"]
        if self.chance(1):
            out += ["  reach2:", f"    expr: {json.dumps(self.be(gs))}",
                    "    expect: unreachable"]
        if self.chance():
            out.append("deadlock: error")
        if self.temporal:
            out += self.temporal_sections(gs, [p["name"] for p in self.procs]
                                          + [f"act{i + 1}" for i in range(n_actions)])
        return "\n".join(out) + "\n"

    def temporal_sections(self, gs: _Scope, units: list[str]) -> list[str]:
        """`temporal:` with one to three properties of random forms, and sometimes
        `fairness:` over a random subset of the processes and actions."""
        out = ["temporal:"]
        for i in range(self.draw(st.integers(1, 3))):
            form = self.draw(st.integers(0, 3))
            p, q = self.be(gs, 1), self.be(gs, 1)
            text = [f"always eventually {p}", f"eventually always {p}",
                    f"({p}) leads_to {q}", f"recoverable {p}"][form]
            out.append(f"  live{i + 1}: {json.dumps(text)}")
        fair = {"weak": [], "strong": []}
        for u in units:
            k = self.draw(st.integers(0, 2))
            if k:
                fair[["weak", "strong"][k - 1]].append(u)
        if fair["weak"] or fair["strong"]:
            out += ["fairness:"] + [f"  {k}: [{', '.join(v)}]" for k, v in fair.items() if v]
        return out

    def transition_prop(self, gs: _Scope) -> str:
        primed = ["x'", "(x + 1)'", "b'"]
        if "y" in self.vars:
            primed.append("y'")
        if "q" in self.vars:
            primed += ["len(q')", "head(q)'"]
        if "st" in self.vars:
            primed += ["len(st')", "len(st)'"]
        if "arr" in self.vars:
            if self.vars["arr"]["shape"] == "enum":
                primed.append(f"arr'[{self.sym_leaf(gs)}]")
            else:
                primed.append(f"arr'[{self.ie(gs, 1)}]")
        if "tot" in self.defines:
            primed.append("tot'")
        for p in self.procs:
            if p["local"]:
                primed.append(f"({p['name']}.{p['local']}[0])'")
        a = self.pick(primed)
        if a == "b'":
            core = f"b' == ({self.be(gs, 1)})"
        else:
            core = f"{a} {self.pick(['>=', '<=', '==', '!='])} {self.ie(gs, 1)}"
        if self.chance():
            core = f"{core} or {self.be(gs, 1)}"
        return core

    def params(self, sc: _Scope) -> tuple[list[str], _Scope]:
        k = self.draw(st.integers(0, 3))
        if k == 0:
            return [], sc
        if k == 1:
            return ['params: {p: "0..1"}'], sc.with_int("p")
        if k == 2:
            return ["params: {c: Mode}"], sc.with_sym("c")
        return ['params: {p: "0..1", c: Mode}'], sc.with_int("p").with_sym("c")

    def body(self, sc: _Scope, proc=None, allow_params=True) -> list[str]:
        """params, guard and effect lines of an action, step or alternative."""
        lines, sc = self.params(sc) if allow_params else ([], sc)
        if self.chance(3):
            lines.append(f"guard: {json.dumps(self.be(sc))}")
        if self.chance(3):
            lines += ["effect: |"] + _indent(self.block(sc))
        self._last_scope = sc
        return lines

    def next_line(self, p: dict, k: int, sc: _Scope) -> list[str]:
        c = self.draw(st.integers(0, 5))
        if c <= 2:
            return []
        if c == 3:
            return [f"next: {self.pick(p['steps'] + ['done'])}"]
        targets = p["steps"] + ["done"]
        bad = [q["steps"][0] for q in self.procs if q is not p] + ["red"]
        a = self.pick(targets)
        b = self.pick(targets + (bad if self.chance(1) else []))
        return [f"next: {json.dumps(f'{a} if {self.be(sc, 1)} else {b}')}"]

    def process(self, p: dict) -> list[str]:
        out = [f"  {p['name']}:"]
        if p["count"] > 1 or self.chance():
            out.append(f"    count: {p['count']}")
        if p["local"]:
            out += ["    locals:", f"      {p['local']}: {{type: \"0..1\", "
                                   f"init: {self.pick(['0', '1', 'any'])}}}"]
        out.append("    steps:")
        sc = _Scope(proc=p)
        for k, name in enumerate(p["steps"]):
            lines = [f"name: {name}"]
            if self.chance(1):
                lines.append("either:")
                for j in range(2):
                    alt = []
                    if self.chance(3):
                        alt.append(f"name: {['alpha', 'beta'][j]}")
                    alt += self.body(sc)
                    alt += self.next_line(p, k, self._last_scope)
                    if not alt:
                        alt = ["guard: true"]
                    lines += _item(alt)
                lines += self.next_line(p, k, sc)
            else:
                lines += self.body(sc)
                lines += self.next_line(p, k, self._last_scope)
            out += _indent(_item(lines), 6)
        return out

    def action(self, name: str) -> list[str]:
        lines = [f"name: {name}"] + self.body(self.global_scope())
        return _indent(_item(lines), 2)


def _indent(lines: list[str], n: int = 4) -> list[str]:
    return [" " * n + line for line in lines]


def _item(lines: list[str]) -> list[str]:
    """A YAML list item made of the given mapping lines."""
    return ["- " + lines[0]] + _indent(lines[1:], 2)


@st.composite
def specs(draw) -> str:
    """A random valid spec, as YAML text."""
    return _Gen(draw).build()


@st.composite
def temporal_specs(draw) -> str:
    """A random valid spec with a `temporal:` section (and sometimes `fairness:`)."""
    return _Gen(draw, temporal=True).build()
