"""The shape of a spec file: which keys each mapping may hold, and readers for YAML nodes
that report a precise diagnostic when a node has the wrong shape."""

from __future__ import annotations

import difflib

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
PROPERTY_KEYS = ("expr", "expect", "about", "lemma")
FAIRNESS_KEYS = ("weak", "strong")
REQUIRED_TOP = ("dnsrace", "name")

KIND_OF = {YMap: "a mapping", YSeq: "a list", YScalar: "a single value"}


def check_keys(node: YMap, allowed, rep: Reporter, where: str) -> list[str]:
    """Report every key of `node` that `allowed` lacks, with close matches; return them."""
    unknown = []
    for key, _ in node.items:
        if key.value not in allowed:
            unknown.append(str(key.value))
            hint = did_you_mean(str(key.value), allowed, cutoff=0.75)
            rep.error("DR103", f"unknown key '{key.value}' in {where}", key.pos,
                      hint or f"the keys of {where} are: " + ", ".join(allowed))
    return unknown


def misspelt(key: str, unknown: list[str]) -> bool:
    """Whether one of the `unknown` keys is probably `key` misspelt (already reported)."""
    return bool(did_you_mean(key, unknown, cutoff=0.75))


def lookup(node: YMap, key: str, allowed) -> YNode | None:
    """`node`'s value for `key`, or for a misspelling of it that `check_keys` reports.

    Reading a misspelt section anyway (`varaibles:`) keeps one typo from turning every name
    declared in it into an "unknown name" error of its own."""
    value = node.get(key)
    if value is not None:
        return value
    for k, v in node.items:
        if k.value not in allowed and \
                difflib.get_close_matches(str(k.value), allowed, n=1, cutoff=0.75) == [key]:
            return v
    return None


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
