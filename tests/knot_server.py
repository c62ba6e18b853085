"""A real Knot DNS server for the tests of the DNS automation example (tests/test_knot_dns.py).

`knot` starts one knotd for the module (examples/dns_automation/knot_server.py: a temporary
zone and TSIG key, a free loopback port) and stops it afterwards; `knot_env` points the
adapter at it.  Without knotd the tests are skipped, saying how to install it, except in CI
(CI=true), where a missing knotd fails: .ci/run installs it, so a skip there would hide."""

from __future__ import annotations

import os

import pytest

from examples.dns_automation.knot_server import (
    INSTALL,
    KnotError,
    KnotServer,
    knotd_path,
)


@pytest.fixture(scope="module")
def knot(tmp_path_factory):
    if knotd_path() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"knotd is missing in CI; .ci/run should have installed it ({INSTALL})")
        pytest.skip(f"knotd is not installed: {INSTALL}")
    try:
        server = KnotServer.start(tmp_path_factory.mktemp("knot"))
    except KnotError as exc:
        pytest.fail(f"knotd did not start: {exc}")
    yield server
    server.stop()


@pytest.fixture
def knot_env(knot, monkeypatch):
    for name, value in knot.environment().items():
        monkeypatch.setenv(name, value)
    return knot
