"""Checkpoints of a partitioned search: written after a level, read back by `--resume`.

A checkpoint is a folder `level-NNNNNN` (the depth reached) in the checkpoint folder, made
as `level-NNNNNN.partial` and renamed when every file in it is written and fsynced (a
folder's rename is atomic), then the folder itself is fsynced; older checkpoints are
removed after.  So a run killed at any moment leaves the last complete checkpoint intact.

In it: `meta.json` (what the checkpoint belongs to: the spec's sha256, its constants, the
engine options that change results; and the driver's bookkeeping: counts, verdicts so far,
per-transition counts, levels), `owner-K.npz` per owner (its visited keys, its frontier
part with global indices, its parent links), and with temporal properties `graph.npz`.  No
pickle: arrays are read with allow_pickle=False, the rest is JSON.  The meta lists every
file's sha256 and carries a digest of itself: a resume checks both, then every field's type
and every array's shape, so a checkpoint damaged on disk or edited by hand is refused
(DR902) before the search starts, never half-read.
A checkpoint can be resumed with any number of owners: each reads every owner file and
keeps the keys it owns.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import stat
import time
import zipfile
from pathlib import Path

from ...diagnostics import Diagnostic, SpecError
from ...input_files import InputFileError, read_input_bytes
from ..bfs import _Best
from ..device import numpy as np

FORMAT = 2     # 2: every file's sha256, and the meta's own digest
PREFIX = "level-"
MAX_META_BYTES = 256 << 20     # the driver's bookkeeping: verdicts with their trace ends


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_arrays(path: str, **arrays) -> None:
    """Write arrays to `path` (.npz): to a temporary name, fsync, rename."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_arrays(path: str) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _write_json(path: str, data: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _digest(meta: dict) -> str:
    """The meta's own digest: of everything in it but the digest."""
    body = {k: v for k, v in meta.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


def _tuples(x):
    return tuple(_tuples(v) for v in x) if isinstance(x, list) else x


def error(code: str, message: str, hint: str) -> SpecError:
    return SpecError([Diagnostic(code, message, None, None, hint)])


def damaged(path: str, why: str) -> SpecError:
    """DR902 for the checkpoint at `path` that is not as dnsrace wrote it."""
    return error("DR902", f"the checkpoint {path} is damaged: {why}",
                 "resume from an intact checkpoint, or start afresh")


def prepare(folder: str) -> None:
    """Make sure the checkpoint folder can be written (DR901 when it cannot)."""
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, ".dnsrace-probe")
        with open(probe, "w", encoding="utf-8") as f:
            f.write("ok")
        os.unlink(probe)
    except (OSError, RecursionError) as exc:   # RecursionError: thousands of missing parents
        why = "too many folders to create" if isinstance(exc, RecursionError) else \
            (exc.strerror or exc)
        raise error("DR901", f"cannot write checkpoints to {folder}: {why}",
                    "choose a folder you can write") from None


def latest(folder: str) -> str | None:
    """The newest complete checkpoint in `folder`, or None."""
    try:
        names = sorted(n for n in os.listdir(folder)
                       if n.startswith(PREFIX) and not n.endswith(".partial"))
    except OSError:
        return None
    return os.path.join(folder, names[-1]) if names else None


def identity(model, limits) -> dict:
    """What a checkpoint belongs to: a resume with anything else is refused."""
    return {"spec_sha256": model.sha256,
            "constants": sorted([k, v] for k, v in model.constant_values().items()),
            "limits": {"max_states": limits.max_states, "max_depth": limits.max_depth,
                       "stop_on_first": limits.stop_on_first, "symmetry": limits.symmetry}}


def load_meta(folder: str, ident: dict) -> tuple[str, dict]:
    """The newest checkpoint of `folder` and its meta; DR902 without one, DR903 when it
    belongs to another spec, other constants or other options."""
    path = latest(folder)
    if path is None:
        raise error("DR902", f"no checkpoint to resume in {folder}",
                    "resume from the folder a run with --checkpoint wrote")
    try:
        meta = json.loads(read_input_bytes(os.path.join(path, "meta.json"),
                                           "checkpoint's meta.json", MAX_META_BYTES))
    except (InputFileError, ValueError, RecursionError) as exc:
        raise error("DR902", f"the checkpoint {path} cannot be read: {exc}",
                    "resume from a checkpoint dnsrace wrote") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise error("DR902", f"the checkpoint {path} has another format",
                    "resume with the dnsrace version that wrote it")
    if meta.get("digest") != _digest(meta):
        raise damaged(path, "its meta.json was changed after dnsrace wrote it")
    theirs = meta.get("identity")
    theirs = theirs if isinstance(theirs, dict) else {}
    for what, label in (("spec_sha256", "another spec (its sha256 differs)"),
                        ("constants", "other constants"),
                        ("limits", ("other options (--max-states, --max-depth, "
                                    "--stop-on-first, --symmetry)"))):
        if theirs.get(what) != ident[what]:
            raise error("DR903", f"the checkpoint in {folder} belongs to {label}",
                        "resume with the spec, constants and options of the run that "
                        "wrote it, or start afresh with --checkpoint")
    try:
        state = _parse(meta)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError,
            OverflowError) as exc:
        raise damaged(path, f"its meta.json has a wrong or missing field "
                            f"({type(exc).__name__}: {str(exc)[:80]})") from None
    _check_files(path, state, meta.get("files"))
    return path, state


