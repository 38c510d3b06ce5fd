"""Memory: N orders streamed through ``receive_orders`` into the state store, RSS growth under 50 MB.

The sandbox runs in a process of its own (``python -m tramo sandbox NAME``,
seeded there), so only the sync's memory is measured: the plugin's reads and
conversions, the engine's orders flow, the ledger in the state store and the
reference ERP saving every order. The sync reads the ``tramo.toml`` the
sandbox process writes and runs ``Tramo.sync(name, ["orders"])`` once, in a
fresh interpreter (memory another benchmark freed would be reused and hide
growth).

Resident memory (``VmRSS``) is sampled every few milliseconds by a thread.
The baseline is taken after the warm-up: connected, the first page read and
its first 100 orders saved (imports, connection pools and the first
allocations are in place); the figure is the peak afterwards less that
baseline. Every order must then be in the ERP's file, once.

The growth over the run's second half is shown apart: a reader that streams
grows little there, one that keeps what it read grows on. It is not carried
on to 100,000 orders: at 10,000 a step of the allocator (1 to 3 MB between
runs) would swing such a projection by 50 MB.

The SQLite files go to ``/dev/shm`` when it exists: each order commits a few
transactions, and on a disk every commit waits for an fsync, which would set
the run's length and says nothing about memory; tmpfs pages are not the process's
resident memory.

Plugins (seeding speed decides):

- Ideris, an HTTP API read page by page (concurrently, a window of pages
  ahead): its sandbox seeds 10,000 orders in about a second but filters and
  sorts every order for each list page, so reading N orders costs it
  O(N^2): 100,000 took 14 minutes (growth 26.9 MB,
  measured once with ``python -m bench.memory ideris 100000``). Quick and
  full run it at 10,000 and 20,000.
- Tray FTP, files: its sandbox seeds 100,000 orders (25,000 files) in a
  minute and a read lists a folder; it carries the full size (the run's
  length is in ``bench/README.md``).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tramo.config import load_config
from tramo.erp.reference import ReferenceErp
from tramo.model import Order
from tramo.registry import discover
from tramo.sync import Tramo

TARGET_MB = 50.0
FULL_ORDERS = 100_000  # the size
WARM_ORDERS = 100  # the baseline is taken once this many orders are in the ERP
SAMPLE_SECONDS = 0.005
READY_SECONDS = 900.0  # seeding 100,000 orders takes about a minute on a quiet machine
RUN_SECONDS = 3600.0

#: orders per plugin and mode
SIZES: dict[str, dict[str, int]] = {
    "ideris": {"smoke": 500, "quick": 10_000, "full": 20_000},
    "tray_ftp": {"smoke": 500, "quick": 2_500, "full": FULL_ORDERS},
}


def resident_mb() -> float:
    """This process's resident memory now (Linux ``/proc``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class PeakSampler:
    """The highest resident memory seen by a background thread between start and stop."""

    def __init__(self, every: float = SAMPLE_SECONDS) -> None:
        self.every = every
        self.peak = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, resident_mb())
            self.samples += 1
            self._stop.wait(self.every)

    def start(self) -> PeakSampler:
        self.peak = resident_mb()
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, resident_mb())
        return self.peak


class WatchedErp(ReferenceErp):
    """The reference ERP, counting the orders it saves: the warm-up's end starts the sampler,
    the run's half notes the peak so far."""

    def __init__(self, path: Path, warm: int, half: int) -> None:
        super().__init__(path)
        self.saved = 0
        self.warm, self.half = warm, half
        self.baseline: float | None = None
        self.half_peak: float | None = None
        self.sampler: PeakSampler | None = None

    def save_order(self, order: Order, *, customer_id: str, key: str) -> str:
        ident = super().save_order(order, customer_id=customer_id, key=key)
        self.saved += 1
        if self.saved == self.warm:
            self.baseline = resident_mb()
            self.sampler = PeakSampler().start()
        if self.saved == self.half and self.sampler is not None:
            self.half_peak = max(self.sampler.peak, resident_mb())
        return ident


