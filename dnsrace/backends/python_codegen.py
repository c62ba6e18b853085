"""Generate Python source from the transition IR for the explicit-state explorer.

A state is one Python int: slot i holds (value - lo_i) in `width_i` bits at `offset_i`.
Ints hash and compare in one step, take a third of a tuple's memory, and a successor is
the parent plus the shifted difference of the slots a transition changes.

Generated functions (see `CompiledSystem`):
  expand(s, guard_errors) -> [(transition, successor or -1-failure), ...] in file order;
      guard errors are appended to `guard_errors` as global guard-failure numbers
  state_props(s, active) -> [(property, code), ...] for the state properties whose bit is
      set in `active`: code 0 = the property's event (invariant false / reachable true),
      -1-k = evaluating it failed with its k-th failure
  trans_props(s, n, active) -> the same for transition properties on the step s -> n
  terminal(s) -> whether every process instance is done
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ir.system import Failure, TransitionSystem
from .cse import terms_to_hoist
from .loader import comment, load
from ..ir.terms import FALSE, TRUE, Term, const, mk, not_, substitute, walk

_comment = comment
BUILTINS = {"abs": abs, "min": min, "max": max, "bool": bool, "len": len}


_BIN = {"add": "+", "sub": "-", "mul": "*", "bor": "|", "band": "&", "eq": "==",
        "ne": "!=", "lt": "<", "le": "<="}


@dataclass
class Packing:
    offsets: list[int]
    widths: list[int]
    los: list[int]

    def pack(self, values) -> int:
        s = 0
        for v, off, lo in zip(values, self.offsets, self.los):
            s |= (v - lo) << off
        return s

    def unpack(self, s: int) -> tuple[int, ...]:
        return tuple(((s >> off) & ((1 << w) - 1)) + lo
                     for off, w, lo in zip(self.offsets, self.widths, self.los))


def packing(ts: TransitionSystem) -> Packing:
    from ..ir.lower import UNBOUNDED_LIMIT
    offsets, widths, los = [], [], []
    off = 0
    for s in ts.slots:
        lo = -UNBOUNDED_LIMIT if s.lo is None else s.lo
        hi = UNBOUNDED_LIMIT if s.hi is None else s.hi
        w = max((hi - lo).bit_length(), 1) if hi > lo else 1
        offsets.append(off)
        widths.append(w)
        los.append(lo)
        off += w
    return Packing(offsets, widths, los)


class _Writer:
    """Renders terms as Python expressions, hoisting shared and deep sub-terms into
    temporaries (safe: every term is total, so evaluating one early cannot fail)."""

    def __init__(self, prefix: str, slot_names: dict[int, str] | None = None,
                 post_names: dict[int, str] | None = None):
        self.prefix = prefix
        self.names: dict[int, str] = {}
        self.count = 0
        self.slot_names = slot_names or {}   # slot i -> the variable holding it (default v<i>)
        self.post_names = post_names or {}   # post i -> the variable holding it (default w<i>)

    def section(self, roots: list[Term], indent: str) -> list[str]:
        """Lines defining temporaries that `roots` share; call before rendering them."""
        lines = []
        for t in terms_to_hoist(roots, set(self.names)):
            name = f"{self.prefix}{self.count}"
            self.count += 1
            lines.append(f"{indent}{name} = {self.render(t)}")
            self.names[id(t)] = name
        return lines

    def render(self, t: Term) -> str:
        name = self.names.get(id(t))
        if name is not None:
            return name
        op, a = t.op, t.args
        r = self.render
        if op == "const":
            return repr(a[0])
        if op == "slot":
            return self.slot_names.get(a[0], f"v{a[0]}")
        if op == "post":
            return self.post_names.get(a[0], f"w{a[0]}")
        if op in _BIN:
            return f"({r(a[0])} {_BIN[op]} {r(a[1])})"
        if op == "neg":
            return f"(-{r(a[0])})"
        if op == "abs":
            return f"abs({r(a[0])})"
        if op in ("min", "max"):
            return f"{op}({r(a[0])}, {r(a[1])})"
        if op in ("div", "mod"):
            sym = "//" if op == "div" else "%"
            if a[1].is_const and a[1].value != 0:
                return f"({r(a[0])} {sym} {r(a[1])})"
            return f"({r(a[0])} {sym} {r(a[1])} if {r(a[1])} else 0)"
        if op == "not":
            return f"(not {r(a[0])})"
        if op in ("and", "or"):
            return "(" + f" {op} ".join(r(x) for x in a) + ")"
        if op == "ite":
            return f"({r(a[1])} if {r(a[0])} else {r(a[2])})"
        if op == "select":
            idx, items = a[0], a[1:]
            tup = "(" + ", ".join(r(x) for x in items) + ",)"
            if idx.lo is not None and idx.hi is not None and 0 <= idx.lo and idx.hi < len(items):
                return f"{tup}[{r(idx)}]"
            return f"({tup}[{r(idx)}] if 0 <= {r(idx)} < {len(items)} else 0)"
        if op == "bdiff":
            return f"({r(a[0])} & ~{r(a[1])})"
        if op == "bit":
            if a[1].lo is not None and a[1].lo >= 0:
                return f"(({r(a[0])} >> {r(a[1])}) & 1)"
            return f"(({r(a[0])} >> {r(a[1])}) & 1 if {r(a[1])} >= 0 else 0)"
        if op == "setbit":
            if a[0].lo is not None and a[0].lo >= 0:
                return f"(1 << {r(a[0])})"
            return f"(1 << {r(a[0])} if {r(a[0])} >= 0 else 0)"
        if op == "shl":
            k = a[1].value
            return f"({r(a[0])} << {k})" if k >= 0 else f"({r(a[0])} >> {-k})"
        if op == "popcount":
            return f"{r(a[0])}.bit_count()"
        if op == "lowbit":
            x = r(a[0])
            return f"(({x} & -{x}).bit_length() - 1 if {x} else 0)"
        if op == "highbit":
            x = r(a[0])
            return f"({x}.bit_length() - 1 if {x} else 0)"
        raise AssertionError(op)


def _unpack_lines(pk: Packing, slots: list[int], src: str, var: str, indent: str) -> list[str]:
    out = []
    for i in sorted(slots):
        mask = (1 << pk.widths[i]) - 1
        shifted = f"({src} >> {pk.offsets[i]})" if pk.offsets[i] else src
        expr = f"{shifted} & {mask}"
        if pk.los[i] > 0:
            expr = f"({expr}) + {pk.los[i]}"
        elif pk.los[i] < 0:
            expr = f"({expr}) - {-pk.los[i]}"
        out.append(f"{indent}{var}{i} = {expr}")
    return out


def _slots_read(terms, op: str = "slot") -> set[int]:
    """The slots the terms read (of the current state, or of the next with op="post")."""
    return {x.args[0] for t in terms for x in walk(t) if x.op == op}


def _posts_read(terms) -> set[int]:
    return _slots_read(terms, "post")


@dataclass
class Generated:
    source: str
    packing: Packing
    guard_failures: list[tuple[int, Failure]]  # global number -> (transition, failure)
    effect_failures: list[tuple[int, Failure]]


def generate(ts: TransitionSystem) -> Generated:
    pk = packing(ts)
    guard_table: list[tuple[int, Failure]] = []
    effect_table: list[tuple[int, Failure]] = []
    lines = [f"# Generated by dnsrace from spec {_comment(ts.name)}. Do not edit.",
             "# A state is an int; slot i is ((s >> OFFSET_i) & MASK_i) + LO_i.", ""]
    for s in ts.slots:
        lines.append(f"# slot {s.index:>3}: {_comment(s.name)}  bits {pk.offsets[s.index]}.."
                     f"{pk.offsets[s.index] + pk.widths[s.index] - 1}")
    lines.append("")

    # ---- expand
    all_terms = []
    for t in ts.transitions:
        all_terms += [t.guard, *(f.cond for f in t.guard_failures),
                      *(f.cond for f in t.effect_failures), *t.updates.values()]
        # a successor is the parent plus (new - old) per changed slot: the old value is read
        all_terms += [ts.slot_term(k) for k in t.updates]
        if t.pc:
            all_terms.append(ts.slot_term(t.pc[0]))
    numbers: dict[int, int] = {}
    for t in ts.transitions:
        for f in t.guard_failures:
            numbers[id(f)] = len(guard_table)
            guard_table.append((t.index, f))
        for f in t.effect_failures:
            numbers[id(f)] = len(effect_table)
            effect_table.append((t.index, f))
    lines.append("def expand(s, guard_errors):")
    lines += _unpack_lines(pk, _slots_read(all_terms), "s", "v", "    ")
    lines.append("    r = []")
    w = _Writer("t")
    for t in ts.transitions:
        lines += _transition_code(
            t, ts, pk, w, "    ", numbers,
            on_guard_error=lambda k, ind: [f"{ind}guard_errors.append({k})"],
            on_effect_error=lambda k, ind, t=t: [f"{ind}r.append(({t.index}, {-1 - k}))"],
            on_success=lambda succ, ind, t=t: [f"{ind}r.append(({t.index}, {succ.expr}))"])
        w.names.clear()
    lines.append("    return r")
    lines.append("")

    lines += _search_function(ts, pk, all_terms, numbers)
    if ts.temporal:
        lines += _search_function(ts, pk, all_terms, numbers, graph=True)

    # ---- state properties
    sp_terms = [x for p in ts.state_properties for x in [p.term, *(f.cond for f in p.failures)]]
    lines.append("def state_props(s, active):")
    lines += _unpack_lines(pk, _slots_read(sp_terms), "s", "v", "    ")
    lines.append("    ev = []")
    for k, p in enumerate(ts.state_properties):
        lines += _property_block(w, k, p.term, p.failures, p.kind == "invariant")
    lines.append("    return ev")
    lines.append("")

    # ---- transition properties
    tp_terms = [x for p in ts.transition_properties for x in [p.term, *(f.cond for f in p.failures)]]
    lines.append("def trans_props(s, n, active):")
    lines += _unpack_lines(pk, _slots_read(tp_terms), "s", "v", "    ")
    lines += _unpack_lines(pk, _posts_read(tp_terms), "n", "w", "    ")
    lines.append("    ev = []")
    for k, p in enumerate(ts.transition_properties):
        lines += _property_block(w, k, p.term, p.failures, True)
    lines.append("    return ev")
    lines.append("")

    # ---- terminal
    lines.append("def terminal(s):")
    if ts.terminal is None:
        lines.append("    return False")
    else:
        lines += _unpack_lines(pk, _slots_read([ts.terminal]), "s", "v", "    ")
        lines += w.section([ts.terminal], "    ")
        lines.append(f"    return bool({w.render(ts.terminal)})")
        w.names.clear()
    lines.append("")
    return Generated("\n".join(lines), pk, guard_table, effect_table)


@dataclass
class _Successor:
    """What a transition's code knows at the point where its successor exists."""

    known: dict[int, Term]   # slots with a value known in the block (the pc)
    news: dict[int, Term]    # the changed slots' new values, specialised to the block
    post: dict[int, str]     # each changed slot's value as Python (a constant or u<k>)
    expr: str                # the successor state as Python


