"""The pytest plugin: `pytest specs/` checks each dnsrace spec once and makes each of its
properties a test item, `specs/spec.yaml::property` (the built-in checks too: assertion,
type, error, deadlock, as the check report lists them).

Which files it collects (docs/CI.md, "## pytest"):
  * a spec is a `*.yaml` or `*.yml` file with a top-level `dnsrace:` key (the language
    version every spec starts with); other YAML files are never collected;
  * a spec named on the command line is always collected;
  * a spec found in a folder is collected when it lies under a path of the ini option
    `dnsrace_specs`, or, where that option is not set, under a folder named on the command
    line (`pytest specs/`); never from `testpaths` alone.

An item passes when its property's outcome is the expected one; it fails otherwise,
showing the counterexample; `unknown` fails too, with its reason.  An invalid spec is one
collection error with its diagnostics.

pytest loads this module in every run of every project where dnsrace is installed, so it
imports only the standard library and pytest; the checker is imported when a spec is
collected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from .spec_files import SPEC_SUFFIXES, is_spec



# ---- options ----------------------------------------------------------------------------

def _count(text: str) -> int:
    """A positive number of states."""
    try:
        n = int(str(text).strip())
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{text!r} is not a number of states (an integer >= 1)")
    return n


def _seconds(text: str) -> float:
    """A finite, non-negative number of seconds."""
    try:
        s = float(str(text).strip())
    except ValueError:
        s = math.nan
    if not math.isfinite(s) or s < 0:
        raise ValueError(f"{text!r} is not a number of seconds (a finite number >= 0)")
    return s


def _argparse_type(parse):
    import argparse

    def convert(text: str):
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = parse.__name__.lstrip("_")
    return convert


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dnsrace", "dnsrace specs (each property a test item)")
    group.addoption("--dnsrace-const", action="append", default=None, metavar="NAME=VALUE",
                    help="Override a constant of every spec (repeatable); ini: dnsrace_const.")
    group.addoption("--dnsrace-engine", default=None, metavar="ENGINE",
                    help="The engine: auto (default), bfs, array, bmc, kind, pdr or all; "
                         "ini: dnsrace_engine.")
    group.addoption("--dnsrace-max-states", type=_argparse_type(_count), default=None,
                    metavar="N", help="Stop each search after N states (its properties "
                    "then fail as unknown); ini: dnsrace_max_states.")
    group.addoption("--dnsrace-time-limit", type=_argparse_type(_seconds), default=None,
                    metavar="SECONDS", help="Stop each spec's check after this long, "
                    "compiling included; ini: dnsrace_time_limit.")
    parser.addini("dnsrace_specs", type="paths", default=[],
                  help="Where specs are collected from folders (paths relative to the ini "
                       "file); unset: only under folders named on the command line.")
    parser.addini("dnsrace_const", type="linelist", default=[],
                  help="NAME=VALUE constant overrides for every spec, one a line.")
    parser.addini("dnsrace_engine", default="", help="The engine (default auto).")
    parser.addini("dnsrace_max_states", default="", help="Stop each search after N states.")
    parser.addini("dnsrace_time_limit", default="",
                  help="Stop each spec's check after this many seconds.")


@dataclass(frozen=True)
class Settings:
    constants: dict[str, int]
    const_args: tuple[str, ...]      # as given, for the rerun hint
    engine: str
    max_states: int | None
    time_limit: float | None


_SETTINGS = pytest.StashKey["Settings"]()


def settings(config: pytest.Config) -> Settings:
    """The options, command line over ini, read once; SpecError (DR401) when one is bad."""
    if _SETTINGS not in config.stash:
        config.stash[_SETTINGS] = _read_settings(config)
    return config.stash[_SETTINGS]


def _read_settings(config: pytest.Config) -> Settings:
    from .cli import parse_consts
    from .diagnostics import Diagnostic, SpecError

    consts = tuple(config.getoption("dnsrace_const") or config.getini("dnsrace_const"))
    engine = config.getoption("dnsrace_engine") or config.getini("dnsrace_engine").strip()
    max_states = config.getoption("dnsrace_max_states")
    time_limit = config.getoption("dnsrace_time_limit")
    try:
        if max_states is None and config.getini("dnsrace_max_states").strip():
            max_states = _count(config.getini("dnsrace_max_states"))
        if time_limit is None and config.getini("dnsrace_time_limit").strip():
            time_limit = _seconds(config.getini("dnsrace_time_limit"))
    except ValueError as exc:
        raise SpecError([Diagnostic("DR401", f"ini option: {exc}", None, None,
                                    "fix the value in the pytest configuration")]) from None
    return Settings(parse_consts(consts), consts, engine or "auto", max_states, time_limit)


# ---- collection -------------------------------------------------------------------------

def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix not in SPEC_SUFFIXES:
        return None
    if not (_named(parent.config, file_path) or _selected(parent.config, file_path)):
        return None
    if not is_spec(file_path):
        return None
    return SpecFile.from_parent(parent, path=file_path)


def _command_line_paths(config: pytest.Config) -> list[Path]:
    """The paths named on the command line (not those from testpaths)."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return []
    base = config.invocation_params.dir
    return [(base / a.split("::")[0]).resolve() for a in config.args]


