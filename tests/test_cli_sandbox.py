"""``tramo sandbox``: a plugin's sandbox in its own process, a config a sync can use at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tramo.cli import main
from tramo.cli_sandbox import seed_sandbox
from tramo.erp.reference import ReferenceErp


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], dict]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tramo", "sandbox", *args,
         "--config", str(tmp_path / "tramo.toml"), "--record", str(tmp_path / "record.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"})
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        pytest.fail(f"the sandbox process said nothing: {process.stderr.read() if process.stderr else ''}")
    return process, json.loads(line)


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()


def test_a_sandbox_process_serves_a_sync_and_records_what_the_platform_holds(tmp_path: Path) -> None:
    process, announced = _start(tmp_path, "tray_rest", "--orders", "4", "--products", "3")
    try:
        assert announced["plugin"] == "tray_rest"
        assert announced["settings"]["api_address"].startswith("http://127.0.0.1:")
        config = tomllib.loads((tmp_path / "tramo.toml").read_text())
        assert config["connections"]["tray_rest"]["settings"] == announced["settings"]
        assert config["connections"]["tray_rest"]["mappings"]["status"]

        assert main(["sync", "--config", str(tmp_path / "tramo.toml"), "--flow", "orders"]) == 0
        erp = ReferenceErp(tmp_path / "erp.sqlite3")
        try:
            assert len(erp.orders()) == 4
        finally:
            erp.close()
    finally:
        code = _stop(process)
    assert code == 0
    record = json.loads((tmp_path / "record.json").read_text())
    assert len(record["products"]) == 3 and len(set(record["products"])) == 3
    assert record["stock"] and record["trackings"] == {}


def test_an_unseeded_sandbox_starts_empty(tmp_path: Path) -> None:
    process, _ = _start(tmp_path, "ideris", "--no-seed")
    assert _stop(process) == 0
    assert json.loads((tmp_path / "record.json").read_text())["products"] == []


def test_a_plugin_without_a_sandbox_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "no_such_plugin"]) == 2
    assert "no_such_plugin" in capsys.readouterr().err


def test_a_fault_chance_outside_0_to_1_is_refused_with_the_value(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "tray_rest", "--faults", "1.5"]) == 2
    assert "1.5" in capsys.readouterr().err


def test_a_size_the_sandbox_cannot_seed_is_named_not_silently_dropped(
        capsys: pytest.CaptureFixture[str]) -> None:
    """A third party's sandbox may seed one fixed data set (every built-in one takes sizes)."""
    seeded: list[int] = []

    class FixedSeed:
        plugin = "fixed"

        def seed(self, *, seed: int = 0) -> None:
            seeded.append(seed)

    seed_sandbox(FixedSeed(), products=None, orders=7, seed=3)  # type: ignore[arg-type]
    assert seeded == [3]
    assert "--orders ignored" in capsys.readouterr().err


def test_a_time_scale_of_zero_or_less_is_refused_with_the_value(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "tray_rest", "--time-scale", "0"]) == 2
    assert "--time-scale" in capsys.readouterr().err


def test_a_sandbox_keeps_its_own_time_scale_unless_told(tmp_path: Path) -> None:
    """Ideris' sandbox runs its clock 100x by default (its settings' rate is in real time)."""
    own, announced = _start(tmp_path, "ideris", "--no-seed")
    _stop(own)
    told, scaled = _start(tmp_path, "ideris", "--no-seed", "--time-scale", "1")
    _stop(told)
    assert announced["settings"]["requests_per_minute"] == \
        100 * scaled["settings"]["requests_per_minute"]
