"""The typed model: what the front end hands to lowering (and to the test suite's reference
evaluator).  Expressions and effects are typed AST (`frontend.syntax`) whose names carry a
`Ref`; everything else (constants, domains, counts, initial values) is already evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Pos, SourceFile
from . import syntax as S
from .types import IntT, ScalarsetT, Type


@dataclass(frozen=True, slots=True)
class Ref:
    """What a name denotes.

    kind is one of:
      const   (name: the constant; value: its int)
      sym     (name: the symbol)
      enumset (name: the enumeration; value: its symbols)  an enumeration used as a set
      var     (name: the global variable)
      local   (name: the local, process: the process)      bare local inside a step
      self    (process)                                     the running instance
      pc      (process)                                     the running instance's pc
      param   (name)                                        an action/step parameter
      bound   (name)                                        a comprehension or `for` variable
      define  (name)                                        a define without arguments
      defarg  (name)                                        a define's argument, in its body
      process (name)                                        `P` in `P.pc` / `P.x`
      procpc  (process)                                     `P.pc`: array by instance
      proclocal (process, name)                             `P.x`: array by instance
      bool    (value)
      scalarset (name: the scalarset; value: its size)     a scalarset used as a set
      broken  (name)                                        a name whose declaration was
                                                            rejected (already reported)
    """

    kind: str
    name: str | None = None
    process: str | None = None
    value: object = None


@dataclass
class Constant:
    name: str
    value: int
    pos: Pos
    symbolic: bool = False
    assume: S.Expr | None = None
    assume_text: str = ""  # the assume as written, for messages


@dataclass
class Define:
    name: str
    params: list[str]
    body: S.Expr
    pos: Pos


@dataclass
class Variable:
    """A global variable or a process local.  `inits` lists the initial values in order
    (a local's per instance; see `Process`)."""

    name: str
    type: Type
    inits: list  # possible initial values (Python values), in order
    pos: Pos
    process: str | None = None


@dataclass
class Param:
    name: str
    values: list  # the domain, in order
    type: Type
    pos: Pos


@dataclass
class Alternative:
    """One transition shape of a step: the step itself, or one of its `either` branches."""

    name: str | None  # None for a step without `either`
    params: list[Param]
    guard: S.Expr | None
    effect: list[S.Stmt]
    next: "Next"
    pos: Pos


@dataclass
class Next:
    """Where `pc` goes after a step: a fixed target (step name or 'done') or an expression."""

    target: str | None = None
    expr: S.Expr | None = None
    pos: Pos | None = None


@dataclass
class Step:
    name: str
    alternatives: list[Alternative]
    has_either: bool
    pos: Pos


@dataclass
class Process:
    name: str
    count: int
    locals: list[Variable]
    steps: list[Step]
    pos: Pos
    identities: ScalarsetT | None = None   # `count: S`: the instances are S's identities

    @property
    def instance_type(self) -> IntT:
        """The type of `self` and of the index of `P.pc` and `P.x`."""
        return self.identities if self.identities is not None else IntT(0, self.count - 1)

    @property
    def pc_values(self) -> list[str]:
        return [s.name for s in self.steps] + ["done"]


@dataclass
class Action:
    name: str
    params: list[Param]
    guard: S.Expr | None
    effect: list[S.Stmt]
    pos: Pos


@dataclass
class Property:
    name: str
    kind: str  # invariant | transition | reachable
    expr: S.Expr
    expected: str  # holds | violated | reachable | unreachable
    about: str | None
    pos: Pos
    lemma: bool = False  # an invariant the proof engines also assume (`lemma: true`)


@dataclass
class Temporal:
    """A temporal property: `form` is one of always_eventually, eventually_always, leads_to
    (P leads_to Q) and recoverable; `q` only for leads_to."""

    name: str
    form: str
    p: S.Expr
    q: S.Expr | None
    expected: str  # holds | violated
    about: str | None
    pos: Pos


@dataclass
class Model:
    name: str
    source: SourceFile
    sha256: str
    description: str | None
    constants: dict[str, Constant]
    enums: dict[str, tuple[str, ...]]
    symbols: list[str]  # every symbol, in the contract's order of first appearance
    defines: dict[str, Define]
    variables: list[Variable]
    processes: list[Process]
    actions: list[Action]
    properties: list[Property]
    deadlock: bool
    warnings: list = field(default_factory=list)
    # (where, names): a symbolic constant evaluated to fix a structure (see `ir.parametric`)
    symbolic_uses: list = field(default_factory=list)
    temporal: list[Temporal] = field(default_factory=list)
    fairness: dict[str, str] = field(default_factory=dict)  # process/action -> weak | strong
    scalarsets: dict[str, ScalarsetT] = field(default_factory=dict)  # in declaration order

    @property
    def path(self) -> str:
        return self.source.path

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    @property
    def symbolic(self) -> list[Constant]:
        return [c for c in self.constants.values() if c.symbolic]

    def constant_values(self) -> dict[str, int]:
        return {c.name: c.value for c in self.constants.values()}
