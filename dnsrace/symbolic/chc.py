"""Constrained Horn clauses for one property, and how dnsrace proves them: the machinery
`pdr` (concrete constants) and `parametric` (symbolic ones) share.

A property's clauses are over an uninterpreted predicate Inv whose arguments describe a
state (`Clauses.args`):

  rules[0]   Init(x)                 -> Inv(x)
  rules[1:]  Inv(x) & ... & T(x, y)  -> Inv(y)      (one or more step clauses)
  queries    Inv(x) & ... & Bad      -> false

`solve` finds an interpretation of Inv that satisfies every clause, an inductive invariant
that excludes the bad states, in three ways, cheapest first:

  1. *learned*: the lemmas (inductive invariants found before: `learn`, `houdini`) may
     exclude the bad states on their own; then the proof is the lemmas it needs;
  2. *Spacer with lemmas*: Z3's IC3/PDR engine, the lemmas assumed in every body but the
     initial one (sound: they hold in every reachable state);
  3. *Spacer alone*, when there are no lemmas.
Whatever the way, `holds` needs the final invariant to pass `confirm`: every clause checked
by a plain solver with Inv replaced by the invariant, the lemmas not assumed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3


def short_reason(text: str) -> str:
    return str(text).splitlines()[0][:120] if text else "unknown"


@dataclass
class Clauses:
    inv: object            # the uninterpreted predicate
    args: list             # its arguments over the current state
    rules: list            # [(body, head)]: rules[0] the initial clause
    queries: list          # [body]: a bad state or step
    allv: list             # every variable of the clauses

    def spacer(self, lemmas: list, ms: int | None, options: dict | None = None):
        """Spacer on the clauses, with the lemmas assumed in every body but the initial."""
        s = z3.SolverFor("HORN")
        s.set("engine", "spacer")
        for k, v in (options or {}).items():
            s.set(k, v)
        if ms is not None:
            s.set("timeout", max(1, ms))
        helped = z3.And(*lemmas)

        def rule(body, head):
            f = z3.Implies(body, head)
            return z3.ForAll(self.allv, f) if self.allv else f
        for n, (body, head) in enumerate(self.rules):
            s.add(rule(body if n == 0 else z3.And(body, helped), head))
        for q in self.queries:
            s.add(rule(z3.And(q, helped), z3.BoolVal(False)))
        return s, s.check()

    def interp(self, m):
        """Inv's interpretation in a model of the clauses, over `args`."""
        fi = m[self.inv]
        if fi is None:
            return z3.BoolVal(True)
        if isinstance(fi, z3.FuncInterp):
            e = fi.else_value()
            return z3.substitute_vars(e, *self.args) if e is not None else z3.BoolVal(True)
        if z3.is_quantifier(fi) and fi.is_lambda():
            return z3.substitute_vars(fi.body(), *reversed(list(self.args)))
        return fi

    def apply(self, body, e):
        """e with each application Inv(a...) replaced by body[args := a]."""
        apps = []
        seen: set[int] = set()

        def collect(x):
            if x.get_id() in seen:
                return
            seen.add(x.get_id())
            if z3.is_app(x) and x.decl().eq(self.inv):
                apps.append(x)
                return
            for ch in (x.children() if z3.is_app(x) else []):
                collect(ch)
        collect(e)
        subs = [(app, z3.substitute(body, *zip(self.args, app.children())))
                for app in dict.fromkeys(apps)] if self.args else \
            [(app, body) for app in dict.fromkeys(apps)]
        return z3.substitute(e, *subs) if subs else e

    def confirm(self, body, ms: int | None) -> str | None:
        """Every clause holds with Inv := body, by a plain solver: no trust in Spacer or in
        the lemmas.  None when it does; else what fails."""
        checks = [("initial states" if n == 0 else "induction",
                   z3.And(self.apply(body, b), z3.Not(self.apply(body, h))))
                  for n, (b, h) in enumerate(self.rules)]
        checks += [("a bad state", self.apply(body, q)) for q in self.queries]
        return first_failing(checks, ms)

    def excludes_bad(self, body, ms: int | None) -> bool:
        """No query holds with Inv := body (a quick test before `needed`)."""
        return first_failing([("a bad state", self.apply(body, q)) for q in self.queries],
                             ms) is None

    def needed(self, part, lemmas: list, ms: int | None) -> list:
        """The lemmas `part` needs: grown from the unsat cores of its steps and queries until
        the chosen lemmas carry themselves (all of them when a check fails)."""
        if not lemmas:
            return []
        track = [z3.Bool(f"lemma{i}") for i in range(len(lemmas))]
        at_x = z3.And(part, *[z3.Implies(p, lem) for p, lem in zip(track, lemmas)])
        index = {str(p): i for i, p in enumerate(track)}
        need: set[int] = set()
        cases = [(self.apply(at_x, b), h)
                 for b, h in [*self.rules[1:], *[(q, None) for q in self.queries]]]
        solvers = []
        for body, _ in cases:
            sv = z3.Solver()
            sv.set("core.minimize", MINIMIZE)
            if ms is not None:
                sv.set("timeout", max(1000, ms))
            sv.add(body)
            solvers.append(sv)
        while True:
            head = z3.And(part, *[lemmas[i] for i in sorted(need)])
            new: set[int] = set()
            for sv, (_, h) in zip(solvers, cases):
                sv.push()
                if h is not None:
                    sv.add(z3.Not(self.apply(head, h)))
                r = sv.check(*track)
                core = sv.unsat_core() if r == z3.unsat else None
                sv.pop()
                if core is None:
                    return lemmas
                new |= {index[str(p)] for p in core}
            if new <= need:
                return [lemmas[i] for i in sorted(need)]
            need |= new


