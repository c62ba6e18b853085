"""pyproject.toml: the license is an SPDX expression (a TOML table makes setuptools warn,
once per build step, on the first `make run`), with a setuptools that reads one."""

from __future__ import annotations

import re
import tomllib

from tests.helpers import ROOT


def test_license_is_an_spdx_expression_for_a_setuptools_that_reads_it():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert meta["project"]["license"] == "Apache-2.0"
    (req,) = [r for r in meta["build-system"]["requires"] if r.startswith("setuptools")]
    low = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", req)
    assert low and int(low.group(1)) >= 77, req
