"""The seeds every family draws from: spec texts and trace files.

Specs: the shipped ones (specs/), tests/models, tests/contract, tests/scalarsets, tests/broken (with the
command-line arguments a `.args` file gives), and valid random specs drawn with the hypothesis
strategy of tests/reference/specgen.py.  Traces: the files `dnsrace check --trace-dir` writes
for those specs, each kept with the text of its spec.

The corpus is built once per run, in a child process (checking fills dnsrace's global tables,
which the workers forked later should not inherit), and is deterministic for a given seed.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC_FOLDERS = ("specs", "tests/models", "tests/contract", "tests/scalarsets", "tests/broken")


@dataclass(frozen=True)
class SeedSpec:
    name: str             # where it came from, e.g. "specs/lease_handoff.yaml" or "specgen/3"
    text: str
    args: tuple[str, ...] = ()   # extra command-line arguments (tests/broken/*.args)


@dataclass(frozen=True)
class SeedTrace:
    name: str             # the trace file's name
    spec: SeedSpec        # the spec it was written for
    trace: dict           # the parsed trace file


@dataclass(frozen=True)
class SeedOutput:
    spec: SeedSpec        # the spec it was checked from
    output: dict          # the parsed `check --format json` output, spec.path as checked


@dataclass(frozen=True)
class SeedProof:
    spec: SeedSpec        # the spec the proofs are read for (written as spec.yaml)
    file: str             # the name `--proof-dir` looks for, for that spec at spec.yaml
    doc: dict             # a stored-proofs file (specs/proofs/), maybe of another spec
    must_not_hold: tuple[str, ...] = ()   # properties the spec violates: never "holds"


@dataclass(frozen=True)
class SeedCheckpoint:
    spec: SeedSpec        # written as spec.yaml
    args: tuple[str, ...]  # the options the checkpoint belongs to
    files: dict           # path under the checkpoint folder -> bytes


@dataclass
class Corpus:
    specs: list[SeedSpec] = field(default_factory=list)
    traces: list[SeedTrace] = field(default_factory=list)
    outputs: list[SeedOutput] = field(default_factory=list)
    proofs: list[SeedProof] = field(default_factory=list)
    checkpoints: list[SeedCheckpoint] = field(default_factory=list)

    @property
    def valid_specs(self) -> list[SeedSpec]:
        return [s for s in self.specs if not s.name.startswith("tests/broken/")]


def repository_specs() -> list[SeedSpec]:
    out = []
    for folder in SPEC_FOLDERS:
        for path in sorted((ROOT / folder).glob("*.yaml")):
            args_file = path.with_suffix(".args")
            args = tuple(args_file.read_text().split()) if args_file.exists() else ()
            out.append(SeedSpec(f"{folder}/{path.name}", path.read_text(encoding="utf-8"), args))
    return out


def generated_specs(count: int, seed: int) -> list[SeedSpec]:
    """`count` valid specs from tests/reference/specgen.py, drawn with a fixed seed."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed

    from tests.reference.specgen import specs

    texts: list[str] = []

    @fixed_seed(seed)
    @settings(max_examples=count, phases=[Phase.generate], database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(specs())
    def collect(text: str) -> None:
        texts.append(text)

    collect()
    unique = list(dict.fromkeys(texts))
    return [SeedSpec(f"specgen/{k}", t) for k, t in enumerate(unique)]


def written_traces(specs: list[SeedSpec]) -> tuple[list[SeedTrace], list[SeedOutput]]:
    """The trace files `dnsrace check --trace-dir` writes for each spec (searches kept small),
    and the `--output json=...` of the same checks that found a trace."""
    from click.testing import CliRunner

    from dnsrace.cli import main

    out, outputs = [], []
    runner = CliRunner()
    with tempfile.TemporaryDirectory(prefix="dnsrace-fuzz-corpus-") as tmp:
        for k, spec in enumerate(specs):
            folder = Path(tmp) / str(k)
            folder.mkdir()
            path = folder / "spec.yaml"
            path.write_text(spec.text, encoding="utf-8")
            runner.invoke(main, ["check", str(path), *spec.args, "--trace-dir",
                                 str(folder / "traces"), "--max-states", "5000",
                                 "--time-limit", "5", "--witnesses", "-q",
                                 "--output", f"json={folder / 'check.json'}"])
            for f in sorted((folder / "traces").glob("*.json")):
                out.append(SeedTrace(f.name, spec, json.loads(f.read_text(encoding="utf-8"))))
            report = folder / "check.json"
            if (folder / "traces").is_dir() and report.is_file():
                outputs.append(SeedOutput(spec, json.loads(report.read_text(encoding="utf-8"))))
    return out, outputs


# a design whose stored proofs are also handed to its race: the race must never be proved
RACES = {"dns_fix_cas.yaml": "dynamodb_dns_race.yaml",
         "dns_fix_cleanup_in_use.yaml": "dynamodb_dns_race.yaml",
         "dns_fix_lease.yaml": "dynamodb_dns_race.yaml",
         "config_push_fix.yaml": "config_push_race.yaml"}


def stored_proofs(specs: list[SeedSpec]) -> list[SeedProof]:
    """The committed proofs of specs/proofs/, each under the name the store looks for when
    its spec is spec.yaml; and each handed to the race its design fixes, with the
    properties the race violates (a quick search finds them)."""
    from dnsrace.api import check
    from dnsrace.engines.bfs import Limits
    from dnsrace.frontend.build import load_model
    from dnsrace.symbolic import proof_store

    by_file = {s.name.rsplit("/", 1)[-1]: s for s in specs if s.name.startswith("specs/")}
    out = []
    with tempfile.TemporaryDirectory(prefix="dnsrace-fuzz-proofs-") as tmp:
        path = Path(tmp) / "spec.yaml"

        def name_for(spec: SeedSpec, mode: str) -> str:
            path.write_text(spec.text, encoding="utf-8")
            return proof_store._file(".", load_model(path, {}), mode).name

        for f in sorted((ROOT / "specs" / "proofs").glob("*.json")):
            doc = json.loads(f.read_text(encoding="utf-8"))
            base = Path(doc["spec"]["path"]).name
            spec = by_file.get(base)
            if spec is None:
                continue
            out.append(SeedProof(spec, name_for(spec, doc["encoding"]), doc))
            race = by_file.get(RACES.get(base, ""))
            if race is not None:
                path.write_text(race.text, encoding="utf-8")
                result = check(path, engine="bfs", limits=Limits(200_000, None, 30.0, False))
                bad = tuple(p.name for p in result.properties if p.outcome == "violated")
                out.append(SeedProof(race, name_for(race, doc["encoding"]), doc, bad))
    return out


CHECKPOINTED = (("specs/dns_fix_cas.yaml", ("--symmetry", "off")),
                ("specs/lease_handoff.yaml", ()))


def written_checkpoints(specs: list[SeedSpec]) -> list[SeedCheckpoint]:
    """The files of the last checkpoint `check --checkpoint` writes for a few specs."""
    from click.testing import CliRunner

    from dnsrace.cli import main

    by_name = {s.name: s for s in specs}
    out = []
    with tempfile.TemporaryDirectory(prefix="dnsrace-fuzz-ck-") as tmp:
        for k, (name, args) in enumerate(CHECKPOINTED):
            spec = by_name.get(name)
            if spec is None:
                continue
            folder = Path(tmp) / str(k)
            folder.mkdir()
            (folder / "spec.yaml").write_text(spec.text, encoding="utf-8")
            CliRunner().invoke(main, ["check", str(folder / "spec.yaml"), *args, "-q",
                                      "--checkpoint", str(folder / "ck"),
                                      "--checkpoint-every", "0"])
            files = {str(p.relative_to(folder / "ck")): p.read_bytes()
                     for p in sorted((folder / "ck").rglob("*")) if p.is_file()}
            if files:
                out.append(SeedCheckpoint(spec, tuple(args), files))
    return out


def _build(generated: int, seed: int) -> Corpus:
    specs = repository_specs() + generated_specs(generated, seed)
    valid = [s for s in specs if not s.name.startswith("tests/broken/")]
    traces, outputs = written_traces(valid)
    return Corpus(specs, traces, outputs, stored_proofs(specs), written_checkpoints(specs))


def build_corpus(generated: int = 40, seed: int = 0) -> Corpus:
    """The corpus, built in a child process so that this one stays clean."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        return pool.apply(_build, (generated, seed))
