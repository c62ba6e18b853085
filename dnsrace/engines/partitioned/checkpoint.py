"""Checkpoints of a partitioned search: written after a level, read back by `--resume`.

A checkpoint is a folder `level-NNNNNN` (the depth reached) in the checkpoint folder, made
as `level-NNNNNN.partial` and renamed when every file in it is written and fsynced (a
folder's rename is atomic), then the folder itself is fsynced; older checkpoints are
removed after.  So a run killed at any moment leaves the last complete checkpoint intact.

In it: `meta.json` (what the checkpoint belongs to: the spec's sha256, its constants, the
engine options that change results; and the driver's bookkeeping: counts, verdicts so far,
per-transition counts, levels), `owner-K.npz` per owner (its visited keys, its frontier
part with global indices, its parent links), and with temporal properties `graph.npz`.  No pickle: arrays are read with allow_pickle=False, the rest is JSON.
A checkpoint can be resumed with any number of owners: each reads every owner file and
keeps the keys it owns.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from ...diagnostics import Diagnostic, SpecError
from ..bfs import _Best
from ..device import numpy as np

FORMAT = 1
PREFIX = "level-"


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


def _tuples(x):
    return tuple(_tuples(v) for v in x) if isinstance(x, list) else x


def error(code: str, message: str, hint: str) -> SpecError:
    return SpecError([Diagnostic(code, message, None, None, hint)])


def prepare(folder: str) -> None:
    """Make sure the checkpoint folder can be written (DR901 when it cannot)."""
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, ".dnsrace-probe")
        with open(probe, "w", encoding="utf-8") as f:
            f.write("ok")
        os.unlink(probe)
    except OSError as exc:
        raise error("DR901", f"cannot write checkpoints to {folder}: "
                    f"{exc.strerror or exc}", "choose a folder you can write") from None


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
        with open(os.path.join(path, "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as exc:
        raise error("DR902", f"the checkpoint {path} cannot be read: {exc}",
                    "resume from a checkpoint dnsrace wrote") from None
    if meta.get("format") != FORMAT:
        raise error("DR902", f"the checkpoint {path} has another format",
                    "resume with the dnsrace version that wrote it")
    theirs = meta.get("identity", {})
    for what, label in (("spec_sha256", "another spec (its sha256 differs)"),
                        ("constants", "other constants"),
                        ("limits", ("other options (--max-states, --max-depth, "
                                    "--stop-on-first, --symmetry)"))):
        if theirs.get(what) != ident[what]:
            raise error("DR903", f"the checkpoint in {folder} belongs to {label}",
                        "resume with the spec, constants and options of the run that "
                        "wrote it, or start afresh with --checkpoint")
    _check_files(path, meta)
    return path, meta


OWNER_ARRAYS = ("visited", "frontier", "gidx", "ids", "lsizes", "lranks", "lcodes")


def _check_files(path: str, meta: dict) -> None:
    """Every part the meta names is there and readable (DR902 when not): a damaged
    checkpoint is refused before the search starts."""
    owners = sorted(Path(path).glob("owner-*.npz"))
    need = [(str(p), OWNER_ARRAYS) for p in owners]
    if meta.get("driver", {}).get("graph") is not None:
        need.append((os.path.join(path, "graph.npz"), ()))
    try:
        if len(owners) != int(meta["owners"]):
            raise ValueError(f"{len(owners)} owner files, {meta['owners']} expected")
        for file, names in need:
            with np.load(file, allow_pickle=False) as z:
                missing = [n for n in names if n not in z.files]
            if missing:
                raise ValueError(f"{file} lacks {', '.join(missing)}")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise error("DR902", f"the checkpoint {path} is damaged: {exc}",
                    "resume from an intact checkpoint, or start afresh") from None


class Checkpointer:
    """Writes a checkpoint after a level once `every` seconds passed since the last."""

    def __init__(self, folder: str, every: float, ident: dict):
        self.folder, self.every, self.ident = folder, every, ident
        self.last = time.monotonic()
        self.written = 0

    def maybe_save(self, search, elapsed: float) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.save(search, elapsed)
            self.last = time.monotonic()

    def save(self, search, elapsed: float) -> None:
        D, S = search.D, search.S
        final = os.path.join(self.folder, f"{PREFIX}{D.depth:06d}")
        part = final + ".partial"
        shutil.rmtree(part, ignore_errors=True)
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
        search.group.call("save", [(os.path.join(part, f"owner-{o}.npz"),)
                                   for o in range(search.P)])
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
        _write_json(os.path.join(part, "meta.json"), meta)
        _fsync_dir(part)
        os.replace(part, final)
        _fsync_dir(self.folder)
        for name in os.listdir(self.folder):
            path = os.path.join(self.folder, name)
            if name.startswith(PREFIX) and path != final:
                shutil.rmtree(path, ignore_errors=True)
        self.written += 1


def resumer(path: str, meta: dict):
    """A function that puts a search where the checkpoint at `path` left it."""

    def resume(search) -> None:
        D, S = search.D, search.S
        d = meta["driver"]
        D.initial = [int(x) for x in d["initial"]]
        for name in ("total", "level_start", "expanded", "transitions", "depth",
                     "frontier"):
            setattr(D, name, int(d[name]))
        D.growth, D.per_state, D.seconds = float(d["growth"]), float(d["per_state"]), \
            float(d["seconds"])
        D.levels = [tuple(x) for x in d["levels"]]
        D.sizes = [int(x) for x in d["sizes"]]
        if d.get("graph") is not None and search.graph is not None:
            g, G = d["graph"], search.graph
            a = read_arrays(os.path.join(path, "graph.npz"))
            for name in ("degree", "dst", "tid"):
                setattr(G, name, [a[f"{name}{k}"] for k in range(int(g["levels"]))])
            G.p = [[a[f"p{j}_{k}"] for k in range(n)] for j, n in enumerate(g["p"])]
            G.q = [[a[f"q{j}_{k}"] for k in range(n)] for j, n in enumerate(g["q"])]
            G.edges = int(g["edges"])
        s = meta["search"]
        S.best = {n: _Best(int(v[0]), _tuples(v[1]), v[2]) for n, v in s["best"].items()}
        S.unexpected = bool(s["unexpected"])
        S.enabled = [int(x) for x in s["enabled"]]
        files = sorted(str(p) for p in Path(path).glob("owner-*.npz"))
        search.group.call("restore", [(files,)] * search.P)

    return resume
