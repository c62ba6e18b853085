"""Every trace a solver produces is replayed through the explicit semantics (the compiled
functions of `backends.python_codegen`) before it is reported.  A trace that does not replay
is a bug in the encoding, never a result: it raises `SymbolicInternalError`."""

from __future__ import annotations

from ..backends.python_codegen import CompiledSystem
from ..frontend.types import IntT, SetT, SymT
from ..ir.layout import ArrayRep, ScalarRep, rep_slots
from ..ir.system import TransitionSystem


class SymbolicInternalError(RuntimeError):
    """A solver's trace disagrees with the explicit semantics: a bug in dnsrace.symbolic."""


class Validator:
    def __init__(self, ts: TransitionSystem, cs: CompiledSystem, engine: str):
        self.ts, self.cs, self.engine = ts, cs, engine
        self.initial = set(ts.initial)
        self.pack = cs.packing.pack
        self.all_sp = (1 << len(ts.state_properties)) - 1
        self.all_tp = (1 << len(ts.transition_properties)) - 1

    def fail(self, what: str, states) -> None:
        raise SymbolicInternalError(
            f"internal error in the {self.engine} engine: the solver's trace does not replay "
            f"through the explicit semantics ({what}); states: {list(states)}. This is a bug "
            "in dnsrace.symbolic, please report it with the spec.")

    def _pack(self, values, states):
        for v, s in zip(values, self.ts.slots):
            if (s.lo is not None and v < s.lo) or (s.hi is not None and v > s.hi):
                self.fail(f"slot {s.name} = {v} is outside its bounds", states)
        return self.pack(values)

    def path(self, states: list[tuple[int, ...]], from_initial: bool = True
             ) -> list[tuple[int, int]]:
        """[(transition, packed state)]: the first has transition -1; each later one is the
        first transition, in file order, that is enabled and gives the next state."""
        packed = [self._pack(s, states) for s in states]
        if from_initial and states[0] not in self.initial:
            self.fail("step 0 is not an initial state", states)
        out = [(-1, packed[0])]
        for i in range(1, len(packed)):
            succ = self.cs.expand(packed[i - 1], [])
            tid = next((t for t, n in succ if n == packed[i]), None)
            if tid is None:
                self.fail(f"no enabled transition leads from step {i - 1} to step {i}", states)
            out.append((tid, packed[i]))
        return out

    # ------------------------------------------------------------- the event at the end
    def state_property(self, packed: int, k: int, states) -> None:
        """Property k (invariant false / reachable true) at this state, without error."""
        ev = self.cs.state_props(packed, 1 << k)
        if ev != [(k, 0)]:
            self.fail(f"property {self.ts.state_properties[k].name} does not fire at the last "
                      "state", states)

    def property_error(self, packed: int, states) -> str:
        """The message of the first state property whose evaluation fails here."""
        for k, code in self.cs.state_props(packed, self.all_sp):
            if code < 0:
                p = self.ts.state_properties[k]
                return f"{p.failures[-1 - code].message} (evaluating property {p.name})"
        self.fail("no state property fails to evaluate at the last state", states)

    def guard_error(self, packed: int, states) -> str:
        errs: list[int] = []
        self.cs.expand(packed, errs)
        if not errs:
            self.fail("no guard fails to evaluate at the last state", states)
        tid, fail = self.cs.generated.guard_failures[errs[0]]
        return f"{fail.message} (in the guard of {self.ts.transitions[tid].name})"

    def effect_failure(self, packed: int, kind: str, states) -> tuple[int, str]:
        """(transition, message) of the first transition from this state whose effect fails
        with a failure of this kind."""
        table = self.cs.generated.effect_failures
        for tid, code in self.cs.expand(packed, []):
            if code < 0:
                fail = table[-1 - code][1]
                got = fail.kind if fail.kind in ("assertion", "type") else "error"
                if got == kind:
                    return tid, fail.message
        self.fail(f"no transition from the last state fails with a {kind} failure", states)

    def transition_property(self, pre: int, post: int, k: int, states) -> None:
        ev = self.cs.trans_props(pre, post, 1 << k)
        if ev != [(k, 0)]:
            self.fail(f"transition property {self.ts.transition_properties[k].name} is not "
                      "violated on the last step", states)

    def transition_property_error(self, pre: int, post: int, states) -> str:
        for k, code in self.cs.trans_props(pre, post, self.all_tp):
            if code < 0:
                p = self.ts.transition_properties[k]
                return f"{p.failures[-1 - code].message} (evaluating property {p.name})"
        self.fail("no transition property fails to evaluate on the last step", states)

    def deadlock(self, packed: int, states) -> None:
        succ = self.cs.expand(packed, [])
        if succ or self.cs.terminal(packed):
            self.fail("the last state is not a deadlock", states)

    # ------------------------------------------------------------- induction targets
    def fires(self, part: tuple, pre: int, post: int | None) -> bool:
        """Whether one part of an induction target (see kind.Part) happens, by the explicit
        semantics: at state `pre`, or on the step pre -> post for step parts."""
        what = part[0]
        cs = self.cs
        if what == "sp":               # state property k fires or fails to evaluate
            return bool(cs.state_props(pre, 1 << part[1]))
        if what == "tp":               # transition property k false or failing
            return post is not None and bool(cs.trans_props(pre, post, 1 << part[1]))
        if what == "effect":
            table = cs.generated.effect_failures
            for _, code in cs.expand(pre, []):
                if code < 0:
                    kind = table[-1 - code][1].kind
                    if (kind if kind in ("assertion", "type") else "error") == part[1]:
                        return True
            return False
        if what == "guard_error":
            errs: list[int] = []
            cs.expand(pre, errs)
            return bool(errs)
        if what == "sp_error":
            return any(code < 0 for _, code in cs.state_props(pre, self.all_sp))
        if what == "tp_error":
            return post is not None and \
                any(code < 0 for _, code in cs.trans_props(pre, post, self.all_tp))
        if what == "deadlock":
            return not cs.expand(pre, []) and not cs.terminal(pre)
        if what == "untyped":
            return not self.well_typed(cs.packing.unpack(pre))
        raise AssertionError(what)

    def well_typed(self, values) -> bool:
        """The explicit twin of `Encoding._typed`."""
        layout = self.ts.layout
        sym = layout.symbols

        def ok(rep) -> bool:
            if isinstance(rep, ScalarRep):
                v, ty = values[rep.slot], rep.type
                if isinstance(ty, IntT) and ty.finite:
                    return ty.lo <= v <= ty.hi
                if isinstance(ty, SymT) and ty.values is not None:
                    return v in {sym.id(x) for x in ty.values}
                if isinstance(ty, SetT) and isinstance(ty.elem, SymT) \
                        and ty.elem.values is not None:
                    return v & ~sum(1 << sym.id(x) for x in ty.elem.values) == 0
                return True
            if isinstance(rep, ArrayRep):
                return all(ok(r) for r in rep.elems)
            n = values[rep.len_slot]
            return all(ok(r) if k < n else all(values[j] == 0 for j in rep_slots(r))
                       for k, r in enumerate(rep.elems))

        return all(ok(r) for f in layout.fields for r in f.reps)