def _named(config: pytest.Config, path: Path) -> bool:
    return path.resolve() in _command_line_paths(config)


def _selected(config: pytest.Config, path: Path) -> bool:
    """Whether a spec found in a folder is collected: under `dnsrace_specs` where that is
    set, else under a folder named on the command line."""
    roots = [Path(p).resolve() for p in config.getini("dnsrace_specs")]
    if not roots:
        roots = [p for p in _command_line_paths(config) if p.is_dir()]
    where = path.resolve()
    return any(where == r or r in where.parents for r in roots)


def _shown_path(path: Path) -> str:
    """The spec's path as diagnostics and hints show it: relative to the current folder
    where it lies under it (as `dnsrace check specs/` shows it), else absolute."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


class SpecFile(pytest.File):
    """One spec: checked once, when collected; one item per property of its result."""

    def collect(self):
        result = self._check()
        for w in result.warnings:
            self.warn(DnsraceWarning(f"{_shown_path(self.path)}: {w}"))
        for prop in result.properties:
            yield PropertyItem.from_parent(self, name=prop.name, result=result, prop=prop)

    def _check(self):
        from .api import check
        from .bounds import CompileTimeout
        from .diagnostics import SpecError
        from .report.text import diagnostics_text

        try:
            s = settings(self.config)
            return check(_shown_path(self.path), s.constants, engine=s.engine,
                         max_states=s.max_states, time_limit=s.time_limit)
        except SpecError as exc:
            raise self.CollectError(diagnostics_text(exc.diagnostics).rstrip("\n")) from None
        except CompileTimeout:
            raise self.CollectError(f"{_shown_path(self.path)}: the time limit ran out while "
                                    "compiling; nothing was checked") from None


class DnsraceWarning(pytest.PytestWarning):
    """A warning of a spec's check (a step never enabled, engines that disagree)."""


# ---- items ------------------------------------------------------------------------------

class PropertyFailed(Exception):
    """The property's outcome is not the expected one, or it is unknown."""


class PropertyItem(pytest.Item):
    def __init__(self, *, result, prop, **kwargs):
        super().__init__(**kwargs)
        self.result = result
        self.prop = prop

    def runtest(self) -> None:
        if self.prop.outcome == "unknown" or not self.prop.as_expected:
            raise PropertyFailed(self.prop.name)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, PropertyFailed):
            return "\n".join(failure_lines(self.result, self.prop, settings(self.config)))
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        where = self.result.spec_map.properties.get(self.prop.name) \
            if self.result.spec_map is not None else None
        return self.path, (where.line - 1 if where else None), \
            f"{self.prop.name} ({self.prop.kind})"


def failure_lines(result, p, s: Settings) -> list[str]:
    """What a failed item shows: the verdict (and why unknown), then the counterexample as
    `dnsrace check` shows it, and how to replay it."""
    from dataclasses import replace

    from .report.text import (cti_sections, summary_line, trace_file_name, trace_heading,
                              trace_table, verdict)

    head = f"{result.spec_name} ({result.spec_path}): {p.name} ({p.kind}): {verdict(p)}"
    out = [head + (f" (expected {p.expected})" if p.outcome == "unknown" else "")]
    if p.outcome == "unknown":
        out.append(f"  why: {p.message or summary_line(result, timing=False)}")
        out.append("  an unknown outcome fails: raise --dnsrace-max-states or "
                   "--dnsrace-time-limit, or choose another --dnsrace-engine")
    elif p.message and p.trace is None:
        out.append(f"  {p.message}")
    if p.trace is not None:
        out += ["", trace_heading(p)]
        out += [f"  {x}" for x in (p.about.strip() if p.about else None, p.message) if x]
        out += trace_table(p.trace, result.field_kinds, False)
        out.append(f"  replay: rerun `{check_command(result, s)} --trace-dir DIR`, then "
                   f"`dnsrace replay DIR/{trace_file_name(result, p)}`")
    out += cti_sections(replace(result, properties=[p]), result.field_kinds)
    return out


def check_command(result, s: Settings) -> str:
    """The `dnsrace check` command that repeats this check."""
    words = ["dnsrace", "check", result.spec_path]
    words += [f"--const {c}" for c in s.const_args]
    if s.engine != "auto":
        words.append(f"--engine {s.engine}")
    if s.max_states is not None:
        words.append(f"--max-states {s.max_states}")
    if s.time_limit is not None:
        words.append(f"--time-limit {s.time_limit:g}")
    return " ".join(words)
