"""The documentation is tested: every spec, fragment and command output in README.md and
docs/*.md is extracted and run (conventions in tests/docblocks.py), so none can go stale."""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dnsrace.api import check
from dnsrace.cli import main
from dnsrace.diagnostics import Pos, Reporter, SourceFile, SpecError
from dnsrace.frontend.build import load_model
from dnsrace.frontend.parser import parse_effect, parse_expr
from dnsrace.frontend.yaml_reader import YMap, YScalar, YSeq, read_yaml

from .docblocks import KINDS, Block, blocks, commands, matches, normalise
from .helpers import ROOT

DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
EXPR_KEYS = {"guard", "expr", "next", "init"}
EXPR_SECTIONS = {"define", "invariants", "transitions", "reachable"}
MAX_STATES = 200_000
Z3_ENGINES = {"bmc", "kind", "pdr", "all"}


def _doc_id(doc: Path) -> str:
    return doc.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("doc", DOCS, ids=_doc_id)
def test_every_block_of_the_doc_is_what_it_says(doc: Path, tmp_path: Path, monkeypatch):
    """Specs load (and check), fragments parse, commands print what the doc shows."""
    for shared in ("specs", "tests", "benchmarks", "examples"):
        (tmp_path / shared).symlink_to(ROOT / shared, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    run = DocRun(tmp_path)
    problems: list[str] = []
    for block in blocks(doc):
        try:
            run.block(block)
        except AssertionError as exc:
            problems.append(f"{block.where}: {exc}")
        except SpecError as exc:
            problems.append(f"{block.where}: the spec is rejected: "
                            + "; ".join(d.message for d in exc.diagnostics))
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=_doc_id)
def test_the_doc_points_only_at_files_in_the_repository(doc: Path):
    text = doc.read_text(encoding="utf-8")
    assert "../shared" not in text
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not re.match(r"[a-z]+:", target):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_the_readme_points_new_users_at_the_language_and_the_tutorial():
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:3000]
    assert "docs/LANGUAGE.md" in head and "docs/TUTORIAL.md" in head


class DocRun:
    """Runs one document's blocks in order, in one folder (files persist between blocks)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.status = 0

    def block(self, block: Block) -> None:
        assert block.kind in KINDS, f"unknown block language {block.kind!r}"
        getattr(self, f"_{block.kind or 'text'}")(block)

    def _text(self, block: Block) -> None:
        pass

    def _json(self, block: Block) -> None:
        json.loads(block.text)

    def _yaml(self, block: Block) -> None:
        if block.fragment:
            return check_fragment(block.text)
        assert not block.directive or block.file_name, f"unknown directive {block.directive!r}"
        name = block.file_name or "_block.yaml"
        path = self.folder / name
        path.write_text(block.text, encoding="utf-8")
        if block.invalid:
            with pytest.raises(SpecError):
                load_model(path)
            return
        result = check(path, max_states=MAX_STATES)
        assert result.complete, f"the spec's check did not complete ({name})"

    def _sh(self, block: Block) -> None:
        makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
        for line in block.text.splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            if words[0] == "make":
                assert re.search(rf"^{re.escape(words[1])}:", makefile, re.M), line
                continue
            status, out = self.dnsrace(words, line)
            assert status != 2, f"`{line}` exits 2:\n{out}"

    def _console(self, block: Block) -> None:
        for cmd in commands(block):
            actual = self.command(cmd.line)
            if not matches(cmd.output, actual):
                diff = difflib.unified_diff([normalise(x) for x in cmd.output],
                                            [normalise(x) for x in actual], "documented",
                                            "actual", lineterm="")
                raise AssertionError(f"`$ {cmd.line}` prints otherwise:\n" + "\n".join(diff))

    def command(self, line: str) -> list[str]:
        words = shlex.split(line)
        if words == ["echo", "$?"]:
            return [str(self.status)]
        if words[0] == "cat" and len(words) == 2:
            return (self.folder / words[1]).read_text(encoding="utf-8").splitlines()
        self.status, out = self.dnsrace(words, line)
        return out.splitlines()

    def dnsrace(self, words: list[str], line: str) -> tuple[int, str]:
        assert words[0] in ("dnsrace", ".venv/bin/dnsrace"), f"not a dnsrace command: {line}"
        if Z3_ENGINES & set(words):
            return self.fresh_process(words[1:])
        res = CliRunner().invoke(main, words[1:], prog_name="dnsrace",
                                 catch_exceptions=False)
        return res.exit_code, res.output

    def fresh_process(self, args: list[str]) -> tuple[int, str]:
        """Z3 engines run in a process of their own, as a user runs them: the invariant Spacer
        prints can depend on the terms Z3 made earlier in the same process."""
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        res = subprocess.run([sys.executable, "-m", "dnsrace", *args], cwd=self.folder,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=120)
        return res.returncode, res.stdout


def check_fragment(text: str) -> None:
    """A fragment is YAML as dnsrace reads it; its expressions and effects parse."""
    rep = Reporter(SourceFile("fragment.yaml", text))
    node = read_yaml(text, rep)
    assert node is not None and not rep.diagnostics, \
        "; ".join(d.message for d in rep.diagnostics)
    _parse_strings(node, None)


def _parse_strings(node, key: str | None) -> None:
    if isinstance(node, YMap):
        for k, v in node.items:
            if key in EXPR_SECTIONS and isinstance(v, YScalar):
                _parse(v, "expr")
            else:
                _parse_strings(v, k.value)
    elif isinstance(node, YSeq):
        for item in node.items:
            _parse_strings(item, key)
    elif key in EXPR_KEYS and isinstance(node.value, str) and node.value != "any":
        _parse(node, "expr")
    elif key == "effect" and isinstance(node.value, str):
        _parse(node, "effect")


def _parse(node: YScalar, what: str) -> None:
    text = str(node.value)
    locate = lambda offset: Pos(node.pos.line, node.pos.col + offset)  # noqa: E731
    (parse_expr if what == "expr" else parse_effect)(text, locate, "fragment.yaml")


def test_a_stale_doc_block_fails_with_a_diff(tmp_path: Path, monkeypatch):
    """The doc test itself: a documented output that differs is reported with a diff."""
    doc = tmp_path / "doc.md"
    spec = "dnsrace: 1\nname: tiny\nvariables:\n  x: {type: bool, init: false}\n"
    doc.write_text("<!-- file: tiny.yaml -->\n```yaml\n" + spec + "```\n\n```console\n"
                   "$ dnsrace check tiny.yaml --quiet\ntiny (tiny.yaml)\n  2 states\n```\n",
                   encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    run = DocRun(tmp_path)
    spec_block, console = blocks(doc)
    run.block(spec_block)
    with pytest.raises(AssertionError, match=r"(?s)-  2 states.*\+  1 state, 0 transitions"):
        run.block(console)
    assert os.path.exists(tmp_path / "tiny.yaml")
