"""Processes for the kill-and-restart tests: a plugin's sandbox, sync runs killed mid-flight.

The sandbox runs as ``tramo sandbox`` in a process of its own, so it outlives
every sync process the test kills. A sync run is ``tramo sync`` in another
process; :func:`kill_sync` waits until the run reaches a chosen point (its
lock taken, or a flow's first write journaled), lets a random moment more pass
and sends SIGKILL. The points are read from the run's state file, from
outside, so kills land inside the work whatever the machine's speed; the
random part says where inside. Every wait here is bounded.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import IO, Any, Self

import attrs

__all__ = ["STARTED", "KillOutcome", "SandboxProcess", "StateFile", "kill_sync", "run_sync"]

#: the run started: its lock on the connection is taken (every flow comes after)
STARTED = "start"


def _tramo(*args: str) -> list[str]:
    return [sys.executable, "-m", "tramo", *args]


def _environment() -> dict[str, str]:
    """The test's environment; no TRAMO_CONFIG from the host, plain unbuffered output."""
    env = {k: v for k, v in os.environ.items() if k != "TRAMO_CONFIG"}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONFAULTHANDLER"] = "1"  # a run stopped with SIGABRT writes where each thread was
    return env


def _stop(process: subprocess.Popen[Any], timeout: float) -> None:
    """SIGTERM, then SIGKILL when it does not end in ``timeout`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _read_line(stream: IO[str], process: subprocess.Popen[Any], timeout: float) -> str:
    """The first line ``process`` prints, waiting at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.1)
        if ready:
            return stream.readline()
        if process.poll() is not None:
            break
    return ""


