"""The sync engine's catalogue deltas, per plugin: N products sent, again unchanged, then 1% changed.

``sync.catalogue.<plugin>.*`` runs the engine's ``products`` flow
(:class:`tramo.sync.Tramo` over a :class:`~tramo.erp.reference.ReferenceErp`)
against each plugin's sandbox on loopback, with no latency: this measures
what the engine decides to write, not the platform's speed. A write call is
one the sandbox itself calls a write (:meth:`tramo.sandbox.Sandbox.is_write`:
REST's non-GETs but the token exchange, SOAP's operations answering a
``Retorno``, GraphQL's mutations, a file server's uploads, renames and
removals), counted from what reached it.

- ``first``: N products without variants. The baseline is the writes that
  *landed* (accepted: HTTP 2xx, SFTP OK); the calls a sandbox's rate limit
  refused (429) are retried by the plugin and reported apart as ``refused``,
  since how many there are depends on the machine's pace, not on the engine.
  Every product must then be held by the platform (its own record).
- ``unchanged``: the same catalogue again; target zero write calls of any
  kind (refused ones included). The time the engine spends deciding so
  (digests of N products against the ledger) is reported against the first run's.
- ``changed_1pct``: 1% of the products renamed; target: landed writes within
  1% + 1 of ``changed x`` the first run's writes a product, and the platform
  holding the new names.

Tray FTP writes files, not records: the engine hands the plugin 50 products a
call (its ``chunk``) and the plugin uploads each call's changed products as one
file, so its unit is the upload (opening a file to write: SFTP ``open`` "w",
FTP ``STOR``); the writes that fill the file and the rename that publishes
it are parts of that one upload. N products are ``ceil(N/50)`` uploads, a
product 1/50 of one, and 1% changed (at most 50 at the full size) is one
upload, within the bound ``changed x 1/50 x 1.01 + 1`` at every size.

Sandboxes keep their platform's limits, except where the volume would make
the limit, not the engine, the subject. Daily quotas go: Tray's 10,000 calls a
day would end the full first run (5,000 products are 10,000 calls, a look-up
by reference then the creation, plus the retried 429s; a real store takes
such a catalogue over two days). Ideris admits ten times its calls a minute
(a product is a look-up, a creation and its protocol's follow-up), and
Shopify's cost bucket restores fast enough never to decide (the bucket is
``bench/shopify.py``'s subject).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import attrs

from tramo.budget import Window
from tramo.erp.reference import ReferenceErp
from tramo.http import HttpOptions
from tramo.model import Product
from tramo.registry import Registry, discover
from tramo.sandbox import Call, Fault, Sandbox
from tramo.sync import Tramo

SIZES = {"smoke": 20, "quick": 500, "full": 5000}
PLUGINS = ("tray_rest", "tray_soap", "tray_ftp", "ideris", "shopify")
#: the share of the catalogue changed in the last phase, and the bound's slack on it
SHARE = 0.01
DAY = 86_400
#: the calls that open one file upload, per file-server protocol
UPLOADS = frozenset({"open", "STOR", "STOU", "APPE"})


@attrs.frozen
class Phase:
    """One sync of the catalogue as the sandbox saw it."""

    seconds: float
    landed: int     # write calls (uploads for files) the platform accepted
    attempted: int  # write calls of any kind and fate
    refused: int    # calls of any kind refused by the rate limit
    calls: int


def _products(count: int) -> list[Product]:
    return [Product(code=f"B-{i:05d}", name=f"Produto de bancada {i}", price=Decimal("19.90"),
                    weight_kg=Decimal("0.250")) for i in range(count)]


def _landed(call: Call) -> bool:
    """Accepted: an HTTP 2xx, an FTP 1xx/2xx (the upload's first reply), SFTP OK (0)."""
    return call.fault is None and call.status is not None and (
        call.status == 0 or 100 <= call.status < 300)


def _refused(call: Call) -> bool:
    return call.status == 429 or call.fault is Fault.RATE_LIMITED


def _unit(plugin: str) -> tuple[str, Callable[[Call], bool]]:
    """What a write is counted as: a file upload for Tray FTP, else each write call."""
    if plugin == "tray_ftp":
        return "uploads", lambda call: call.method in UPLOADS
    return "write calls", lambda call: True


def _for_volume(plugin: str, sandbox: Sandbox) -> None:
    """Let the sandbox take the volume at the engine's pace (see the module's docstring)."""
    sandbox.configure(rate_limits=tuple(w for w in sandbox.knobs.rate_limits if w.seconds < DAY))
    if plugin == "ideris":
        sandbox.configure(rate_limits=(Window(1200, 60),))
    elif plugin == "shopify":
        sandbox.configure_bucket(restore_rate=1_000_000)  # type: ignore[attr-defined]


def _sync(engine: Tramo, sandbox: Sandbox, counts: Callable[[Call], bool]) -> Phase:
    since = time.monotonic()  # the calls' own clock: what was recorded from now on
    started = time.perf_counter()
    report = engine.sync("bench", ["products"])
    seconds = time.perf_counter() - started
    if report.troubled:
        trouble = [(f.status, f.reason, (f.failed + f.held)[:3]) for f in report.flows]
        raise RuntimeError(f"the bench catalogue was not taken: {report.totals()}; {trouble}")
    sandbox.settle(timeout=5.0)
    calls = [c for c in list(sandbox.calls) if c.at >= since]
    writes = [c for c in calls if sandbox.is_write(c)]
    return Phase(seconds=seconds, landed=sum(_landed(c) and counts(c) for c in writes),
                 attempted=len(writes), refused=sum(map(_refused, calls)), calls=len(calls))


def _held_names(sandbox: Sandbox, codes: Sequence[str]) -> dict[str, str]:
    wanted = set(codes)
    return {p.code: p.name for p in sandbox.held_products()  # type: ignore[attr-defined]
            if p.code in wanted}


def _start(registry: Registry, plugin: str) -> Sandbox:
    impl = registry.implementation(plugin, "sandbox")
    if impl is None:
        raise RuntimeError(f"plugin {plugin!r} has no sandbox")
    sandbox: Sandbox = impl.function()
    sandbox.start()
    _for_volume(plugin, sandbox)
    return sandbox


def measure(plugin: str, count: int) -> list[dict[str, Any]]:
    """The three phases against one plugin's sandbox; one JSON line each."""
    products = _products(count)
    erp = ReferenceErp()
    for product in products:
        erp.put_product(product)
    registry = discover(allow=[plugin])
    unit, counts = _unit(plugin)
    sandbox = _start(registry, plugin)
    engine = Tramo(erp, registry=registry)
    try:
        engine.connect("bench", plugin, sandbox.settings, mappings=dict(sandbox.profile.mappings),
                       http=HttpOptions(), on_wait=lambda seconds, why: None)
        engine.connection("bench").check()  # tokens and sessions, outside the timing
        first = _sync(engine, sandbox, counts)
        all_held = len(_held_names(sandbox, [p.code for p in products])) == count
        again = _sync(engine, sandbox, counts)
        changed = products[:max(1, round(count * SHARE))]
        renamed = {p.code: p.name + " (novo)" for p in changed}
        for product in changed:
            erp.put_product(attrs.evolve(product, name=renamed[product.code]))
        delta = _sync(engine, sandbox, counts)
        names_held = _held_names(sandbox, list(renamed)) == renamed
    finally:
        engine.close()
        sandbox.stop()
    return _lines(f"sync.catalogue.{plugin}", unit, count, len(changed), first, again, delta,
                  all_held=all_held, names_held=names_held)


def _lines(name: str, unit: str, count: int, changed: int, first: Phase, again: Phase,
           delta: Phase, *, all_held: bool, names_held: bool) -> list[dict[str, Any]]:
    per_product = first.landed / count
    allowed = changed * per_product * (1 + SHARE) + 1
    return [
        {"name": f"{name}.first", "value": first.landed, "unit": unit,
         "baseline": f"{count} products", "ratio": round(per_product, 3),
         "target": "recorded; every product held by the platform",
         "refused": first.refused, "calls": first.calls, "seconds": round(first.seconds, 3),
         "ok": all_held and first.landed > 0},
        {"name": f"{name}.unchanged", "value": again.attempted, "unit": "write calls",
         "baseline": f"first run {first.landed} {unit} in {first.seconds:.3f} s",
         "ratio": round(again.seconds / first.seconds, 3) if first.seconds else None,
         "target": "0 write calls", "calls": again.calls, "seconds": round(again.seconds, 3),
         "ok": again.attempted == 0},
        {"name": f"{name}.changed_1pct", "value": delta.landed, "unit": unit,
         "bound": round(allowed, 2), "ratio": round(delta.landed / allowed, 3),
         "target": "<= 1% + 1 over the changed count x the first run's per product; new names held",
         "changed": changed, "refused": delta.refused, "calls": delta.calls,
         "seconds": round(delta.seconds, 3), "ok": delta.landed <= allowed and names_held},
    ]


def run(mode: str) -> Iterator[dict[str, Any]]:
    for plugin in PLUGINS:
        yield from measure(plugin, SIZES[mode])