def _scratch() -> str | None:
    """Where the SQLite files go: memory-backed when the machine has it (see the docstring)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


@contextlib.contextmanager
def sandbox_process(plugin: str, orders: int, folder: Path) -> Iterator[Path]:
    """``tramo sandbox`` seeded with ``orders`` in its own process; yields its ``tramo.toml``."""
    config, said = folder / "tramo.toml", folder / "sandbox.stderr"
    with said.open("w") as errors:  # a file, not a pipe: nobody reads it while the sync runs
        process = subprocess.Popen(
            [sys.executable, "-m", "tramo", "sandbox", plugin, "--orders", str(orders),
             "--products", "20", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=errors, text=True, env={**os.environ, "NO_COLOR": "1"})
    try:
        _wait_ready(process, plugin, said)
        yield config
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[str], plugin: str, said: Path) -> None:
    """Block until the sandbox prints its settings line (it is seeded and serving)."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(READY_SECONDS):
            raise RuntimeError(f"the {plugin} sandbox was not ready in {READY_SECONDS:.0f} s")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"the {plugin} sandbox process stopped: {said.read_text().strip()[-2000:]}")
    json.loads(line)  # the announcement: anything else is a failure to start


def _orders_in(erp_file: Path) -> tuple[int, int]:
    """(orders, distinct origin keys) in the reference ERP's file, read apart from the engine."""
    with contextlib.closing(sqlite3.connect(f"file:{erp_file}?mode=ro", uri=True)) as db:
        count, distinct = db.execute("SELECT count(*), count(DISTINCT origin_key) FROM orders").fetchone()
    return int(count), int(distinct)


def stream(plugin: str, orders: int) -> dict[str, Any]:
    """One sync of ``orders`` orders from the sandbox process; the peak RSS growth after warm-up."""
    with tempfile.TemporaryDirectory(prefix="tramo-bench-memory-", dir=_scratch()) as scratch:
        folder = Path(scratch)
        launched = time.perf_counter()
        with sandbox_process(plugin, orders, folder) as config_file:
            ready = time.perf_counter() - launched
            config = load_config(config_file)
            cold = resident_mb()
            warm = min(WARM_ORDERS, orders)
            erp = WatchedErp(config.erp, warm, max(warm, orders // 2))
            with Tramo.from_config(config, erp, registry=discover(allow=[plugin])) as engine:
                started = time.perf_counter()
                report = engine.sync(plugin, ["orders"])
                took = time.perf_counter() - started
                if erp.sampler is None or erp.baseline is None or erp.half_peak is None:
                    raise RuntimeError(f"only {erp.saved} orders reached the ERP; no baseline taken")
                peak = erp.sampler.stop()
                samples = erp.sampler.samples
        count, distinct = _orders_in(config.erp)
    growth = peak - erp.baseline
    totals = report.totals()
    return {
        "name": f"memory.orders_stream.{plugin}", "value": round(growth, 1), "unit": "MB",
        "baseline": f"RSS {erp.baseline:.1f} MB after {erp.warm} orders ({cold:.1f} MB before connecting)",
        "ratio": round(growth / TARGET_MB, 3), "target": f"< {TARGET_MB:g} MB growth",
        "orders": orders, "in_erp": count, "distinct_in_erp": distinct,
        "received": totals["received"], "held": totals["held"], "failed": totals["failed"],
        "peak_mb": round(peak, 1), "growth_from_cold_mb": round(peak - cold, 1),
        "second_half_growth_mb": round(peak - erp.half_peak, 1),
        "samples": samples, "sync_s": round(took, 1), "sandbox_ready_s": round(ready, 1),
        "ok": (growth < TARGET_MB and count == distinct == orders
               and totals["received"] == orders and not report.troubled),
    }


def measured_apart(plugin: str, orders: int) -> dict[str, Any]:
    """:func:`stream` in a fresh interpreter: memory this process freed (other benchmarks,
    the other plugin's run) would otherwise be reused and hide growth."""
    done = subprocess.run([sys.executable, "-m", "bench.memory", plugin, str(orders)],
                          capture_output=True, text=True, check=False, timeout=RUN_SECONDS,
                          cwd=Path(__file__).resolve().parent.parent,
                          env={**os.environ, "NO_COLOR": "1"})
    if done.returncode != 0:
        raise RuntimeError(f"the memory run for {plugin} failed: {done.stderr.strip()[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(mode: str) -> Iterator[dict[str, Any]]:
    for plugin, sizes in SIZES.items():
        yield measured_apart(plugin, sizes[mode])


if __name__ == "__main__":
    print(json.dumps(stream(sys.argv[1], int(sys.argv[2]))), flush=True)
