"""Turn a spec file into a typed `Model`: read, check the shape, resolve, type, evaluate."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..bounds import (MAX_ARRAY_SIZE, MAX_INIT_VALUES, MAX_INITIAL_STATES, MAX_PROCESS_COUNT,
                      MAX_SEQ_LENGTH, MAX_SET_WIDTH, MAX_STATE_SLOTS, MAX_TRANSITIONS,
                      NO_DEADLINE, Deadline)
from ..diagnostics import Diagnostic, Pos, Reporter, SourceFile, SpecError, did_you_mean
from ..input_files import MAX_SPEC_BYTES, InputFileError, read_input_bytes
from . import consteval, schema
from . import syntax as S
from .checker import RESERVED, Binding, Checker, Scope
from .consteval import ConstError
from .model import (Action, Alternative, Constant, Define, Model, Next, Param, Process, Property,
                    Ref, Step, Temporal, Variable)
from .parser import parse_effect, parse_expr
from .schema import check_keys, lookup, misspelt, need_map, need_scalar, need_seq
from .temporal import Refusal, read_fairness, split
from .types import (BOOL, INT, ANY, ArrayT, IntT, ScalarsetT, SeqT, SetT, SymT, Sym, Type,
                    all_values, capped_power, contains, finite_values, scalarset, scalarset_in,
                    slot_count, value_count)
from .yaml_reader import YMap, YScalar, YSeq, read_yaml

NAME_RE = re.compile(r"^[a-z0-9_-]+$")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEFINE_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(\s*([^)]*)\))?\s*$")


def load_model(path: str | Path, overrides: dict[str, int] | None = None,
               deadline: Deadline = NO_DEADLINE) -> Model:
    """Read and check the spec at `path`; raise `SpecError` with every problem found, or
    CompileTimeout when `deadline` passes first."""
    path = str(path)
    try:
        raw = read_input_bytes(path, "spec", MAX_SPEC_BYTES)
    except InputFileError as exc:
        raise SpecError([_file_diag(path, str(exc), "give the path of a spec file "
                                    "(YAML text)")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError([_file_diag(path, f"the spec is not UTF-8 text (byte {exc.start})",
                                    "save the file as UTF-8")]) from None
    return build_model(SourceFile(path, text), hashlib.sha256(raw).hexdigest(), overrides or {},
                       deadline)


def _file_diag(path, message, hint):
    from ..diagnostics import Diagnostic
    return Diagnostic("DR109", message, path, None, hint)


def build_model(source: SourceFile, sha256: str, overrides: dict[str, int],
                deadline: Deadline = NO_DEADLINE) -> Model:
    rep = Reporter(source)
    root = read_yaml(source.text, rep, deadline)
    rep.fail_if_errors()
    deadline.check()
    if not isinstance(root, YMap):
        rep.fail("DR105", "a spec is a YAML mapping with `dnsrace: 1`, `name:` and the sections "
                 "of the spec language", root.pos if root else Pos(1, 1),
                 "start the file with `dnsrace: 1` and `name: my-spec`, one key per line")
    builder = _Builder(source, sha256, rep, root, overrides, deadline)
    model = builder.build()
    rep.fail_if_errors()
    check_transition_count(model)
    check_initial_count(model)
    model.warnings = [d for d in rep.diagnostics if d.severity == "warning"]
    return model


class _Builder:
    def __init__(self, source, sha256, rep: Reporter, root: YMap, overrides,
                 deadline: Deadline = NO_DEADLINE):
        self.source = source
        self.deadline = deadline   # checked before each expression is parsed
        self.sha256 = sha256
        self.rep = rep
        self.root = root
        self.overrides = dict(overrides)
        self.constants: dict[str, Constant] = {}
        self.enums: dict[str, tuple[str, ...]] = {}
        self.scalarsets: dict[str, ScalarsetT] = {}
        self.symbols: list[str] = []
        self.defines: dict[str, Define] = {}
        self.globals = Scope({})
        self.checker = Checker(rep, self.defines, self.globals)
        self.declared: dict[str, tuple[str, Pos]] = {}  # global name -> (what, where)
        # where a symbolic constant was evaluated to its value to fix a structure (an array
        # size, a count, a domain, an initial value): the parametric IR refuses those
        self.symbolic_uses: list[tuple[Pos, tuple[str, ...]]] = []
        self.temporal: list[Temporal] = []
        self.slots = 0   # integers that store one state, so far (MAX_STATE_SLOTS)

    # ------------------------------------------------------------ small helpers
    def err(self, code, msg, pos, hint=None):
        self.rep.error(code, msg, pos, hint)

    def expr_of(self, node: YScalar, what: str) -> S.Expr | None:
        """Parse a scalar as an expression (YAML ints and bools become literals)."""
        v = node.value
        if isinstance(v, bool):
            return S.BoolLit(node.pos, v)
        if isinstance(v, int):
            return S.Num(node.pos, v)
        if v is None:
            self.err("DR105", f"{what} is empty", node.pos, "write an expression")
            return None
        if not isinstance(v, str):
            self.err("DR105", f"{what} must be an expression, not {v!r}", node.pos,
                     "integers, true/false, names and quoted expressions are allowed here")
            return None
        self.deadline.check()
        try:
            return parse_expr(v, node.offset_pos, self.source.path)
        except SpecError as exc:
            self.rep.diagnostics.extend(exc.diagnostics)
            return None

    def effect_of(self, node: YScalar | None) -> list[S.Stmt]:
        if node is None:
            return []
        node = need_scalar(node, self.rep, "an effect")
        if node is None or node.value is None:
            return []
        if not isinstance(node.value, str):
            self.err("DR105", "an effect is a block of statements", node.pos,
                     "for example `effect: x = x + 1`")
            return []
        self.deadline.check()
        try:
            return parse_effect(node.value, node.offset_pos, self.source.path)
        except SpecError as exc:
            self.rep.diagnostics.extend(exc.diagnostics)
            return []

    def const_value(self, e: S.Expr | None, scope: Scope, want: str = "int"):
        """Type-check and evaluate a constant expression; None after an error."""
        if e is None:
            return None
        before = len(self.rep.errors)
        self.checker.expr(e, scope)
        if len(self.rep.errors) > before or _uses_broken(e):
            return None
        try:
            v = consteval.evaluate(e)
        except ConstError as exc:
            self.err(exc.code, str(exc), exc.node.pos, exc.hint)
            return None
        if want == "int" and (isinstance(v, bool) or not isinstance(v, int)):
            self.err("DR301", "an integer is needed here", e.pos,
                     "write an integer expression over constants, e.g. N - 1")
            return None
        names = self.symbolic_names(e)
        if names:
            self.symbolic_uses.append((e.pos, names))
        if want == "bool" and not isinstance(v, bool):
            self.err("DR301", "a condition (true or false) is needed here", e.pos,
                     "write a comparison over constants, e.g. N >= 1")
            return None
        return v

    def symbolic_names(self, e: S.Expr) -> tuple[str, ...]:
        """The symbolic constants a constant expression names."""
        out = []
        for x in S.walk(e):
            if isinstance(x, S.Name) and x.id in self.constants \
                    and self.constants[x.id].symbolic and x.id not in out:
                out.append(x.id)
        return tuple(out)

    def symbolic_in_type(self, t) -> tuple[str, ...]:
        """The symbolic constants a type's ranges name, at any depth."""
        if isinstance(t, IntT):
            return tuple(dict.fromkeys(n for e in (t.lo_expr, t.hi_expr) if e is not None
                                       for n in self.symbolic_names(e)))
        inner = [getattr(t, a) for a in ("elem", "key") if getattr(t, a, None) is not None]
        return tuple(dict.fromkeys(n for x in inner for n in self.symbolic_in_type(x)))

    def broken(self, name: str) -> None:
        """Bind a name whose declaration failed (and was reported), so that its uses are not
        reported again as unknown names."""
        self.globals.names.setdefault(name, Binding(Ref("broken", name=name), ANY))

    def section(self, key: str):
        """A top-level section, also under a misspelt key (reported already)."""
        return lookup(self.root, key, schema.TOP_KEYS)

    def declare_global(self, name: str, what: str, pos: Pos, binding: Binding,
                       shareable: bool = False) -> bool:
        if not IDENT_RE.match(name):
            self.err("DR306", f"'{name}' is not a valid name for {what}", pos,
                     "names are letters, digits and '_', not starting with a digit")
            return False
        if name in RESERVED:
            self.err("DR306", f"'{name}' is reserved and cannot name {what}", pos,
                     _reserved_hint(name))
            self.broken(name)
            return False
        if name in self.declared:
            prev_what, prev_pos = self.declared[name]
            if shareable and prev_what in ("an enumeration value", "a step name"):
                return True
            if {prev_what, what} == {"a scalarset", "a process"}:
                # `Enactor: {scalarset: N}` and `processes: Enactor: {count: Enactor}`: the
                # name reads as the process before '.', as the set of identities elsewhere
                if what == "a process":
                    self.globals.names[name] = binding
                    self.declared[name] = (what, pos)
                return True
            if prev_what == what:
                self.err("DR208", f"{what[what.index(' ') + 1:]} '{name}' is declared twice "
                         f"(first at line {prev_pos.line})", pos, "rename or remove one of them")
                return False
            self.err("DR208", f"'{name}' is already {prev_what} (line {prev_pos.line}); it cannot "
                     f"also be {what}", pos, "rename one of them: names are global")
            return False
        self.declared[name] = (what, pos)
        self.globals.names[name] = binding
        return True

    def add_symbol(self, name: str) -> None:
        if name not in self.symbols:
            self.symbols.append(name)

    # ------------------------------------------------------------ the sections
    def build(self) -> Model:
        root, rep = self.root, self.rep
        unknown = check_keys(root, schema.TOP_KEYS, rep, "the spec")
        for key, hint in (("dnsrace", "add `dnsrace: 1` (the language version) as the first key"),
                          ("name", "add `name: my-spec` (lower-case letters, digits, '-', '_')")):
            if root.get(key) is None and not misspelt(key, unknown):
                self.err("DR104", f"the spec has no `{key}:`", root.pos, hint)
        version = root.get("dnsrace")
        if isinstance(version, YScalar) and isinstance(version.value, str):
            self.err("DR107", f"`dnsrace:` is the integer 1, not the text {version.value!r}",
                     version.pos, "write `dnsrace: 1`, without quotes: the language version "
                     "is the integer 1 only")
        elif isinstance(version, YScalar) and type(version.value) is not int:
            shown = {True: "true", False: "false", None: "nothing"}.get(version.value) \
                if not isinstance(version.value, float) else repr(version.value)
            self.err("DR107", f"`dnsrace:` is the integer 1, not {shown}", version.pos,
                     "write `dnsrace: 1`: the language version is the integer 1 only")
        elif isinstance(version, YScalar) and version.value != 1:
            self.err("DR107", f"unsupported spec language version {version.value!r}",
                     version.pos, "this dnsrace reads version 1: write `dnsrace: 1`")
        elif version is not None and not isinstance(version, YScalar):
            self.err("DR107", "`dnsrace:` is the language version, 1", version.pos,
                     "write `dnsrace: 1`")
        name_node = need_scalar(root.get("name"), rep, "`name`")
        name = ""
        if name_node is not None:
            name = str(name_node.value)
            if not NAME_RE.match(name):
                self.err("DR306", f"the spec name '{name}' must match [a-z0-9_-]+", name_node.pos,
                         "use lower-case letters, digits, '-' and '_'")
        description = root.get("description")
        desc = str(description.value) if isinstance(description, YScalar) and \
            description.value is not None else None

        self.read_constants(need_map(self.section("constants"), rep, "`constants`", root))
        self.read_enums(need_map(self.section("types"), rep, "`types`", root))
        procs_node = need_map(self.section("processes"), rep, "`processes`", root)
        self.collect_steps(procs_node)
        self.add_symbol("done")
        actions_node = need_seq(self.section("actions"), rep, "`actions`")
        self.declare_processes_and_actions(procs_node, actions_node)
        self.read_define_headers(need_map(self.section("define"), rep, "`define`", root))
        variables = self.read_variables(need_map(self.section("variables"), rep, "`variables`", root))
        processes = self.read_processes(procs_node)
        self.check_defines()
        actions = self.read_actions(actions_node)
        properties = self.read_properties()
        fairness = read_fairness(self.section("fairness"), rep, self.declared)
        deadlock = False
        dl = root.get("deadlock")
        if dl is not None:
            dl = need_scalar(dl, rep, "`deadlock`")
            if dl is not None and dl.value not in ("ignore", "error"):
                self.err("DR105", f"`deadlock:` is `ignore` or `error`, not {dl.value!r}", dl.pos,
                         did_you_mean(str(dl.value), ("ignore", "error"))
                         or "`error` reports states where nothing can move")
            deadlock = dl is not None and dl.value == "error"
        self.check_assumes()
        consteval.SYMBOL_RANK.clear()
        return Model(name=name, source=self.source, sha256=self.sha256, description=desc,
                     constants=self.constants, enums=self.enums, symbols=self.symbols,
                     defines=self.defines, variables=variables, processes=processes,
                     actions=actions, properties=properties, deadlock=deadlock,
                     symbolic_uses=self.symbolic_uses, temporal=self.temporal,
                     fairness=fairness, scalarsets=self.scalarsets)

    def read_constants(self, node: YMap | None) -> None:
        items = node.items if node else []
        for key, val in items:
            name = str(key.value)
            value, symbolic, assume_node = None, False, None
            if isinstance(val, YMap):
                unknown = check_keys(val, schema.CONSTANT_KEYS, self.rep, f"constant '{name}'")
                v = val.get("value")
                value = v.value if isinstance(v, YScalar) else None
                s = val.get("symbolic")
                if s is not None:
                    if not isinstance(s, YScalar) or not isinstance(s.value, bool):
                        self.err("DR301", "`symbolic:` is true or false", s.pos,
                                 "write `symbolic: true` (YAML 1.2: yes/no are strings)")
                    else:
                        symbolic = s.value
                assume_node = need_scalar(val.get("assume"), self.rep, "`assume`")
                pos = v.pos if v is not None else val.pos
                if v is None:
                    if not misspelt("value", unknown):
                        self.err("DR104", f"constant '{name}' has no `value:`", key.pos,
                                 "even a symbolic constant needs a value for the explicit engines")
                    self.broken(name)
                    continue
            elif isinstance(val, YScalar):
                value, pos = val.value, val.pos
            else:
                self.err("DR301", f"constant '{name}' must be an integer", val.pos,
                         "write `NAME: 3`, or `NAME: {value: 3, symbolic: true, assume: ...}`; "
                         "enumerations go under `types:`")
                self.broken(name)
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                self.err("DR301", f"constant '{name}' must be an integer, not {value!r}", pos,
                         "constants are named integers")
                self.broken(name)
                continue
            if name in self.overrides:
                value = self.overrides.pop(name)
            c = Constant(name, value, key.pos, symbolic)
            if self.declare_global(name, "a constant", key.pos,
                                   Binding(Ref("const", name=name, value=value), INT)):
                self.constants[name] = c
            if assume_node is not None:
                c.assume = self.expr_of(assume_node, "`assume`")
                c.assume_text = " ".join(str(assume_node.value).split())
        where = self.root.key_pos("constants")
        for name, value in self.overrides.items():
            hint = did_you_mean(name, self.constants, "the constants are") if self.constants \
                else "the spec declares no constants"
            self.err("DR401", f"--const {name}={value}: the spec has no constant '{name}'",
                     where, hint or "--const overrides a constant declared under `constants:`")

    def check_assumes(self) -> None:
        for c in self.constants.values():
            if c.assume is None:
                continue
            mark = len(self.symbolic_uses)
            v = self.const_value(c.assume, self.globals, want="bool")
            del self.symbolic_uses[mark:]
            if v is False:
                self.err("DR307", f"constant {c.name} = {c.value} does not satisfy its assume "
                         f"`{c.assume_text}`", c.assume.pos,
                         "change the value (or the --const override) so that the assume holds")

    def read_enums(self, node: YMap | None) -> None:
        for key, val in node.items if node else []:
            name = str(key.value)
            values: list[str] = []
            if isinstance(val, YSeq):
                for item in val.items:
                    if not isinstance(item, YScalar) or not isinstance(item.value, str) \
                            or not IDENT_RE.match(item.value):
                        self.err("DR302", "an enumeration value must be a name", item.pos,
                                 "write symbols such as [up, down]")
                        continue
                    if item.value in values:
                        self.err("DR208", f"'{item.value}' is listed twice in {name}", item.pos,
                                 "remove the second one")
                        continue
                    values.append(item.value)
                    self.symbol_global(item.value, item.pos)
            elif isinstance(val, YMap):
                self.read_scalarset(name, key, val)
                continue
            else:
                self.err("DR302", f"type '{name}' must list its values", val.pos,
                         "`types:` holds enumerations, e.g. `Health: [up, down]`, and "
                         "scalarsets, e.g. `Node: {scalarset: N}`; named expressions go under "
                         "`define:`")
                continue
            if not values:
                self.err("DR302", f"enumeration '{name}' has no values", val.pos,
                         "list at least one value, e.g. [up, down]")
                continue
            self.enums[name] = tuple(values)
            self.declare_global(name, "an enumeration", key.pos,
                                Binding(Ref("enumset", name=name, value=tuple(values)),
                                        SetT(SymT(tuple(values), name))))

    def read_scalarset(self, name: str, key, val: YMap) -> None:
        """`S: {scalarset: N}`: N interchangeable identities (N constant, >= 1, not symbolic)."""
        unknown = check_keys(val, ("scalarset",), self.rep, f"type '{name}'")
        if val.get("scalarset") is None:
            if not misspelt("scalarset", unknown):
                self.err("DR330", f"type '{name}' is a mapping without `scalarset:`", val.pos,
                         "a scalarset is written `{scalarset: N}`; an enumeration as a list "
                         "of its values")
            self.broken(name)
            return
        node = need_scalar(val.get("scalarset"), self.rep, "`scalarset`")
        e = self.expr_of(node, "`scalarset`") if node is not None else None
        names = self.symbolic_names(e) if e is not None else ()
        mark = len(self.symbolic_uses)
        n = self.const_value(e, self.globals)
        del self.symbolic_uses[mark:]
        if names:
            self.err("DR330", f"scalarset '{name}' is sized by the symbolic constant "
                     f"{names[0]}", e.pos, "a scalarset's size is fixed: use a constant that "
                     "is not symbolic (its value can still change with --const)")
        elif n is not None and n < 1:
            self.err("DR330", f"scalarset '{name}' needs at least 1 identity, not {n}", e.pos,
                     "write `{scalarset: N}` with N >= 1")
        elif n is not None and n > MAX_PROCESS_COUNT:
            self.err("DR308", f"scalarset '{name}' has {n:,} identities, more than the "
                     f"{MAX_PROCESS_COUNT:,} allowed", e.pos, "lower its size")
        elif n is not None:
            t = scalarset(name, n)
            self.scalarsets[name] = t
            binding = Binding(Ref("scalarset", name=name, value=n), SetT(t))
            if self.declare_global(name, "a scalarset", key.pos, binding):
                self.globals.names["\0scalarset:" + name] = binding
            return
        self.broken(name)

    def symbol_global(self, value: str, pos: Pos) -> None:
        """Declare an enumeration value; a symbol may recur across enumerations and steps."""
        self.add_symbol(value)
        if self.declared.get(value, ("",))[0] in ("an enumeration value", "a step name"):
            return
        self.declare_global(value, "an enumeration value", pos,
                            Binding(Ref("sym", name=value), SymT()))

    def collect_steps(self, procs: YMap | None) -> None:
        """Step names are symbols; register them before any expression is typed."""
        for pkey, pval in procs.items if procs else []:
            if not isinstance(pval, YMap):
                continue
            steps = lookup(pval, "steps", schema.PROCESS_KEYS)
            for item in steps.items if isinstance(steps, YSeq) else []:
                if isinstance(item, YMap) and isinstance(item.get("name"), YScalar):
                    n = item.get("name")
                    if isinstance(n.value, str) and IDENT_RE.match(n.value) \
                            and n.value not in RESERVED:
                        self.add_symbol(n.value)
                        if self.declared.get(n.value, ("",))[0] not in ("an enumeration value",
                                                                         "a step name"):
                            self.declare_global(n.value, "a step name", n.pos,
                                                Binding(Ref("sym", name=n.value), SymT()))
        self.globals.names["done"] = Binding(Ref("sym", name="done"), SymT())

    def declare_processes_and_actions(self, procs: YMap | None, actions: YSeq | None) -> None:
        for pkey, _ in procs.items if procs else []:
            self.declare_global(str(pkey.value), "a process", pkey.pos,
                                Binding(Ref("process", name=str(pkey.value)), ANY))
        for item in actions.items if actions else []:
            if isinstance(item, YMap) and isinstance(item.get("name"), YScalar):
                n = item.get("name")
                self.declare_global(str(n.value), "an action", n.pos,
                                    Binding(Ref("action", name=str(n.value)), ANY))
        consteval.SYMBOL_RANK.clear()
        consteval.SYMBOL_RANK.update({s: i for i, s in enumerate(self.symbols)})

    def read_define_headers(self, node: YMap | None) -> None:
        for key, val in node.items if node else []:
            m = DEFINE_RE.match(str(key.value))
            if not m:
                self.err("DR306", f"'{key.value}' is not a define header", key.pos,
                         "write `name:` or `name(a, b):`")
                continue
            name = m.group(1)
            params = [p.strip() for p in m.group(2).split(",")] if m.group(2) else []
            params = [p for p in params if p]
            bad = [p for p in params if not IDENT_RE.match(p) or p in RESERVED]
            if bad:
                self.err("DR306", f"'{bad[0]}' is not a valid argument name", key.pos,
                         _reserved_hint(bad[0]) if bad[0] in RESERVED else
                         "names are letters, digits and '_', not starting with a digit")
                continue
            body_node = need_scalar(val, self.rep, f"define '{name}'")
            if body_node is None:
                continue
            body = self.expr_of(body_node, f"define '{name}'")
            if body is None:
                continue
            if self.declare_global(name, "a define", key.pos,
                                   Binding(Ref("define", name=name), ANY)):
                self.defines[name] = Define(name, params, body, key.pos)
                for p in params:
                    if self.globals.lookup(p) is not None:
                        what = self.declared.get(p, ("a global name",))[0]
                        self.err("DR208", f"argument '{p}' of define '{name}' reuses the name "
                                 f"of {what}", key.pos, "rename the argument: shadowing is an "
                                 "error in the spec language")

    def check_defines(self) -> None:
        """Type each define once with unknown argument types, so unused ones are checked too."""
        for d in self.defines.values():
            self.checker.define_body(d, [ANY] * len(d.params), d.body)

    # ------------------------------------------------------------ types and values
    def parse_type(self, node: YScalar, text: str | None = None, start: int = 0) -> Type | None:
        """Parse a type written as text; `start` is its offset within the scalar."""
        if text is None:
            if not isinstance(node.value, str):
                if node.value in (True, False) or node.value is None:
                    self.err("DR302", "a type is needed here", node.pos,
                             "e.g. `bool`, `0..3`, `set of 0..3`, `seq of 0..3 max 2`")
                    return None
                text = str(node.value)
            else:
                text = node.value
        lead = len(text) - len(text.lstrip())
        body = text.strip()
        start += lead
        at = node.offset_pos(start)
        locate = lambda off: node.offset_pos(start + off)  # noqa: E731
        if body in ("bool",):
            return BOOL
        if body == "int":
            return INT
        if body.startswith("set of "):
            elem = self.parse_type(node, body[7:], start + 7)
            width = value_count(elem, MAX_SET_WIDTH) if elem is not None and \
                not isinstance(elem, (SetT, SeqT, ArrayT)) else None
            if width is not None and width > MAX_SET_WIDTH:
                skip = len(body[7:]) - len(body[7:].lstrip())
                self.err("DR308", f"a set's elements come from {elem}, more than the "
                         f"{MAX_SET_WIDTH:,} values a set may draw from", locate(7 + skip),
                         "narrow the element type: a set is stored as a bitmask, one bit per "
                         "value it may hold")
                return None
            if elem is not None and finite_values(elem) is None:
                skip = len(body[7:]) - len(body[7:].lstrip())
                self.err("DR302", f"a set's elements must come from a finite type (bool, a "
                         f"range or an enumeration), not {elem}", locate(7 + skip),
                         "bound the elements, e.g. `set of 0..7`")
                return None
            return SetT(elem) if elem is not None else None
        if body.startswith("seq of "):
            k = body.rfind(" max ")
            if k < 0:
                self.err("DR302", "a sequence type needs a bound: `seq of T max N`", at,
                         f"e.g. `{body} max 3`: the bound keeps the state space finite")
                return None
            elem = self.parse_type(node, body[7:k], start + 7)
            n = self.const_value(self._parse(body[k + 5:], node, start + k + 5), self.globals)
            if elem is None or n is None:
                return None
            if n < 0:
                self.err("DR302", f"a sequence's max must be >= 0, not {n}", locate(k + 5),
                         "the max is the longest the sequence may grow")
                return None
            if n > MAX_SEQ_LENGTH:
                self.err("DR308", f"a sequence's max is {n:,}, more than the {MAX_SEQ_LENGTH:,} "
                         "a sequence may hold", locate(k + 5),
                         "lower the max: each element a sequence may hold is stored in every "
                         "state")
                return None
            return SeqT(elem, n)
        if body.startswith("["):
            depth, k = 0, 0
            for k, ch in enumerate(body):
                depth += ch == "["
                depth -= ch == "]"
                if depth == 0:
                    break
            if depth != 0:
                self.err("DR302", "unclosed '[' in an array type", at,
                         "write `[N]T`, `[LO..HI]T` or `[Enum]T`")
                return None
            inner = body[1:k]
            elem = self.parse_type(node, body[k + 1:], start + k + 1)
            if elem is None:
                return None
            if inner.strip() in self.scalarsets:
                key = self.scalarsets[inner.strip()]
                if _indexed_by(elem, key):
                    self.err("DR337", f"an array indexed by {key.name} inside another: this "
                             "version cannot permute both indices at once", at,
                             f"index one level by {key.name} and the other by a range, or use "
                             f"`set of {key.name}` elements")
                    return None
                return ArrayT(key, tuple(range(key.size)), elem)
            if inner.strip() in self.enums:
                vals = self.enums[inner.strip()]
                return ArrayT(SymT(vals, inner.strip()), tuple(Sym(v) for v in vals), elem)
            ie = self._parse(inner, node, start + 1)
            if ie is None:
                return None
            if isinstance(ie, S.BinOp) and ie.op == "..":
                lo = self.const_value(ie.left, self.globals)
                hi = self.const_value(ie.right, self.globals)
            else:
                lo, hi = 0, self.const_value(ie, self.globals)
                hi = hi - 1 if hi is not None else None
            if lo is None or hi is None:
                return None
            if hi < lo:
                self.err("DR302", f"an array needs at least one element (index {lo}..{hi})",
                         locate(1), "its size must be at least 1")
                return None
            if hi - lo + 1 > MAX_ARRAY_SIZE:
                self.err("DR308", f"an array of {hi - lo + 1:,} elements: more than the "
                         f"{MAX_ARRAY_SIZE:,} an array may have", locate(1),
                         "make the array smaller: every element is stored in every state")
                return None
            return ArrayT(IntT(lo, hi), tuple(range(lo, hi + 1)), elem)
        if body.startswith("{"):
            names = [x.strip() for x in body.strip("{}").split(",") if x.strip()]
            offset = start + 1
            vals = []
            for nm in names:
                off = text.find(nm, offset - lead if offset > lead else 0)
                pos = node.offset_pos(start + max(off, 0) - lead) if off >= 0 else at
                if not IDENT_RE.match(nm) or nm in RESERVED:
                    self.err("DR302", f"'{nm}' is not a valid enumeration value", pos,
                             _reserved_hint(nm) if nm in RESERVED else
                             "enumeration values are names, e.g. {up, down}")
                    return None
                self.symbol_global(nm, pos)
                vals.append(nm)
            consteval.SYMBOL_RANK.update({s: i for i, s in enumerate(self.symbols)})
            return SymT(tuple(vals))
        if IDENT_RE.match(body) and getattr(self.globals.names.get(body), "ref", None) \
                is not None and self.globals.names[body].ref.kind == "broken":
            return None   # a type whose declaration was rejected (and reported)
        if IDENT_RE.match(body) and body not in self.constants:
            if body in self.enums:
                return SymT(self.enums[body], body)
            if body in self.scalarsets:
                return self.scalarsets[body]
            hint = did_you_mean(body, list(self.enums) + list(self.scalarsets) + ["bool", "int"])
            self.err("DR302", f"unknown type '{body}'", at,
                     hint or "types are bool, int, LO..HI, an enumeration, set of T, "
                     "seq of T max N, [N]T")
            return None
        e = self._parse(body, node, start)
        if e is None:
            return None
        if not (isinstance(e, S.BinOp) and e.op == ".."):
            self.err("DR302", f"'{body}' is not a type", at,
                     "types are bool, int, LO..HI, an enumeration, set of T, seq of T max N, [N]T")
            return None
        mark = len(self.symbolic_uses)
        lo = self.const_value(e.left, self.globals)
        hi = self.const_value(e.right, self.globals)
        del self.symbolic_uses[mark:]   # a range's bounds may stay symbolic
        if lo is None or hi is None:
            return None
        if hi < lo:
            self.err("DR302", f"the range {lo}..{hi} is empty", at, "write LO..HI with LO <= HI")
            return None
        return IntT(lo, hi, e.left if self.symbolic_names(e.left) else None,
                    e.right if self.symbolic_names(e.right) else None)

    def _parse(self, text: str, node: YScalar, start: int) -> S.Expr | None:
        self.deadline.check()
        try:
            return parse_expr(text, lambda off: node.offset_pos(start + off), self.source.path)
        except SpecError as exc:
            self.rep.diagnostics.extend(exc.diagnostics)
            return None

    def state_names(self) -> set[str]:
        """The names of every variable and process local the spec declares."""
        names: set[str] = set()
        variables = self.section("variables")
        if isinstance(variables, YMap):
            names |= {str(k.value) for k, _ in variables.items}
        procs = self.section("processes")
        for _, pval in procs.items if isinstance(procs, YMap) else []:
            locs = lookup(pval, "locals", schema.PROCESS_KEYS) if isinstance(pval, YMap) else None
            names |= {str(k.value) for k, _ in locs.items} if isinstance(locs, YMap) else set()
        return names

    def initial_const(self, node: YScalar, what: str):
        """An initial value: a constant expression; None after an error."""
        e = self.expr_of(node, what)
        if e is None:
            return None
        state = self.state_names() - set(self.constants)
        read = next((n for n in S.walk(e) if isinstance(n, S.Name) and n.id in state), None)
        if read is not None:
            self.err("DR303", f"an initial value cannot read the variable '{read.id}'", read.pos,
                     "initial values are constant expressions; `init: any` starts from every "
                     "value of the type")
            return None
        return self.const_value(e, self.globals, want="any")

    def init_values(self, t: Type, node, what: str) -> list | None:
        """The initial values of a variable of declared type t (several for `any`)."""
        if isinstance(node, YScalar) and node.value == "any":
            names = self.symbolic_in_type(t)
            if names:   # every value of the type, enumerated at the constants' values
                self.symbolic_uses.append((node.pos, names))
            count = value_count(t, MAX_INIT_VALUES)
            if count is not None and count > MAX_INIT_VALUES:
                self.err("DR309", f"`init: any` would start {what} from more than "
                         f"{MAX_INIT_VALUES:,} values of {t}", node.pos,
                         "give a single initial value, or a smaller type: each initial value is "
                         "a separate initial state")
                return None
            vals = all_values(t)
            if vals is None:
                self.err("DR303", f"`init: any` needs a finite type, and {what} is {t}", node.pos,
                         "give the type bounds, or a single initial value")
            return vals
        if isinstance(node, YMap) and not node.items:
            node = YScalar("{}", node.pos)
        if isinstance(node, YSeq):
            items = []
            for item in node.items:
                if not isinstance(item, YScalar):
                    self.err("DR303", "a list `init` holds one value per element", item.pos,
                             "quote an element that YAML would read as a list or mapping")
                    return None
                v = self.initial_const(item, "an initial value")
                if v is None:
                    return None
                items.append(v)
            return self.fit_init(t, tuple(items), node.pos, what)
        node = need_scalar(node, self.rep, f"the init of {what}")
        if node is None:
            return None
        v = self.initial_const(node, f"the init of {what}")
        if v is None:
            return None
        return self.fit_init(t, v, node.pos, what)

    def fit_init(self, t: Type, v, pos: Pos, what: str) -> list | None:
        problem = _names_identity(t, v)
        if problem is not None:
            self.err("DR335", f"the init of {what} {problem}", pos,
                     "identities have no literals: a scalarset value starts as `any`, an array "
                     "indexed by a scalarset as one value for every element, a set of one as "
                     "{} or the whole scalarset")
            return None
        if isinstance(t, ArrayT):
            if isinstance(v, tuple) and not (isinstance(t.elem, (SeqT, ArrayT))
                                             and contains(t.elem, v)):
                if len(v) != len(t.keys):
                    self.err("DR303", f"the init of {what} lists {len(v)} values for "
                             f"{len(t.keys)} elements", pos, "give one value per index, or one "
                             "value for every element")
                    return None
                vals = v
            else:
                vals = (v,) * len(t.keys)
            for x in vals:
                if not contains(t.elem, x):
                    self.err("DR303", f"initial value {_show(x)} is outside the element type "
                             f"{t.elem} of {what}", pos, "change the init or widen the type")
                    return None
            return [tuple(vals)]
        if isinstance(t, SeqT) and isinstance(v, frozenset) and not v:
            v = ()
        if not contains(t, v):
            self.err("DR303", f"initial value {_show(v)} is outside the type {t} of {what}", pos,
                     "change the init or widen the type")
            return None
        return [v]

    def read_var_table(self, node: YMap | None, process: str | None,
                       copies: int = 1) -> list[Variable]:
        """Read variables or locals.  One with a bad type or init is kept (typed `ANY`, no
        initial values) so that its uses are not reported again as unknown names; the errors
        already reported stop the build."""
        out = []
        for key, val in node.items if node else []:
            name = str(key.value)
            where = f"variable '{name}'" if process is None else f"local '{name}' of {process}"
            spec = need_map(val, self.rep, where, key)
            if spec is None:
                out.append(Variable(name, ANY, [], key.pos, process))
                continue
            unknown = check_keys(spec, schema.VARIABLE_KEYS, self.rep, where)
            t = inits = None
            tnode = spec.get("type")
            if tnode is None:
                if not misspelt("type", unknown):
                    self.err("DR104", f"{where} has no `type:`", key.pos, "e.g. `type: 0..3`")
            else:
                tnode = need_scalar(tnode, self.rep, f"the type of {where}")
                t = self.parse_type(tnode) if tnode is not None else None
                if t is not None and not self.room_for(t, where, tnode.pos, copies):
                    t = None
            if spec.get("init") is None:
                if not misspelt("init", unknown):
                    self.err("DR104", f"{where} has no `init:`", key.pos, "give its initial "
                             "value, or `init: any` for every value of the type")
            elif t is not None:
                inits = self.init_values(t, spec.get("init"), where)
            out.append(Variable(name, t or ANY, inits or [], key.pos, process))
        return out

    def room_for(self, t: Type, where: str, pos: Pos, copies: int = 1) -> bool:
        """Count the integers that store t (`copies` times) in the state; refuse the type
        that takes the state past MAX_STATE_SLOTS."""
        need = slot_count(t, MAX_STATE_SLOTS) * copies
        self.slots += need
        if self.slots <= MAX_STATE_SLOTS:
            return True
        shown = f"{need:,}" if need <= MAX_STATE_SLOTS else f"over {MAX_STATE_SLOTS:,}"
        self.err("DR308", f"the state would need more than {MAX_STATE_SLOTS:,} integers with "
                 f"{where} ({t} takes {shown})", pos,
                 "make the arrays and sequences smaller: every state stores all of them")
        return False

    def read_variables(self, node: YMap | None) -> list[Variable]:
        variables = self.read_var_table(node, None)
        for v in variables:
            self.declare_global(v.name, "a variable", v.pos, Binding(Ref("var", name=v.name), v.type))
        return variables

    # ------------------------------------------------------------ processes and actions
    def read_params(self, node, scope: Scope, where: str) -> list[Param]:
        """Read `params`.  A parameter whose domain is rejected is kept, with no values and
        type `ANY`, so that its uses are not reported again as unknown names."""
        pm = need_map(node, self.rep, f"the params of {where}", None)
        params: list[Param] = []
        for key, val in pm.items if pm else []:
            name = str(key.value)
            if not self.checker.declare(name, key.pos, scope, "the parameter"):
                continue
            domain = self.param_domain(name, val, params)
            vals, ptype = domain if domain is not None else ([], ANY)
            params.append(Param(name, vals, ptype, key.pos))
        return params

    def param_domain(self, name: str, val, earlier: list[Param]):
        """The values and type of a parameter's domain, or None after an error."""
        vnode = need_scalar(val, self.rep, f"the domain of parameter '{name}'")
        e = self.expr_of(vnode, "a parameter domain") if vnode else None
        if e is None:
            return None
        if isinstance(e, S.Name) and e.id in self.enums:
            return [Sym(x) for x in self.enums[e.id]], SymT(self.enums[e.id], e.id)
        if isinstance(e, S.Name) and e.id in self.scalarsets:
            self.checker.expr(e, self.globals)
            return list(range(self.scalarsets[e.id].size)), self.scalarsets[e.id]
        other = next((n for n in S.walk(e) if isinstance(n, S.Name)
                      and n.id in {p.name for p in earlier}), None)
        if other is not None:
            self.err("DR301", f"the domain of parameter '{name}' uses the parameter "
                     f"'{other.id}'", other.pos, f"give '{name}' a constant domain of its own "
                     "and narrow the combinations with the guard")
            return None
        before = len(self.rep.errors)
        self.checker.expr(e, self.globals)
        if len(self.rep.errors) > before or _uses_broken(e):
            return None
        try:
            dom = consteval.evaluate(e)
        except ConstError as exc:
            if exc.code != "DR301":
                self.err(exc.code, str(exc), exc.node.pos, exc.hint)
                return None
            self.err("DR301", f"a parameter's domain must be a constant set: {exc}",
                     exc.node.pos, "use constants, ranges and enumerations; narrow the "
                     "parameter with the guard")
            return None
        if not isinstance(dom, (frozenset, tuple)):
            self.err("DR301", "a parameter's domain must be a set", e.pos,
                     "e.g. `0..N-1`, `{1, 3}` or an enumeration's name")
            return None
        names = self.symbolic_names(e)
        if names:
            self.symbolic_uses.append((e.pos, names))
        vals = sorted(dom, key=consteval.order_key) if isinstance(dom, frozenset) else list(dom)
        return vals, e.type.elem if isinstance(e.type, (SetT, SeqT)) else ANY

    def body_scope(self, process: Process | None, params: list[Param]) -> Scope:
        names: dict[str, Binding] = {}
        scope = self.globals
        if process is not None:
            for loc in process.locals:
                names[loc.name] = Binding(Ref("local", name=loc.name, process=process.name),
                                          loc.type)
            names["\0self"] = Binding(Ref("self"), process.instance_type)
            names["\0pc"] = Binding(Ref("pc"), SymT(tuple(process.pc_values)))
            scope = self.globals.child(names, process=process.name)
        if params:
            scope = scope.child({p.name: Binding(Ref("param", name=p.name), p.type)
                                 for p in params})
        return scope

    def read_transition_body(self, node: YMap, process: Process | None, where: str):
        """params, guard and effect shared by actions, steps and alternatives."""
        base = self.body_scope(process, [])
        params = self.read_params(node.get("params"), base, where) if node.get("params") else []
        scope = self.body_scope(process, params)
        guard = None
        g = node.get("guard")
        if g is not None:
            g = need_scalar(g, self.rep, f"the guard of {where}")
            guard = self.expr_of(g, "a guard") if g is not None else None
            if guard is not None:
                self.checker.expect(guard, scope, "bool", "a guard")
        effect = self.effect_of(node.get("effect"))
        self.checker.block(effect, scope)
        return params, guard, effect, scope

    def read_next(self, node, process: Process, scope: Scope, default: str) -> Next:
        if node is None:
            return Next(target=default)
        n = need_scalar(node, self.rep, "`next`")
        if n is None:
            return Next(target=default)
        if isinstance(n.value, str) and n.value.strip() in process.pc_values:
            return Next(target=n.value.strip(), pos=n.pos)
        e = self.expr_of(n, "`next`")
        if e is None:
            return Next(target=default)
        if isinstance(e, S.Name) and self.globals.lookup(e.id) is None:
            self.err("DR304", f"`next: {e.id}` names no step of {process.name}", n.pos,
                     did_you_mean(e.id, process.pc_values, f"the steps of {process.name} are")
                     or "write a step name, `done`, or an expression")
            return Next(target=default)
        self.checker.expect(e, scope, "symbol", "`next`")
        if isinstance(e, S.Name) and isinstance(e.ref, Ref) and e.ref.kind == "sym":
            self.err("DR304", f"`next: {e.id}` is not a step of {process.name}", n.pos,
                     did_you_mean(e.id, process.pc_values, f"the steps of {process.name} are"))
        return Next(expr=e, pos=n.pos)

    def read_processes(self, procs: YMap | None) -> list[Process]:
        out: list[Process] = []
        pending = []
        for pkey, pval in procs.items if procs else []:
            pname = str(pkey.value)
            pm = need_map(pval, self.rep, f"process '{pname}'", pkey)
            if pm is None:
                continue
            unknown = check_keys(pm, schema.PROCESS_KEYS, self.rep, f"process '{pname}'")
            count = 1
            identities = None
            cnode = pm.get("count")
            if cnode is not None:
                cnode = need_scalar(cnode, self.rep, "`count`")
                if cnode is not None and isinstance(cnode.value, str) \
                        and cnode.value.strip() in self.scalarsets:
                    identities = self.scalarsets[cnode.value.strip()]
                    cnode = None
                c = self.const_value(self.expr_of(cnode, "`count`"), self.globals) if cnode else None
                if c is not None and c < 1:
                    self.err("DR301", f"process '{pname}' needs count >= 1, not {c}", cnode.pos,
                             "a process has at least one instance")
                elif c is not None and c > MAX_PROCESS_COUNT:
                    self.err("DR308", f"process '{pname}' has count {c:,}, more than the "
                             f"{MAX_PROCESS_COUNT:,} instances a process may have", cnode.pos,
                             "lower the count: each instance has its own state and transitions")
                elif c is not None:
                    count = c
            if identities is not None:
                count = identities.size
            locals_node = lookup(pm, "locals", schema.PROCESS_KEYS)
            local_vars = self.read_var_table(need_map(locals_node, self.rep, "`locals`", pm),
                                             pname, count)
            for loc in local_vars if identities is not None else []:
                if _indexed_by(loc.type, identities):
                    self.err("DR337", f"local '{loc.name}' of {pname} is an array indexed "
                             f"by {identities.name}, and so are {pname}'s instances: this "
                             "version cannot permute both at once", loc.pos,
                             f"use a `set of {identities.name}`, or a global array indexed "
                             f"by {identities.name} of arrays indexed by a range")
                    loc.type = ANY
            for loc in local_vars:
                if self.globals.lookup(loc.name) is not None:
                    what, at = self.declared.get(loc.name, ("a global name", None))
                    line = f" (line {at.line})" if at is not None else ""
                    self.err("DR208", f"local '{loc.name}' of {pname} reuses the name of "
                             f"{what}{line}", loc.pos, "rename the local: shadowing is an "
                             "error in the spec language")
            proc = Process(pname, count, local_vars, [], pkey.pos, identities)
            steps_raw = lookup(pm, "steps", schema.PROCESS_KEYS)
            steps_node = need_seq(steps_raw, self.rep, f"the steps of {pname}")
            if steps_node is None or not steps_node.items:
                if steps_node is not None or steps_raw is None and not misspelt("steps", unknown):
                    self.err("DR104", f"process '{pname}' has no steps", pkey.pos,
                             "give it `steps:` with at least one step")
                continue
            names_seen: set[str] = set()
            raw_steps = []
            for item in steps_node.items:
                sm = need_map(item, self.rep, f"a step of {pname}", None)
                if sm is None:
                    continue
                nn = need_scalar(sm.get("name"), self.rep, "a step's name")
                if nn is None:
                    if sm.get("name") is None:
                        self.unnamed(sm, schema.STEP_KEYS, f"a step of {pname}")
                    continue
                sname = str(nn.value)
                if not IDENT_RE.match(sname) or sname in RESERVED:
                    self.err("DR306", f"'{sname}' cannot name a step", nn.pos,
                             "use a name that is not reserved (`done` ends an instance)")
                    continue
                if sname in names_seen:
                    self.err("DR208", f"step '{sname}' appears twice in {pname}", nn.pos,
                             "step names are unique within a process: rename one")
                    continue
                names_seen.add(sname)
                raw_steps.append((sname, sm))
                proc.steps.append(Step(sname, [], sm.get("either") is not None, sm.pos))
            out.append(proc)
            pending.append((proc, raw_steps))
        for proc in out:
            key = proc.instance_type
            info = {"pc": ArrayT(key, tuple(range(proc.count)), SymT(tuple(proc.pc_values)))}
            for loc in proc.locals:
                info[loc.name] = ArrayT(key, tuple(range(proc.count)), loc.type)
            self.globals.names["\0proc:" + proc.name] = Binding(Ref("procinfo"), info)
        for proc, raw_steps in pending:
            for k, (sname, sm) in enumerate(raw_steps):
                default = raw_steps[(k + 1) % len(raw_steps)][0]
                self.read_step(proc, proc.steps[k], sm, default)
        return out

    def read_step(self, proc: Process, step: Step, sm: YMap, default: str) -> None:
        where = f"step {proc.name}.{step.name}"
        if sm.get("either") is None:
            check_keys(sm, schema.STEP_KEYS, self.rep, where)
            params, guard, effect, scope = self.read_transition_body(sm, proc, where)
            nxt = self.read_next(sm.get("next"), proc, scope, default)
            step.alternatives.append(Alternative(None, params, guard, effect, nxt, sm.pos))
            return
        for key, _ in sm.items:
            if key.value in schema.ALTERNATIVE_KEYS and key.value not in schema.EITHER_STEP_KEYS:
                self.err("DR103", f"a step with `either` has no `{key.value}:` of its own",
                         key.pos, f"move `{key.value}:` into each alternative under `either:`")
        check_keys(sm, schema.EITHER_STEP_KEYS + schema.ALTERNATIVE_KEYS, self.rep,
                   f"{where} (a step with `either`)")
        step_next = sm.get("next")
        alts = need_seq(sm.get("either"), self.rep, f"the `either` of {where}")
        seen: set[str] = set()
        for i, item in enumerate(alts.items if alts else [], start=1):
            am = need_map(item, self.rep, f"an alternative of {where}", None)
            if am is None:
                continue
            check_keys(am, schema.ALTERNATIVE_KEYS, self.rep, f"an alternative of {where}")
            nn = need_scalar(am.get("name"), self.rep, "an alternative's name")
            aname = str(nn.value) if nn is not None else str(i)
            if aname in seen:
                self.err("DR208", f"alternative '{aname}' appears twice in {where}",
                         nn.pos if nn is not None else am.pos,
                         "alternative names are unique within a step: rename one")
                continue
            seen.add(aname)
            params, guard, effect, scope = self.read_transition_body(am, proc, where)
            base_next = self.read_next(step_next, proc, scope, default)
            nxt = self.read_next(am.get("next"), proc, scope, default) \
                if am.get("next") is not None else base_next
            step.alternatives.append(Alternative(aname, params, guard, effect, nxt, am.pos))
        if not step.alternatives:
            self.err("DR104", f"{where} has an empty `either`", sm.pos,
                     "give at least one alternative")

    def unnamed(self, node: YMap, keys, what: str) -> None:
        """Report a step or action without `name:` (or with the key misspelt)."""
        unknown = check_keys(node, keys, self.rep, what)
        if not misspelt("name", unknown):
            self.err("DR104", f"{what} has no `name:`", node.pos,
                     "start each item with `- name: ...`; traces and reports use the name")

    def read_actions(self, actions: YSeq | None) -> list[Action]:
        out = []
        for item in actions.items if actions else []:
            am = need_map(item, self.rep, "an action", None)
            if am is None:
                continue
            nn = need_scalar(am.get("name"), self.rep, "an action's name")
            if nn is None:
                if am.get("name") is None:
                    self.unnamed(am, schema.ACTION_KEYS, "an action")
                continue
            name = str(nn.value)
            check_keys(am, schema.ACTION_KEYS, self.rep, f"action '{name}'")
            params, guard, effect, _ = self.read_transition_body(am, None, f"action '{name}'")
            out.append(Action(name, params, guard, effect, am.pos))
        return out

    # ------------------------------------------------------------ properties
    def read_properties(self) -> list[Property]:
        out: list[Property] = []
        names: dict[str, Pos] = {}
        for section, kind in (("invariants", "invariant"), ("transitions", "transition"),
                              ("reachable", "reachable"), ("temporal", "temporal")):
            node = need_map(self.section(section), self.rep, f"`{section}`", self.root)
            for key, val in node.items if node else []:
                name = str(key.value)
                if not IDENT_RE.match(name):
                    self.err("DR306", f"'{name}' is not a valid property name", key.pos,
                             "names are letters, digits and '_', not starting with a digit")
                    continue
                if name in ("assertion", "type", "error", "deadlock"):
                    self.err("DR306", f"'{name}' is reserved for a built-in check", key.pos,
                             "choose another property name")
                    continue
                if name in names:
                    self.err("DR208", f"property '{name}' is already declared (line "
                             f"{names[name].line}); property names are unique across kinds",
                             key.pos, "rename one of them: reports and trace files are named "
                             "after the property")
                    continue
                names[name] = key.pos
                expected = "reachable" if kind == "reachable" else "holds"
                about = None
                lemma = False
                if isinstance(val, YMap):
                    unknown = check_keys(val, schema.PROPERTY_KEYS, self.rep, f"property '{name}'")
                    enode = val.get("expr")
                    if enode is None:
                        if not misspelt("expr", unknown):
                            self.err("DR104", f"property '{name}' has no `expr:`", key.pos,
                                     "write the condition as `expr: \"...\"`, or give it "
                                     "directly: `name: \"...\"`")
                        continue
                    ex = need_scalar(val.get("expect"), self.rep, "`expect`")
                    if ex is not None:
                        allowed = ("holds", "violated") + (
                            ("reachable", "unreachable") if kind == "reachable" else ())
                        if ex.value not in allowed:
                            self.err("DR305", f"`expect: {ex.value}` is not one of "
                                     + ", ".join(allowed), ex.pos,
                                     did_you_mean(str(ex.value), allowed) or
                                     ("`holds` is the default; `violated` keeps a known bug as "
                                      "a regression check"))
                        elif kind == "reachable":
                            expected = {"holds": "reachable", "violated": "unreachable"}.get(
                                ex.value, ex.value)
                        else:
                            expected = ex.value
                    ab = need_scalar(val.get("about"), self.rep, "`about`")
                    about = str(ab.value) if ab is not None else None
                    lemma = self.read_lemma(val, kind, expected)
                else:
                    enode = val
                enode = need_scalar(enode, self.rep, f"property '{name}'")
                if kind == "temporal":
                    if enode is not None:
                        self.read_temporal(name, enode, expected, about, key.pos)
                    continue
                e = self.expr_of(enode, f"property '{name}'") if enode is not None else None
                if e is None:
                    continue
                scope = Scope({}, self.globals, primes=(kind == "transition"))
                self.checker.expect(e, scope, "bool", f"property '{name}'")
                out.append(Property(name, kind, e, expected, about, key.pos, lemma))
        return out

    def read_lemma(self, val: YMap, kind: str, expected: str) -> bool:
        """`lemma: true`: an invariant expected to hold, which the proof engines assume."""
        node = need_scalar(val.get("lemma"), self.rep, "`lemma`")
        if node is None:
            return False
        if not isinstance(node.value, bool):
            self.err("DR305", f"`lemma: {_show(node.value)}` is not true or false", node.pos,
                     "write `lemma: true` to have the proof engines assume this invariant")
            return False
        if node.value and kind != "invariant":
            self.err("DR305", f"`lemma:` is for invariants, not {kind} properties", node.pos,
                     "move the condition under `invariants:`, or drop `lemma:`")
            return False
        if node.value and expected != "holds":
            self.err("DR305", "a lemma must be expected to hold: the proof engines assume it",
                     node.pos, "drop `lemma: true`, or `expect: violated`")
            return False
        return bool(node.value)

    def read_temporal(self, name: str, node: YScalar, expected: str, about, pos: Pos) -> None:
        """One temporal property: its form, then P (and Q) as boolean state expressions."""
        if not isinstance(node.value, str):
            self.err("DR320", f"temporal property '{name}' must be one of the four forms, not "
                     f"{_show(node.value) if node.value is not None else 'empty'}", node.pos,
                     "write one of `always eventually P`, `eventually always P`, "
                     "`P leads_to Q` or `recoverable P`")
            return
        text = node.value
        form = split(text)
        if isinstance(form, Refusal):
            self.err("DR320", f"temporal property '{name}': {form.message}",
                     node.offset_pos(form.offset), form.hint)
            return
        parts = []
        for rng in (form.p, form.q):
            if rng is None:
                parts.append(None)
                continue
            start, end = rng
            try:
                e = parse_expr(text[start:end], lambda i, start=start: node.offset_pos(start + i),
                               self.source.path)
            except SpecError as exc:
                self.rep.diagnostics.extend(exc.diagnostics)
                return
            scope = Scope({}, self.globals, primes=False)
            self.checker.expect(e, scope, "bool", f"property '{name}'")
            parts.append(e)
        self.temporal.append(Temporal(name, form.form, parts[0], parts[1], expected, about, pos))