def _transition_code(t, ts: TransitionSystem, pk: Packing, w: _Writer, ind: str, numbers,
                     on_guard_error, on_effect_error, on_success, on_enabled=None) -> list[str]:
    """The code of one transition, shared by `expand` and `run`: the pc test, guard
    failures in order, the guard, effect failures in order, then the successor.  The
    callbacks give the lines for each outcome (`numbers` maps a Failure to its number)."""
    lines = [f"{ind}# {_comment(t.name)}"]
    known: dict[int, Term] = {}
    if t.pc:
        lines.append(f"{ind}if v{t.pc[0]} == {t.pc[1]}:")
        ind += "    "
        known[t.pc[0]] = const(t.pc[1])   # inside the block the pc is known

    def sub(x: Term) -> Term:
        return substitute(x, known) if known else x

    guard = sub(t.guard)
    gfails = [(f, sub(f.cond)) for f in t.guard_failures]
    lines += w.section([guard, *(c for _, c in gfails)], ind)
    first = True
    for f, cond in gfails:
        lines.append(f"{ind}{'if' if first else 'elif'} {w.render(cond)}:")
        lines += on_guard_error(numbers[id(f)], ind + "    ")
        first = False
    if guard is not TRUE or not first:
        lines.append(f"{ind}{'if' if first else 'elif'} {w.render(guard)}:")
        ind += "    "
    if on_enabled:
        lines += on_enabled(ind)
    efails = [(f, sub(f.cond)) for f in t.effect_failures]
    news = {k: sub(v) for k, v in sorted(t.updates.items())}
    lines += w.section([*(c for _, c in efails), *news.values()], ind)
    first = True
    for f, cond in efails:
        lines.append(f"{ind}{'if' if first else 'elif'} {w.render(cond)}:")
        lines += on_effect_error(numbers[id(f)], ind + "    ")
        first = False
    if not first:
        lines.append(f"{ind}else:")
        ind += "    "
    post: dict[int, str] = {}
    constant, parts = 0, ["s"]
    for k, term in news.items():
        if term.is_const:
            post[k] = repr(term.value)
        else:
            lines.append(f"{ind}u{k} = {w.render(term)}")
            post[k] = f"u{k}"
        old = known.get(k) or ts.slot_term(k)
        d = mk("sub", term, old)
        off = pk.offsets[k]
        if d.is_const:
            constant += d.value << off
        else:
            dt = f"({post[k]} - {w.render(old)})"
            parts.append(f"({dt} << {off})" if off else dt)
    if constant:
        parts.append(str(constant))
    lines += on_success(_Successor(known, news, post, " + ".join(parts)), ind)
    return lines