OWNER_ARRAYS = ("visited", "frontier", "gidx", "ids", "lsizes", "lranks", "lcodes")


def _check_files(path: str, state: dict, digests) -> None:
    """Every part the meta names is there, a regular file with the sha256 written down
    for it, and holds the arrays it should (one-dimensional, of integers; DR902 when not):
    a damaged checkpoint is refused before the search starts."""
    owners = sorted(Path(path).glob("owner-*.npz"))
    need = [(str(p), OWNER_ARRAYS) for p in owners]
    if state["graph"] is not None:
        need.append((os.path.join(path, "graph.npz"), _graph_arrays(state["graph"])))
    try:
        if len(owners) != state["owners"]:
            raise ValueError(f"{len(owners)} owner files, {state['owners']} expected")
        if not isinstance(digests, dict) or \
                sorted(digests) != sorted(os.path.basename(f) for f, _ in need):
            raise ValueError("its files are not the ones it lists")
        for file, names in need:
            if not stat.S_ISREG(os.stat(file).st_mode):
                raise ValueError(f"{file} is not a regular file")
            if _sha256(file) != digests[os.path.basename(file)]:
                raise ValueError(f"{file} changed after dnsrace wrote it")
            with np.load(file, allow_pickle=False) as z:
                missing = [n for n in names if n not in z.files]
                if missing:
                    raise ValueError(f"{file} lacks {', '.join(missing[:3])}")
                for n in names:
                    a = z[n]
                    if a.ndim != 1 or a.dtype.kind not in "iu":
                        raise ValueError(f"{file}: {n} is not a list of integers")
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged(path, str(exc)) from None


def _graph_arrays(g: dict) -> tuple[str, ...]:
    names = [f"{n}{k}" for n in ("degree", "dst", "tid") for k in range(g["levels"])]
    for side in ("p", "q"):
        names += [f"{side}{j}_{k}" for j, n in enumerate(g[side]) for k in range(n)]
    return tuple(names)


def _parse(meta: dict) -> dict:
    """The checkpoint's bookkeeping, every field converted to what the search holds (a
    missing or ill-typed field raises, and the checkpoint is refused)."""
    d, s = meta["driver"], meta["search"]
    g = d.get("graph")
    out = {"owners": int(meta["owners"]),
           "initial": [int(x) for x in d["initial"]],
           "growth": float(d["growth"]), "per_state": float(d["per_state"]),
           "seconds": float(d["seconds"]),
           "levels": [tuple(x) for x in d["levels"]],
           "sizes": [int(x) for x in d["sizes"]],
           "graph": None if g is None else {
               "levels": int(g["levels"]), "edges": int(g["edges"]),
               "p": [int(n) for n in g["p"]], "q": [int(n) for n in g["q"]]},
           "best": {str(n): _Best(int(v[0]), _tuples(v[1]),
                                  None if v[2] is None else str(v[2]))
                    for n, v in s["best"].items()},
           "unexpected": bool(s["unexpected"]),
           "enabled": [int(x) for x in s["enabled"]]}
    for name in ("total", "level_start", "expanded", "transitions", "depth", "frontier"):
        out[name] = int(d[name])
    for b in out["best"].values():
        _check_end(b.end, out)
    if out["graph"] is not None and (out["graph"]["levels"] > 1 << 24 or
                                     sum(out["graph"]["p"] + out["graph"]["q"]) > 1 << 24):
        raise ValueError("the graph's sizes are out of range")
    return out


class CheckpointFailed(Exception):
    """An owner could not write its part of a checkpoint (the message says which file)."""