def check_transition_count(model: Model) -> None:
    """Refuse a model with more than MAX_TRANSITIONS transitions (instances x alternatives x
    parameter bindings, plus actions' bindings), counted before any is made."""
    parts: list[tuple[int, Pos]] = []
    for p in model.processes:
        for step in p.steps:
            for alt in step.alternatives:
                parts.append((p.count * _binding_count(alt.params), alt.pos))
    for a in model.actions:
        parts.append((_binding_count(a.params), a.pos))
    total = sum(n for n, _ in parts)
    if total > MAX_TRANSITIONS:
        n, pos = max(parts, key=lambda x: x[0])
        raise SpecError([Diagnostic(
            "DR310", f"the spec has {total:,} transitions, more than the {MAX_TRANSITIONS:,} "
            f"dnsrace compiles ({n:,} of them from here)", model.path, pos,
            "narrow the parameter domains (each combination of values is a transition), or "
            "lower the process counts")])


def _binding_count(params) -> int:
    n = 1
    for p in params:
        n *= len(p.values)
    return n


def check_initial_count(model: Model) -> None:
    """Refuse a model with more than MAX_INITIAL_STATES initial states (the product of each
    variable's and each instance's local's choices), counted before any is made."""
    parts = [(len(v.inits), v.pos) for v in model.variables]
    parts += [(capped_power(len(loc.inits), p.count, MAX_INITIAL_STATES + 1), loc.pos)
              for p in model.processes for loc in p.locals]
    total = 1
    for n, _ in parts:
        total = min(total * n, MAX_INITIAL_STATES + 1)
    if total > MAX_INITIAL_STATES:
        n, pos = max(parts, key=lambda x: x[0])
        raise SpecError([Diagnostic(
            "DR309", f"the spec has more than {MAX_INITIAL_STATES:,} initial states (the "
            "product of the variables' initial values; this one has the most)", model.path, pos,
            "give single initial values (`init: 0`) where `init: any` is not needed")])