INLINE_PROPERTY_BUDGET = 600  # transitions x properties up to which checks are inlined


def _search_function(ts: TransitionSystem, pk: Packing, all_terms, numbers,
                     graph: bool = False) -> list[str]:
    """`run`: expand the states states[i:end] in order, discovering successors, with every
    transition and (within a budget) every property check inlined: no call, tuple or list
    per transition.  Rare events (violations, errors, deadlocks) call `event`, which returns
    the new property masks and whether to stop.

    It returns (the next state to expand, per transition the number of states where it was
    enabled, the masks, whether to stop).  Each transition counts into its own local where
    it is found enabled (the one increment a running total took before; a spec with
    `deadlock: error` also sets the state's flag `en`), and the locals are returned once per
    call, for coverage and the transitions count.  A stop leaves the loop with `break` (the
    transition code holds no loop of its own), so there is one exit.

    With `graph`, `run_graph` also records the state graph for temporal properties:
    `visited` maps each state to its number, every successful transition appends its
    successor's number to `edge_dst` and its transition to `edge_tid`, and each expanded
    state appends the number of edges so far to `row_end` (compressed sparse rows)."""
    n_props = len(ts.state_properties) + len(ts.transition_properties)
    inline = len(ts.transitions) * max(n_props, 1) <= INLINE_PROPERTY_BUDGET
    prop_slots = _slots_read([x for p in ts.state_properties
                              for x in [p.term, *(f.cond for f in p.failures)]])
    tp_terms = [x for p in ts.transition_properties for x in [p.term, *(f.cond for f in p.failures)]]
    reads = _slots_read(all_terms + ([ts.terminal] if ts.terminal is not None else [])
                        + tp_terms)
    if inline:
        # inlined checks read the parent's slots, and a successor's unchanged slots are the
        # parent's: a transition property's post(k) may become v<k>
        reads |= prop_slots | _posts_read(tp_terms)
    nt = max(len(ts.transitions), 1)
    if graph:
        L = ["def run_graph(states, i, end, visited, links, sp_active, tp_active, deadlock, "
             "event, edge_dst, edge_tid, row_end):",
             "    find = visited.get",
             "    push_dst = edge_dst.append",
             "    push_tid = edge_tid.append",
             "    push_row = row_end.append"]
    else:
        L = ["def run(states, i, end, visited, links, sp_active, tp_active, deadlock, event):",
             "    add = visited.add"]
    L += ["    push = states.append",
         "    push_link = links.append",
         "    stop = False"]
    L += [f"    e{t.index} = 0" for t in ts.transitions]
    L += ["    while i < end:",
          "        s = states[i]"]
    L += _unpack_lines(pk, reads, "s", "v", "        ")
    if ts.deadlock:
        L.append("        en = 0")   # only a deadlock check asks whether any was enabled
    for t in ts.transitions:
        w = _Writer(f"t{t.index}_")
        L += _transition_code(
            t, ts, pk, w, "        ", numbers,
            on_guard_error=lambda k, ind: _event_lines(ind, f"event(0, i, {k})"),
            on_effect_error=lambda k, ind, t=t: _event_lines(ind, f"event(1, i, {t.index}, {k})"),
            on_success=lambda succ, ind, t=t: _discover(t, ts, succ, ind, nt, inline, graph),
            on_enabled=lambda ind, t=t: [f"{ind}e{t.index} += 1"]
            + ([f"{ind}en = 1"] if ts.deadlock else []))
    if graph:
        L.append("        push_row(len(edge_dst))")
    if ts.deadlock:
        term_expr = "False"
        if ts.terminal is not None:
            tw = _Writer("z_")
            L += tw.section([ts.terminal], "        ")
            term_expr = tw.render(ts.terminal)
        L.append(f"        if deadlock and not en and not {term_expr}:")
        L.append("            sp_active, tp_active, stop = event(6, i)")
        L.append("            if stop:")
        L.append("                i += 1")
        L.append("                break")
    L.append("        i += 1")
    counts = "".join(f"e{t.index}, " for t in ts.transitions)
    L.append(f"    return i, ({counts}), sp_active, tp_active, stop")
    L.append("")
    return L


