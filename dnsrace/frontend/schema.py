"""The shape of a spec file: which keys each mapping may hold, and readers for YAML nodes
that report a precise diagnostic when a node has the wrong shape."""

from __future__ import annotations

from ..diagnostics import Reporter, did_you_mean
from .yaml_reader import YMap, YNode, YScalar, YSeq

TOP_KEYS = ("dnsrace", "name", "description", "constants", "types", "define", "variables",
            "processes", "actions", "invariants", "transitions", "reachable", "deadlock",
            "temporal", "fairness")
CONSTANT_KEYS = ("value", "symbolic", "assume")
VARIABLE_KEYS = ("type", "init")
PROCESS_KEYS = ("count", "locals", "steps")
STEP_KEYS = ("name", "params", "guard", "effect", "next", "either")
EITHER_STEP_KEYS = ("name", "either", "next")
ALTERNATIVE_KEYS = ("name", "params", "guard", "effect", "next")
ACTION_KEYS = ("name", "params", "guard", "effect")
PROPERTY_KEYS = ("expr", "expect", "about")
REQUIRED_TOP = ("dnsrace", "name")

KIND_OF = {YMap: "a mapping", YSeq: "a list", YScalar: "a single value"}


def check_keys(node: YMap, allowed, rep: Reporter, where: str) -> None:
    """Report every key of `node` that `allowed` lacks, with close matches."""
    for key, _ in node.items:
        if key.value not in allowed:
            hint = did_you_mean(str(key.value), allowed, f"the keys of {where} are")
            rep.error("DR103", f"unknown key '{key.value}' in {where}", key.pos,
                      hint or f"the keys of {where} are: " + ", ".join(allowed))


def need_map(node: YNode | None, rep: Reporter, where: str, at) -> YMap | None:
    if node is None:
        return None
    if isinstance(node, YScalar) and node.value is None:
        return YMap([], node.pos)
    if not isinstance(node, YMap):
        rep.error("DR105", f"{where} must be a mapping (name: value), not "
                  f"{KIND_OF[type(node)]}", node.pos, "write one `name: ...` entry per line")
        return None
    return node


def need_seq(node: YNode | None, rep: Reporter, where: str) -> YSeq | None:
    if node is None:
        return None
    if isinstance(node, YScalar) and node.value is None:
        return YSeq([], node.pos)
    if not isinstance(node, YSeq):
        rep.error("DR105", f"{where} must be a list, not {KIND_OF[type(node)]}", node.pos,
                  "write one `- name: ...` entry per item")
        return None
    return node


def need_scalar(node: YNode | None, rep: Reporter, where: str) -> YScalar | None:
    if node is None:
        return None
    if not isinstance(node, YScalar):
        hint = None
        if isinstance(node, YMap):
            hint = "quote it: YAML reads a value starting with '{' as a mapping"
        elif isinstance(node, YSeq):
            hint = "quote it: YAML reads a value starting with '[' as a list"
        rep.error("DR105", f"{where} must be a single value, not {KIND_OF[type(node)]}",
                  node.pos, hint)
        return None
    return node