def _indexed_by(t: Type, s: ScalarsetT) -> bool:
    """Whether an array indexed by scalarset s is in t, at any depth."""
    if isinstance(t, ArrayT) and isinstance(t.key, ScalarsetT) and t.key.name == s.name:
        return True
    return isinstance(t, (ArrayT, SetT, SeqT)) and _indexed_by(t.elem, s)


def _names_identity(t: Type, v) -> str | None:
    """How an initial value `v` of type t tells a scalarset's identities apart, or None."""
    if isinstance(t, ScalarsetT):
        return f"names one identity of {t.name}"
    if isinstance(t, SetT) and isinstance(t.elem, ScalarsetT) and isinstance(v, frozenset):
        if v and v != frozenset(range(t.elem.size)):
            return f"names some of the identities of {t.elem.name}"
        return None
    if isinstance(t, SeqT) and isinstance(v, tuple) and v and scalarset_in(t.elem) is not None:
        return f"names identities of {scalarset_in(t.elem).name}"
    if isinstance(t, ArrayT):
        listed = isinstance(v, tuple) and len(v) == len(t.keys) and \
            not (isinstance(t.elem, (SeqT, ArrayT)) and contains(t.elem, v))
        if listed and isinstance(t.key, ScalarsetT) and len(set(v)) > 1:
            return (f"lists one value per identity of {t.key.name}: the identities would "
                    "differ")
        for x in v if listed else (v,):
            problem = _names_identity(t.elem, x)
            if problem is not None:
                return problem
    return None


def _show(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, frozenset):
        return "{" + ", ".join(_show(x) for x in sorted(v, key=consteval.order_key)) + "}"
    if isinstance(v, tuple):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    return str(v)


def _uses_broken(e: S.Expr) -> bool:
    """Whether `e` reads a name whose declaration failed (its value is unknown)."""
    return any(isinstance(n, S.Name) and isinstance(n.ref, Ref) and n.ref.kind == "broken"
               for n in S.walk(e))


def _reserved_hint(name: str) -> str:
    """Why a reserved word cannot be a name, and what to do."""
    if name in ("len", "min", "max", "abs", "head", "tail", "append", "all", "any"):
        return f"'{name}' is a built-in function: choose another name, e.g. '{name}_value'"
    if name in ("true", "false", "self", "pc", "done"):
        return f"'{name}' already means something in every expression: choose another name"
    return "choose another name: Python's keywords and the spec language's words are reserved"