def _discover(t, ts: TransitionSystem, succ: _Successor, ind: str, nt: int,
              inline: bool, graph: bool = False) -> list[str]:
    """In `run`, after a successful transition: its transition properties, then the
    successor's discovery and its state properties (inlined, specialised to this
    transition, within the budget)."""
    L = [f"{ind}n = {succ.expr}"]
    const_post = {k: v for k, v in succ.news.items() if v.is_const}
    named_post = {k: name for k, name in succ.post.items() if not succ.news[k].is_const}
    if ts.transition_properties:
        if inline:
            # post(k): a constant, the parent's slot where unchanged, u<k> where computed
            post_terms = {k: const_post.get(k) or succ.known.get(k) or ts.slot_term(k)
                          for k in range(len(ts.slots)) if k not in named_post}
            tw = _Writer(f"p{t.index}_", None, named_post)
            body = []
            for k, p in enumerate(ts.transition_properties):
                term = substitute(p.term, succ.known, post_terms)
                fails = [(f, substitute(f.cond, succ.known, post_terms)) for f in p.failures]
                body += _inline_property(tw, k, term, fails, True, ind + "    ",
                                         f"event(3, i, {t.index}, n, {k}, {{code}})")
            if body:
                L.append(f"{ind}if tp_active:")
                L += body
        else:
            L.append(f"{ind}if tp_active:")
            L.append(f"{ind}    ev = trans_props(s, n, tp_active)")
            L.append(f"{ind}    if ev:")
            L += _event_lines(ind + "        ", f"event(4, i, {t.index}, n, ev)")
    if graph:
        L += [f"{ind}j = find(n)",
              f"{ind}if j is None:",
              f"{ind}    j = visited[n] = len(states)"]
    else:
        L += [f"{ind}if n not in visited:",
              f"{ind}    add(n)"]
    L += [f"{ind}    push(n)",
          f"{ind}    push_link(i * {nt} + {t.index})" if t.index else f"{ind}    push_link(i * {nt})"]
    if ts.state_properties:
        if inline:
            # the successor keeps a known pre-state value only where it is not updated
            now = {**{k: v for k, v in succ.known.items() if k not in succ.news}, **const_post}
            sw = _Writer(f"q{t.index}_", {k: f"u{k}" for k in named_post})
            body = []
            for k, p in enumerate(ts.state_properties):
                term = substitute(p.term, now)
                fails = [(f, substitute(f.cond, now)) for f in p.failures]
                body += _inline_property(sw, k, term, fails, p.kind == "invariant",
                                         ind + "        ",
                                         f"event(2, len(states) - 1, {k}, {{code}})")
            if body:
                L.append(f"{ind}    if sp_active:")
                L += body
        else:
            L.append(f"{ind}    if sp_active:")
            L.append(f"{ind}        ev = state_props(n, sp_active)")
            L.append(f"{ind}        if ev:")
            L += _event_lines(ind + "            ", "event(5, len(states) - 1, ev)")
    if graph:
        L += [f"{ind}push_dst(j)", f"{ind}push_tid({t.index})"]
    return L