class SandboxProcess:
    """``tramo sandbox NAME`` in its own process: its settings, its config file, its record."""

    def __init__(self, plugin: str, folder: Path, *, orders: int, products: int | None = None,
                 latency: float = 0.0, time_scale: float | None = None, seed: int = 0,
                 ready_within: float = 60.0) -> None:
        self.plugin = plugin
        self.folder = folder
        self.config = folder / "tramo.toml"
        self.record_path = folder / "record.json"
        self._errors = (folder / "sandbox.err").open("w")
        sizes = ["--orders", str(orders)] + ([] if products is None else ["--products", str(products)])
        self.process = subprocess.Popen(
            _tramo("sandbox", plugin, *sizes, "--latency", str(latency), "--seed", str(seed),
                   *([] if time_scale is None else ["--time-scale", str(time_scale)]),
                   "--config", str(self.config), "--record", str(self.record_path)),
            stdout=subprocess.PIPE, stderr=self._errors, text=True, env=_environment(),
            cwd=folder)
        assert self.process.stdout is not None
        line = _read_line(self.process.stdout, self.process, ready_within)
        if not line.strip():
            self.close()
            raise RuntimeError(f"the {plugin} sandbox did not announce itself in {ready_within} s: "
                               f"{(folder / 'sandbox.err').read_text()[-2000:]}")
        announced = json.loads(line)
        self.settings: dict[str, Any] = announced["settings"]
        self.mappings: dict[str, Any] = announced["mappings"]

    @property
    def state_path(self) -> Path:
        return self.folder / "tramo-state.sqlite3"

    @property
    def erp_path(self) -> Path:
        return self.folder / "erp.sqlite3"

    def record(self, timeout: float = 30.0) -> dict[str, Any]:
        """Stop the sandbox (SIGTERM) and read what it says the platform holds."""
        _stop(self.process, timeout)
        if self.process.returncode != 0 or not self.record_path.exists():
            raise RuntimeError(f"the {self.plugin} sandbox ended with {self.process.returncode}: "
                               f"{(self.folder / 'sandbox.err').read_text()[-2000:]}")
        data: dict[str, Any] = json.loads(self.record_path.read_text())
        return data

    def close(self) -> None:
        """Stop the sandbox if it still runs (a test's ``finally``)."""
        _stop(self.process, 10.0)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._errors.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StateFile:
    """The sync's state file, read from outside while a run writes it (SQLite in WAL mode)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]] | None:
        """The rows, or None while the file or its tables do not exist yet."""
        if not self.path.exists():
            return None
        try:
            with closing(sqlite3.connect(self.path, timeout=2.0)) as db:
                return db.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return None

    def locked(self, connection: str) -> bool:
        found = self.rows("SELECT 1 FROM sync_locks WHERE connection = ? AND expires_at > ?",
                          (connection, time.time()))
        return bool(found)

    def pending(self) -> dict[str, str]:
        """Journal key to flow, for every write opened and not closed."""
        rows = self.rows("SELECT key, flow FROM sync_journal WHERE state = 'pending'") or []
        return {key: flow for key, flow in rows}

    def wrote(self, flow: str, since: float, before: Mapping[str, str]) -> bool:
        """Whether ``flow`` opened or closed a write since ``since`` (epoch seconds); ``before``
        is what was pending then (an entry replayed keeps its key, so it shows on closing)."""
        rows = self.rows("SELECT key, state, closed_at FROM sync_journal WHERE flow = ? AND "
                         "(state = 'pending' OR closed_at >= ?)", (flow, since)) or []
        return any(state != "pending" or key not in before for key, state, _ in rows)


@attrs.frozen
class KillOutcome:
    """One attempt: killed or not, when, and the writes left in doubt by flow."""

    target: str
    killed: bool
    after: float  # seconds from the target point to the kill (or the end)
    in_doubt: Mapping[str, int]
    exit_code: int | None

    def __str__(self) -> str:
        doubt = ", ".join(f"{flow} {n}" for flow, n in sorted(self.in_doubt.items())) or "none"
        verb = "killed" if self.killed else f"ended ({self.exit_code}) before the kill"
        return f"{self.target}+{self.after:.2f}s: {verb}; in doubt: {doubt}"


def kill_sync(config: Path, state: StateFile, connection: str, target: str, delay: float,
              *, timeout: float = 60.0) -> KillOutcome:
    """Start ``tramo sync``; once it reaches ``target`` (:data:`STARTED` or a flow's name) wait
    ``delay`` seconds more and SIGKILL it. A run that ends first is left to end."""
    before = state.pending()
    since = time.time()
    log = (config.parent / "killed-runs.log").open("a")
    try:
        process = subprocess.Popen(_tramo("sync", "--config", str(config), connection, "--json"),
                                   stdout=log, stderr=log, env=_environment(), cwd=config.parent)
        try:
            _await_point(process, state, connection, target, since, before, timeout)
            reached = time.monotonic()
            try:
                process.wait(delay)
                killed = False
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                killed = True
            process.wait(timeout)
        except TimeoutError as stuck:
            log.flush()
            raise TimeoutError(f"{stuck}; where the run was:\n{_where(process, log.name)}") from None
        finally:
            if process.poll() is None:  # only on a failed wait: never leave it behind
                process.kill()
                process.wait(10)
        after = time.monotonic() - reached
    finally:
        log.close()
    counts: dict[str, int] = {}
    for flow in state.pending().values():
        counts[flow] = counts.get(flow, 0) + 1
    return KillOutcome(target, killed, after, counts, None if killed else process.returncode)


def _where(process: subprocess.Popen[Any], log: str) -> str:
    """A stuck run's threads, as faulthandler writes them on SIGABRT (the log's last lines)."""
    process.send_signal(signal.SIGABRT)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        pass
    return "\n".join(Path(log).read_text(errors="replace").splitlines()[-60:])


def _await_point(process: subprocess.Popen[Any], state: StateFile, connection: str, target: str,
                 since: float, before: Mapping[str, str], timeout: float) -> None:
    """Poll the state file until the run reaches ``target``, ends, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if target == STARTED and state.locked(connection):
            return
        if target != STARTED and state.wrote(target, since, before):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the sync run did not reach {target!r} in {timeout} s")
        time.sleep(0.02)


def run_sync(config: Path, connection: str, *, timeout: float = 120.0) -> dict[str, Any]:
    """One whole ``tramo sync --json`` run; its report (exit 0 or 1: something held)."""
    done = subprocess.run(_tramo("sync", "--config", str(config), connection, "--json"),
                          capture_output=True, text=True, timeout=timeout, env=_environment(),
                          cwd=config.parent, check=False)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"tramo sync ended with {done.returncode}: {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout)
    return report
