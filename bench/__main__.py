"""Run the benchmarks: ``python -m bench [--smoke | --quick]``.

Prints one JSON object per line (name, value, unit, baseline or bound,
ratio, target, ok). Exits non-zero when a target is missed, except in
``--smoke`` mode, which runs each benchmark once at a tiny size and fails only
on a crash (that is what CI runs: shared machines are too noisy to judge).
"""

from __future__ import annotations

import argparse
import json
import sys

from bench import (
    dispatch,
    ideris,
    memory,
    shopify,
    shopify_orders,
    sync_catalogue,
    tray_ftp_orders,
    tray_orders,
    tray_soap_orders,
    wire_conversion,
)

BENCHMARKS = (dispatch.run, wire_conversion.run, tray_orders.run, tray_soap_orders.run,
              tray_ftp_orders.run,
              ideris.run, shopify_orders.run, shopify.run, sync_catalogue.run,
              memory.run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--smoke", action="store_true", help="tiny sizes; fail only on a crash")
    size.add_argument("--quick", action="store_true", help="small sizes; judge every target")
    args = parser.parse_args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    missed = 0
    for benchmark in BENCHMARKS:
        for line in benchmark(mode):
            print(json.dumps(line), flush=True)
            missed += not line["ok"]
    if mode == "smoke":
        print(f"bench: smoke run finished, {missed} target(s) missed (not judged in smoke mode)")
        return 0
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