def _inline_property(w: _Writer, k: int, term: Term, failures, event_when_false: bool,
                     ind: str, call: str) -> list[str]:
    """The check of property k, already specialised to one transition; nothing when it
    cannot fire there."""
    fails = [(j, c) for j, (f, c) in enumerate(failures) if c is not FALSE]
    fires = not_(term) if event_when_false else term
    if fires is FALSE and not fails:
        return []
    mask = "tp_active" if call.startswith("event(3") else "sp_active"
    out = [f"{ind}if {mask} & {1 << k}:"]
    ind2 = ind + "    "
    out += w.section([fires, *(c for _, c in fails)], ind2)
    first = True
    for j, c in fails:
        out.append(f"{ind2}{'if' if first else 'elif'} {w.render(c)}:")
        out += _event_lines(ind2 + "    ", call.format(code=-1 - j))
        first = False
    if fires is not FALSE:
        out.append(f"{ind2}{'if' if first else 'elif'} {w.render(fires)}:")
        out += _event_lines(ind2 + "    ", call.format(code=0))
    w.names.clear()
    return out


def _event_lines(ind: str, call: str) -> list[str]:
    return [f"{ind}sp_active, tp_active, stop = {call}",
            f"{ind}if stop:",
            f"{ind}    break"]


def _property_block(w: _Writer, k: int, term: Term, failures, event_when_false: bool):
    out = [f"    if active & {1 << k}:"]
    out += w.section([term, *(f.cond for f in failures)], "        ")
    first = True
    for j, f in enumerate(failures):
        out.append(f"        {'if' if first else 'elif'} {w.render(f.cond)}:")
        out.append(f"            ev.append(({k}, {-1 - j}))")
        first = False
    cond = f"not {w.render(term)}" if event_when_false else w.render(term)
    out.append(f"        {'if' if first else 'elif'} {cond}:")
    out.append(f"            ev.append(({k}, 0))")
    w.names.clear()
    return out


