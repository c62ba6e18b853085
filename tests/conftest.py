"""Shared pytest configuration."""

from __future__ import annotations

import pytest

from tests.knot_server import knot, knot_env  # noqa: F401  (a real knotd: test_knot_dns.py)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="Rewrite golden files (e.g. tests/broken/*.expected) instead of "
                          "comparing against them.")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return request.config.getoption("--update-goldens")