class Checkpointer:
    """Writes a checkpoint after a level once `every` seconds passed since the last."""

    def __init__(self, folder: str, every: float, ident: dict):
        self.folder, self.every, self.ident = folder, every, ident
        self.last = time.monotonic()
        self.written = 0

    def maybe_save(self, search, elapsed: float) -> None:
        """Save when it is time.  A checkpoint that cannot be written (a full disk, a file
        in the way) does not stop the search: it goes on without checkpoints, and the
        result's warnings say from which level."""
        now = time.monotonic()
        if now - self.last >= self.every:
            try:
                self.save(search, elapsed)
            except (OSError, CheckpointFailed) as exc:
                why = str(exc)
                if isinstance(exc, OSError) and exc.strerror:
                    why = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
                search.warnings.append(
                    f"no checkpoint could be written at depth {search.D.depth} ({why}); the "
                    "search went on without checkpoints")
                self.every = math.inf
            self.last = time.monotonic()

    def save(self, search, elapsed: float) -> None:
        D, S = search.D, search.S
        final = os.path.join(self.folder, f"{PREFIX}{D.depth:06d}")
        part = final + ".partial"
        if os.path.isdir(part) and not os.path.islink(part):
            shutil.rmtree(part, ignore_errors=True)
        elif os.path.lexists(part):
            os.unlink(part)
        os.makedirs(part)
        graph = search.graph
        if graph is not None:   # temporal properties: the state graph so far
            parts = {}
            for name in ("degree", "dst", "tid"):
                for k, a in enumerate(getattr(graph, name)):
                    parts[f"{name}{k}"] = a
            for side in ("p", "q"):
                for j, arrays in enumerate(getattr(graph, side)):
                    for k, a in enumerate(arrays):
                        parts[f"{side}{j}_{k}"] = a
            write_arrays(os.path.join(part, "graph.npz"), **parts)
        failed = [why for why in search.group.call(
            "save", [(os.path.join(part, f"owner-{o}.npz"),) for o in range(search.P)]) if why]
        if failed:
            shutil.rmtree(part, ignore_errors=True)
            raise CheckpointFailed(failed[0])
        meta = {"format": FORMAT, "identity": self.ident, "owners": search.P,
                "driver": {"initial": D.initial, "total": D.total,
                           "level_start": D.level_start, "expanded": D.expanded,
                           "transitions": D.transitions, "depth": D.depth,
                           "frontier": D.frontier, "growth": D.growth,
                           "per_state": D.per_state, "levels": D.levels,
                           "seconds": D.seconds + elapsed, "sizes": D.sizes,
                           "graph": None if graph is None else {
                               "levels": len(graph.degree), "edges": graph.edges,
                               "p": [len(a) for a in graph.p],
                               "q": [len(a) for a in graph.q]}},
                "search": {"best": {n: [b.length, b.end, b.message]
                                    for n, b in S.best.items()},
                           "unexpected": S.unexpected, "enabled": S.enabled}}
        # what was written, as written: a damaged or edited checkpoint is refused on resume
        meta["files"] = {n: _sha256(os.path.join(part, n)) for n in sorted(os.listdir(part))}
        meta["digest"] = _digest(meta)
        _write_json(os.path.join(part, "meta.json"), meta)
        _fsync_dir(part)
        os.replace(part, final)
        _fsync_dir(self.folder)
        for name in os.listdir(self.folder):
            path = os.path.join(self.folder, name)
            if name.startswith(PREFIX) and path != final:
                shutil.rmtree(path, ignore_errors=True)
        self.written += 1


def _check_end(end, out: dict) -> None:
    """A verdict's trace end names a state the checkpoint holds: ("state", (level, i), why)
    or ("step", (level, i), transition, key, why)."""
    if not (isinstance(end, tuple) and len(end) in (3, 5) and end[0] in ("state", "step")):
        raise ValueError("a trace end of another shape")
    level, i = end[1]
    if not all(type(x) is int for x in (level, i, *end[2:-1])):
        raise ValueError("a trace end that is not numbered")
    size = len(out["initial"]) if level == 0 else \
        (out["sizes"][level - 1] if 0 < level <= len(out["sizes"]) else 0)
    if not 0 <= i < size or not isinstance(end[-1], tuple) or not end[-1] or \
            not isinstance(end[-1][0], str):
        raise ValueError("a trace end outside the states kept")


def resumer(path: str, state: dict):
    """A function that puts a search where the checkpoint at `path` (its parsed meta:
    `load_meta`) left it."""

    def resume(search) -> None:
        try:
            _resume(search)
        except (ValueError, IndexError, KeyError, TypeError, OSError,
                zipfile.BadZipFile) as exc:   # what the checks before could not see
            raise damaged(path, str(exc)) from None

    def _resume(search) -> None:
        D, S = search.D, search.S
        D.initial = list(state["initial"])
        for name in ("total", "level_start", "expanded", "transitions", "depth", "frontier",
                     "growth", "per_state", "seconds", "levels", "sizes"):
            setattr(D, name, state[name])
        g, G = state["graph"], search.graph
        if g is not None and G is not None:
            a = read_arrays(os.path.join(path, "graph.npz"))
            for name in ("degree", "dst", "tid"):
                setattr(G, name, [a[f"{name}{k}"] for k in range(g["levels"])])
            G.p = [[a[f"p{j}_{k}"] for k in range(n)] for j, n in enumerate(g["p"])]
            G.q = [[a[f"q{j}_{k}"] for k in range(n)] for j, n in enumerate(g["q"])]
            G.edges = g["edges"]
        S.best = dict(state["best"])
        S.unexpected = state["unexpected"]
        if len(state["enabled"]) != len(S.enabled):
            raise error("DR902", f"the checkpoint {path} counts {len(state['enabled'])} "
                        f"transitions, the spec has {len(S.enabled)}",
                        "resume from an intact checkpoint, or start afresh")
        S.enabled = list(state["enabled"])
        files = sorted(str(p) for p in Path(path).glob("owner-*.npz"))
        search.group.call("restore", [(files,)] * search.P)

    return resume