@dataclass
class CompiledSystem:
    """The generated functions, compiled once per spec."""

    generated: Generated
    expand: object
    state_props: object
    trans_props: object
    terminal: object
    run: object
    run_graph: object = None  # only for a spec with temporal properties

    @property
    def packing(self) -> Packing:
        return self.generated.packing


def compile_system(ts: TransitionSystem) -> CompiledSystem:
    gen = generate(ts)
    namespace = load(gen.source, f"dnsrace:{ts.name}", BUILTINS)
    return CompiledSystem(gen, namespace["expand"], namespace["state_props"],
                          namespace["trans_props"], namespace["terminal"], namespace["run"],
                          namespace.get("run_graph"))


def compile_predicates(ts: TransitionSystem, pk: Packing, terms: list[Term]) -> list:
    """One Python function per term, each taking a packed state (for explanations and
    replay, outside the search's hot loop)."""
    lines = []
    for k, term in enumerate(terms):
        w = _Writer("t")
        lines.append(f"def p{k}(s):")
        lines += _unpack_lines(pk, _slots_read([term]), "s", "v", "    ")
        lines += w.section([term], "    ")
        lines.append(f"    return {w.render(term)}")
    namespace = load("\n".join(lines) + "\n", f"dnsrace:{ts.name}:predicates", BUILTINS)
    return [namespace[f"p{k}"] for k in range(len(terms))]
