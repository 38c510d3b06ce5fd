"""The conformance kit, run for every built-in plugin that hands over a sandbox.

Each plugin runs in a fresh interpreter (``python -m tramo conformance NAME``),
as its users run it, so its hypothesis settings and sandboxes stay its own.
A built-in plugin with a sandbox hook that is missing from ``CHECKED`` fails
the suite, so none lands without the kit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tramo.registry import discover

#: the built-in plugins whose sandboxes have landed
CHECKED = ("tray_rest", "tray_soap", "tray_ftp", "ideris", "shopify")
BUILT_IN = ("tray_rest", "tray_soap", "tray_ftp", "ideris", "shopify")


def test_every_built_in_plugin_with_a_sandbox_is_checked() -> None:
    registry = discover(allow=list(BUILT_IN))
    with_sandbox = {name for name in BUILT_IN if registry.implementation(name, "sandbox") is not None}
    assert with_sandbox == set(CHECKED)


@pytest.mark.parametrize("name", CHECKED)
def test_the_built_in_plugin_passes_the_conformance_kit(name: str, tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TRAMO_")}
    result = subprocess.run(
        [sys.executable, "-m", "tramo", "conformance", name, f"--pytest=--rootdir={tmp_path}"],
        capture_output=True, text=True, env=environment, timeout=900)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert f"tramo conformance: {name}" in result.stdout and " 0 fail" in result.stdout
