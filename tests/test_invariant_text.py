"""The inductive invariants PDR prints (`dnsrace.symbolic.invariant_text`): each one is an
expression of the spec (it parses and type-checks as an invariant of it) that holds in
every reachable state (BFS says `holds`), and it reads like a lemma: `a >= b`, not
`(a - b) > -1`; one clause for every instance, not one per instance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import z3

from dnsrace.api import check
from dnsrace.frontend.build import load_model
from dnsrace.ir.lower import lower
from dnsrace.symbolic import check_pdr
from dnsrace.symbolic.encode import Encoding
from dnsrace.symbolic.invariant_text import invariant_text

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 30.0
# sections of a spec that the copy checking the learned invariants leaves out
DROPPED = ("invariants:", "reachable:", "transitions:", "temporal:", "fairness:")


def learned_spec(path: Path, tmp_path: Path, invariants: dict[str, str]) -> Path:
    """A copy of the spec whose only properties are the learned invariants."""
    kept, skipping = [], False
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line[:1].strip() and not line.startswith("#"):     # a top-level key
            skipping = line.startswith(DROPPED)
        if not skipping:
            kept.append(line)
    kept.append("invariants:\n")
    for name, text in invariants.items():
        kept.append(f"  {name}: {json.dumps(text)}\n")    # a JSON string is a YAML one
    out = tmp_path / path.name
    out.write_text("".join(kept), encoding="utf-8")
    return out


@pytest.mark.parametrize("spec, symbolic", [
    ("tests/models/peterson2.yaml", False),
    ("tests/models/lost_update.yaml", False),
    ("specs/dns_fix_cleanup_in_use.yaml", False),
    ("specs/dns_fix_cleanup_in_use.yaml", True),
    ("tests/contract/lease_handoff.yaml", False),
    ("specs/dns_fix_cas.yaml", False),
    ("tests/scalarsets/locals.yaml", False),     # sets and sequences of identities
])
def test_every_printed_invariant_is_a_spec_expression_that_holds(spec, symbolic, tmp_path):
    check_printed_invariants(ROOT / spec, symbolic, tmp_path)


def test_spacers_own_invariant_of_identities_prints_as_a_spec_expression(tmp_path):
    # without learning (as when it runs out of its share of the time on a loaded machine)
    # Spacer compares an identity with a number: `Node.inbox[i][0] >= len(Node.inbox[i])`,
    # which printed as is was no spec expression ("cannot compare a Node with an int")
    check_printed_invariants(ROOT / "tests/scalarsets/locals.yaml", False, tmp_path,
                             learn_share=0)


def check_printed_invariants(path: Path, symbolic: bool, tmp_path: Path, **options) -> None:
    r = check_pdr(load_model(path, {}), time_limit=LIMIT, symbolic=symbolic, **options)
    learned = {f"learned_{p.name}": p.invariant_text for p in r.properties
               if p.invariant_text not in (None, "true")}
    assert learned, [(p.name, p.outcome, p.message) for p in r.properties]
    bfs = check(learned_spec(path, tmp_path, learned), engine="bfs")
    outcomes = {p.name: p.outcome for p in bfs.properties}
    for name, text in learned.items():
        assert outcomes[name] == "holds", (name, text)
    assert outcomes["error"] == "holds"   # evaluating them never fails either


# ------------------------------------------------------------------ the printed forms
@pytest.fixture(scope="module")
def peterson():
    ts = lower(load_model(ROOT / "tests" / "models" / "peterson2.yaml", {}))
    enc = Encoding(ts, "int", "disjunctive")
    slot = {s.name: enc.X[s.index] for s in ts.slots}
    pc = {n: ts.layout.symbols.id(n) for n in ts.layout.symbols.names}
    return ts, enc, slot, pc


def show(peterson, f) -> str:
    ts, enc, _, _ = peterson
    return invariant_text(ts, enc, f)


@pytest.fixture(scope="module")
def workers():
    ts = lower(load_model(ROOT / "tests" / "models" / "lost_update.yaml", {}))
    enc = Encoding(ts, "int", "disjunctive")
    return ts, enc, {s.name: enc.X[s.index] for s in ts.slots}, {}


@pytest.mark.parametrize("make, text", [
    (lambda x: x["counter"] - x["Worker[2].tmp"] > -1, "counter >= Worker.tmp[2]"),
    (lambda x: x["counter"] - x["Worker[2].tmp"] >= 1, "counter > Worker.tmp[2]"),
    (lambda x: x["counter"] + -1 * x["Worker[0].tmp"] <= 0, "counter <= Worker.tmp[0]"),
    (lambda x: x["Worker[0].tmp"] - x["counter"] <= 0, "counter >= Worker.tmp[0]"),
    (lambda x: x["counter"] - x["Worker[1].tmp"] == 0, "counter == Worker.tmp[1]"),
    (lambda x: x["Worker[1].tmp"] - x["counter"] == 0, "counter == Worker.tmp[1]"),
    (lambda x: x["counter"] - x["Worker[1].tmp"] >= 2, "counter >= Worker.tmp[1] + 2"),
    (lambda x: 1 - x["counter"] + x["Worker[1].tmp"] >= 0, "counter <= Worker.tmp[1] + 1"),
    (lambda x: x["counter"] + x["Worker[0].tmp"] < 3, "counter + Worker.tmp[0] <= 2"),
    (lambda x: z3.Not(x["counter"] <= 2), "counter == 3"),
    (lambda x: z3.Not(x["counter"] <= 0), "counter != 0"),
    (lambda x: z3.Not(x["counter"] >= 2), "counter <= 1"),
])
def test_linear_comparisons_read_as_the_spec_writes_them(workers, make, text):
    assert show(workers, make(workers[2])) == text


def test_a_clause_once_and_in_one_order(workers):
    _, _, x, _ = workers
    a, b = x["counter"] - x["Worker[0].tmp"] > -1, x["Worker[0].tmp"] - x["counter"] <= 0
    assert show(workers, z3.And(z3.Or(a, x["counter"] >= 3), z3.Or(x["counter"] >= 3, b),
                                x["Worker[1].tmp"] <= 0)) == \
        "Worker.tmp[1] == 0 and\n(counter == 3 or counter >= Worker.tmp[0])"


def test_a_pc_test_or_an_equality_reads_as_a_premise(peterson):
    _, _, x, pc = peterson
    clause = z3.Or(x["P[0].pc"] != pc["cs"], x["flag[0]"] >= 1)
    assert show(peterson, clause) == "P.pc[0] == cs => flag[0]"
    clause = z3.Or(x["turn"] != 1, x["P[0].pc"] != pc["cs"])
    assert show(peterson, clause) == "P.pc[0] == cs => turn == 0"


def test_a_clause_for_every_instance_is_quantified(peterson):
    _, _, x, pc = peterson
    inv = z3.And(*[z3.Or(x[f"P[{i}].pc"] != pc["cs"], x["turn"] >= 0) for i in (0, 1)],
                 *[x[f"P[{i}].pc"] != pc["done"] for i in (0, 1)])
    assert show(peterson, inv) == "all(P.pc[i] != done for i in 0..1)"
    both = z3.Or(x["P[0].pc"] != pc["cs"], x["P[1].pc"] != pc["cs"])
    assert show(peterson, both) == \
        "all(P.pc[i] == cs => P.pc[j] != cs for i in 0..1 for j in 0..1 if i != j)"
    # one instance only: no quantifier
    assert show(peterson, x["P[1].pc"] != pc["done"]) == "P.pc[1] != done"


def test_a_bool_in_arithmetic_reads_as_one_or_zero(peterson):
    _, _, x, _ = peterson
    assert show(peterson, x["flag[0]"] + x["turn"] >= 1) == "(1 if flag[0] else 0) + turn >= 1"
    assert show(peterson, z3.Not(x["flag[0]"] == x["flag[1]"])) == "flag[0] != flag[1]"


@pytest.fixture(scope="module")
def nodes():
    ts = lower(load_model(ROOT / "tests" / "scalarsets" / "locals.yaml", {}))
    enc = Encoding(ts, "int", "disjunctive")
    return ts, enc, {s.name: enc.X[s.index] for s in ts.slots}, {}


def test_identities_are_quantified_over_their_scalarset(nodes):
    # identities are interchangeable: a clause about node 1 holds of every node, and a
    # spec cannot write an identity as a number anyway
    _, _, x, _ = nodes
    assert show(nodes, (x["Node[1].heard"] / 2) % 2 != 1) == \
        "all(i not in Node.heard[i] for i in Node)"
    assert show(nodes, x["Node[0].heard"] == 6) == \
        "all(Node.heard[i] == {j, k} for i in Node for j in Node if i != j " \
        "for k in Node if i != k and j != k)"
    # an element of a sequence is read only where it exists
    assert show(nodes, x["Node[2].inbox[0]"] != 2) == \
        "all(len(Node.inbox[i]) == 1 => Node.inbox[i][0] != i for i in Node)"
