"""The result cache (`--cache DIR`): a complete result, kept under a key made of everything
that decides it, so that checking the same spec the same way again reads it back instead of
exploring again.

The key covers the dnsrace version, the spec's bytes, the constant overrides, the engine,
the limits and the device (`key`).  It does not cover dnsrace's own code beyond its version,
nor the Python, Z3 or NumPy it runs on.  The spec's path is recorded, not keyed: the same spec
text at another path hits, reported at the path asked.

A cache folder may be shared (CI caches are), so an entry is untrusted: anything in it that
is not exactly what dnsrace writes makes it a miss, never an error.  Entries are written
whole or not at all (a temporary file, then `os.replace`)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from . import __version__
from .input_files import InputFileError, read_input_bytes
from .results import CheckResult
from .results_json import MalformedResult, at_path, extras_to_json, result_from_json

ENTRY_FORMAT = 1
MAX_ENTRY_BYTES = 256 << 20    # 256 MiB: several traces of thousands of steps
_KEY = re.compile(r"[0-9a-f]{64}")


class CacheUnwritable(OSError):
    """The cache folder cannot be created or written; the message names it and says why."""


def key(spec_bytes: bytes, constants: dict[str, int] | None, engine: str, limits,
        device: str = "cpu", version: str = __version__) -> str:
    """The key of a check: a sha256 (hex) over the dnsrace version, the spec's bytes, the
    constant overrides, the engine asked for, the limits (an `engines.bfs.Limits`: the ones
    asked for, before compiling takes its share of the time limit) and the device."""
    canonical = {
        "entry_format": ENTRY_FORMAT,
        "dnsrace": version,
        "spec_sha256": hashlib.sha256(spec_bytes).hexdigest(),
        "constants": sorted([name, value] for name, value in (constants or {}).items()),
        "engine": engine,
        "limits": {"max_states": limits.max_states, "max_depth": limits.max_depth,
                   "time_limit": limits.time_limit, "stop_on_first": limits.stop_on_first},
        "device": device,
    }
    if not getattr(limits, "symmetry", True):   # (a key without it: symmetry on)
        canonical["limits"]["symmetry"] = False
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def storable(result: CheckResult) -> bool:
    """Only a complete result that no limit or interrupt cut short is kept."""
    return result.complete and result.stopped is None


class ResultCache:
    """Results by key (`key`), one JSON file each under `folder`, made when first written."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.folder / f"{key}.json"

    def get(self, key: str, spec_path: str | None = None) -> CheckResult | None:
        """The result kept under `key`, marked `cached`, at `spec_path` (the path asked
        now; by default the one it was checked at); None when there is none, or what is
        there is not a whole, complete entry that dnsrace wrote under this key."""
        try:
            raw = read_input_bytes(self.path(key), "cache entry", MAX_ENTRY_BYTES)
            entry = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
            result = _entry_result(entry, key)
        except (InputFileError, UnicodeDecodeError, ValueError, RecursionError):
            return None   # MalformedResult and JSONDecodeError are ValueErrors
        result.cached = True
        return at_path(result, spec_path) if spec_path is not None else result

    def put(self, key: str, result: CheckResult) -> bool:
        """Keep `result` under `key` when it is `storable` (True when it was kept).
        CacheUnwritable when the folder cannot be made or written."""
        if not storable(result):
            return False
        entry = {"entry_format": ENTRY_FORMAT, "dnsrace": __version__, "key": key,
                 "spec_path": result.spec_path, "result": result.to_json(),
                 "report": extras_to_json(result)}
        data = json.dumps(entry, ensure_ascii=False, allow_nan=False).encode("utf-8")
        self._write(self.path(key), data)
        return True

    def _write(self, target: Path, data: bytes) -> None:
        """`data` in `target`, whole or not at all."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".dnsrace-", suffix=".tmp")
        except OSError as exc:
            raise _unwritable(f"cannot write the cache folder {self.folder}", exc) from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, target)
        except BaseException as exc:
            try:
                os.unlink(temp)
            except OSError:
                pass
            if isinstance(exc, OSError):
                raise _unwritable(f"cannot write the cache entry {target}", exc) from None
            raise


def _unwritable(what: str, exc: OSError) -> CacheUnwritable:
    return CacheUnwritable(f"{what}: {exc.strerror or exc}")


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number dnsrace writes")


def _entry_result(entry, key: str) -> CheckResult:
    if not isinstance(entry, dict) or set(entry) != {"entry_format", "dnsrace", "key",
                                                     "spec_path", "result", "report"}:
        raise MalformedResult("not a cache entry")
    if entry["entry_format"] != ENTRY_FORMAT or entry["key"] != key \
            or not isinstance(entry["spec_path"], str):
        raise MalformedResult("an entry of another format or key")
    result = result_from_json(entry["result"], entry["report"])
    if result.spec_path != entry["spec_path"] or not storable(result):
        raise MalformedResult("not an entry dnsrace writes")
    return result
