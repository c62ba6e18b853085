"""Mutations of spec text and trace JSON: byte flips, token swaps, number blow-ups, lines
deleted, duplicated or swapped, nesting, control characters, and type swaps in JSON."""

from __future__ import annotations

import copy
import random
import re

TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|\S")
NUMBER = re.compile(r"(?<![A-Za-z_])\d+")

BIG_NUMBERS = ["0", "-1", "1", "2", "255", "256", "65536", str(2**31), str(2**63), str(2**64),
               str(10**9), str(10**18), str(10**30), "9" * 4301, "1" + "0" * 5000]
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b[2J", "\x1b]0;x\x07", "\x7f",
           "\x85", "\u2028", "\u2029", "\ufeff", "\r", "\t", "\u202e", "\udcff"]
FRAGMENTS = ["(", ")", "[", "]", "{", "}", ":", ": ", " #", "'", '"', "..", "=>", "'", "|",
             "&", "-", "*", "!", "%", "@", "`", "\\", "not ", " and ", " or ", " if ", " else ",
             " for ", " in ", "self", "pc", "done", "any", "all(", "len(", "head(", "min(",
             "max(", "abs(", "append(", "tail(", "set of ", "seq of ", " max ", "int", "bool",
             "true", "false", "null", "~", "&a", "*a", "!!str ", "!!python/object ", "---",
             "...", "? ", "<<: ", "\n", "\n  ", "\n    ", "    ", "\t"]


def mutate_text(rng: random.Random, text: str, rounds: int | None = None) -> str:
    """`text` after 1 to 4 random mutations (or `rounds` of them)."""
    for _ in range(rounds if rounds is not None else rng.randint(1, 4)):
        text = rng.choice(TEXT_MUTATIONS)(rng, text)
    return text


def _spot(rng: random.Random, text: str) -> int:
    return rng.randrange(len(text) + 1)


def flip_byte(rng, text):
    if not text:
        return text
    i = rng.randrange(len(text))
    c = chr((ord(text[i]) ^ (1 << rng.randrange(7))) or 0x20)
    return text[:i] + c + text[i + 1:]


def insert_fragment(rng, text):
    i = _spot(rng, text)
    return text[:i] + rng.choice(FRAGMENTS) + text[i:]


def insert_control(rng, text):
    i = _spot(rng, text)
    return text[:i] + rng.choice(CONTROL) + text[i:]


def delete_span(rng, text):
    i = _spot(rng, text)
    return text[:i] + text[i + rng.randint(1, 12):]


def swap_tokens(rng, text):
    toks = list(TOKEN.finditer(text))
    if len(toks) < 2:
        return text
    a, b = sorted(rng.sample(toks, 2), key=lambda m: m.start())
    if a.end() > b.start():
        return text
    return (text[:a.start()] + b.group() + text[a.end():b.start()] + a.group()
            + text[b.end():])


def replace_token(rng, text):
    """A token replaced by another token of the same text (a name used in the wrong place)."""
    toks = list(TOKEN.finditer(text))
    if len(toks) < 2:
        return text
    a, b = rng.sample(toks, 2)
    return text[:a.start()] + b.group() + text[a.end():]


def blow_up_number(rng, text):
    nums = list(NUMBER.finditer(text))
    if not nums:
        return insert_fragment(rng, text)
    m = rng.choice(nums)
    return text[:m.start()] + rng.choice(BIG_NUMBERS) + text[m.end():]


def _lines(text):
    return text.split("\n")


def delete_line(rng, text):
    lines = _lines(text)
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def duplicate_line(rng, text):
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines[i:i] = [lines[i]] * rng.choice([1, 1, 2, 50])
    return "\n".join(lines)


def swap_lines(rng, text):
    lines = _lines(text)
    if len(lines) < 2:
        return text
    i, j = rng.sample(range(len(lines)), 2)
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def reindent_line(rng, text):
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines[i] = " " * rng.choice([0, 1, 2, 3, 5, 8, 200]) + lines[i].lstrip()
    return "\n".join(lines)


def nest_expression(rng, text):
    """Wrap a quoted scalar's content in parentheses, `not`, or unary minus, many deep."""
    quoted = list(re.finditer(r'"([^"\n]+)"', text))
    if not quoted:
        return insert_fragment(rng, text)
    m = rng.choice(quoted)
    n = rng.choice([2, 30, 200, 1000])
    inner = m.group(1)
    wrapped = rng.choice([lambda s: "(" * n + s + ")" * n, lambda s: "not " * n + f"({s})",
                          lambda s: "-" * n + f"({s})", lambda s: f"({s})" + " and true" * n])
    return text[:m.start(1)] + wrapped(inner) + text[m.end(1):]


def truncate(rng, text):
    return text[:_spot(rng, text)]


def splice_line(rng, text):
    """A line copied from one place of the spec to another."""
    lines = _lines(text)
    lines.insert(rng.randrange(len(lines) + 1), rng.choice(lines))
    return "\n".join(lines)


TEXT_MUTATIONS = [flip_byte, insert_fragment, insert_control, delete_span, swap_tokens,
                  replace_token, blow_up_number, blow_up_number, delete_line, duplicate_line,
                  swap_lines, reindent_line, nest_expression, truncate, splice_line]


# ---- JSON (trace files)
ODD_VALUES = [None, True, False, 0, -1, 1, 2, 10**18, -(10**18), 10**30, 1.5, float("1e308"),
              "", "x", "\x1b[31mred\x1b[0m", "\udcff", "done", [], {}, [None], [[[]]],
              {"a": 1}, "0", "true", "idle", "Worker[0].read", "9" * 5000]


def _paths(obj, prefix=()):
    """Every (path, value) inside obj."""
    yield prefix, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for k, v in enumerate(obj):
            yield from _paths(v, prefix + (k,))


def _set(obj, path, value):
    if not path:
        return value
    cur = obj
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return obj


def mutate_json(rng: random.Random, obj, rounds: int | None = None):
    """A deep copy of `obj` after 1 to 3 random structural mutations."""
    obj = copy.deepcopy(obj)
    for _ in range(rounds if rounds is not None else rng.randint(1, 3)):
        paths = list(_paths(obj))
        path, value = rng.choice(paths)
        how = rng.randrange(8)
        if how == 0:
            obj = _set(obj, path, copy.deepcopy(rng.choice(ODD_VALUES)))
        elif how == 1 and isinstance(value, int) and not isinstance(value, bool):
            obj = _set(obj, path, rng.choice([value + 1, value - 1, -value, value * 10**18]))
        elif how == 2 and isinstance(value, list) and value:
            if rng.random() < 0.5:
                del value[rng.randrange(len(value))]
            else:
                value.append(copy.deepcopy(rng.choice(value)))
        elif how == 3 and isinstance(value, dict) and value:
            key = rng.choice(list(value))
            if rng.random() < 0.5:
                del value[key]
            else:
                value[key + rng.choice(["_", "\x1b[2J", "'", "\u202e"])] = value[key]
        elif how == 4:
            obj = _set(obj, path, [copy.deepcopy(value)])
        elif how == 5 and isinstance(value, list):
            obj = _set(obj, path, {str(k): v for k, v in enumerate(value)})
        elif how == 6 and isinstance(value, dict):
            obj = _set(obj, path, list(value.values()))
        else:
            other_path, other = rng.choice(paths)
            obj = _set(obj, path, copy.deepcopy(other))
    return obj