def subterms(e):
    """Each distinct sub-term of e, once, e first (without recursion: stored and learned
    formulas can be deep).  A quantifier is a leaf: its body is not walked."""
    seen, stack = set(), [e]
    while stack:
        x = stack.pop()
        if x.get_id() in seen:
            continue
        seen.add(x.get_id())
        yield x
        if z3.is_app(x):
            stack.extend(x.children())


def constants(e) -> list:
    """The uninterpreted constants of e (its variables), each once."""
    return [x for x in subterms(e)
            if z3.is_const(x) and x.decl().kind() == z3.Z3_OP_UNINTERPRETED]


def first_failing(checks: list, ms: int | None) -> str | None:
    """The first (what, formula) a plain solver does not refute: "what: a counterexample"
    (or Z3's reason); None when every formula is unsatisfiable."""
    for what, f in checks:
        if z3.is_false(z3.simplify(f)):
            continue
        s = z3.Solver()
        if ms is not None:
            s.set("timeout", max(1000, ms))
        s.add(f)
        r = s.check()
        if r == z3.sat:
            return f"{what}: a counterexample"
        if r != z3.unsat:
            return f"{what}: {short_reason(s.reason_unknown())}"
    return None


@dataclass
class Verdict:
    status: str                 # proved | reachable | unknown
    invariant: object = None    # the confirmed inductive invariant, over `Clauses.args`
    reason: str | None = None
    seconds: float = 0.0
    how: str = "spacer"         # learned | spacer | trivial | stored
    lemmas_used: int = 0        # lemmas (learned or the user's) the invariant keeps
    notes: list[str] = field(default_factory=list)


class Lemmas:
    """The lemmas of one system, found once and shared by its properties: `find` returns
    them (a list of formulas over the state), None when they could not be found in time."""

    def __init__(self, find):
        self._find = find
        self.found: list | None = None
        self.tried = False
        self.helped = False     # a proof needed them (Spacer alone failed)

    def get(self) -> list | None:
        if not self.tried:
            self.found = self._find()
            self.tried = self.found is not None   # a time-out may retry later
        return self.found


MINIMIZE = True     # smaller proofs to print, for a few seconds more
FIRST_TRY_MS = 5000   # Spacer alone first, this long at most, when lemmas are costly


def solve(cl: Clauses, timeout_ms: int | None, lemmas: Lemmas | None,
          options: dict | None = None, cheap_lemmas: bool = True,
          given: list | None = None) -> Verdict:
    """A verdict for one property's clauses (see the module's text).  `lemmas`: the
    system's learned lemmas; `cheap_lemmas`: whether to ask for them before Spacer has
    had a try (they come from a small explicit search: cheap), or only after Spacer alone
    failed for a few seconds (Houdini over many candidates: costly).  `given`: invariants
    already proved (the user's lemmas), assumed like learned ones."""
    t0 = time.monotonic()
    given = list(given or [])

    def left() -> int | None:
        return None if timeout_ms is None else \
            max(1, int(timeout_ms - (time.monotonic() - t0) * 1000))

    def done(status, inv=None, reason=None, how="spacer", used=0):
        return Verdict(status, inv, reason, time.monotonic() - t0, how, used)

    learned: list | None = None
    s, r = None, z3.unknown
    if lemmas is not None and (cheap_lemmas or lemmas.helped):
        learned = lemmas.get()
    elif lemmas is None or not lemmas.helped:
        s, r = cl.spacer(given, FIRST_TRY_MS if timeout_ms is None
                         else min(FIRST_TRY_MS, timeout_ms // 4), options)
        if r == z3.unknown and lemmas is not None and (left() or 2) > 1:
            learned = lemmas.get()
            if learned:
                lemmas.helped = True
    assumed = given + (learned or [])
    if r == z3.unknown and assumed and cl.excludes_bad(z3.And(*assumed), left()):
        need = cl.needed(z3.BoolVal(True), assumed, left())
        body = z3.And(*need) if need else z3.BoolVal(True)
        if cl.confirm(body, left()) is None:
            return done("proved", body, how="learned", used=len(need))
    if r == z3.unknown and (s is None or left() is None or left() > 1):
        s, r = cl.spacer(assumed, left(), options)
    if r == z3.unsat:
        return done("reachable")
    if r == z3.sat:
        part = cl.interp(s.model())
        need = cl.needed(part, assumed, left())
        body = z3.And(*need, part)
        problem = cl.confirm(body, left())
        if problem is not None:
            return done("unknown", reason=f"Spacer's invariant does not check: {problem}")
        return done("proved", body, used=len(need))
    return done("unknown", reason=short_reason(s.reason_unknown()))
