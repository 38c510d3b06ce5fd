"""The conformance kit's pytest plugin (entry point ``pytest11``: ``tramo_conformance``).

Inert unless ``--tramo-conformance NAME`` is given, so a host's own test
suite is untouched by having tramo installed. With it, the session gets a
``kit`` fixture (the plugin with its sandbox running, shared by every test)
and the report ends with what was opted out and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

OPTION = "--tramo-conformance"

# CI: few cases, reproducible, and no shrinking (a failure is reported as
# found; shrinking a stateful case can take minutes). Full: many cases, shrunk.
settings.register_profile("tramo-kit-ci", max_examples=15, deadline=None, derandomize=True,
                          database=None, suppress_health_check=list(HealthCheck),
                          phases=(Phase.explicit, Phase.reuse, Phase.generate))
settings.register_profile("tramo-kit-full", max_examples=200, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tramo", "tramo conformance kit")
    group.addoption(OPTION, metavar="PLUGIN", default=None,
                    help="run the tramo conformance kit against the installed plugin PLUGIN")
    group.addoption("--tramo-profile", choices=("ci", "full"), default="ci",
                    help="how many cases hypothesis generates (ci: few, derandomized; full: many)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption(OPTION):
        settings.load_profile(f"tramo-kit-{config.getoption('--tramo-profile')}")


@pytest.fixture(scope="session")
def kit(request: pytest.FixtureRequest) -> Iterator[Any]:
    name = request.config.getoption(OPTION)
    if not name:
        pytest.skip(f"the conformance kit runs only with {OPTION} PLUGIN")
    from tramo.testing.kit import Kit

    running = Kit(name)
    try:
        yield running
    finally:
        running.close()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    name = config.getoption(OPTION)
    if not name:
        return
    skipped = terminalreporter.stats.get("skipped", [])
    passed = len(terminalreporter.stats.get("passed", []))
    failed = len(terminalreporter.stats.get("failed", [])) + len(terminalreporter.stats.get("error", []))
    terminalreporter.section(f"tramo conformance: {name}")
    terminalreporter.write_line(f"{passed} properties hold, {failed} fail, {len(skipped)} not applicable")
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        test = report.nodeid.rsplit("::", 1)[-1]
        terminalreporter.write_line(f"  {test}: {reason.removeprefix('Skipped: ')}")
