#!/usr/bin/env python3
"""Set up and run tramo on a fresh machine with nothing but Python 3.11+.

    python3 run.py tramo demo       # the main job (any tramo command works)
    python3 run.py test             # unit tests, conformance, benchmarks (smoke)

It creates ./.venv when missing, installs tramo with its test extra
(again only when pyproject.toml changed), then runs the command inside it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".tramo-installed"


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"tramo needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("run.py: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    print("run.py: installing tramo and its test extra into .venv", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip", "setuptools"], check=True)
    subprocess.run([*pip, "--editable", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if argv else 2
    ensure_environment()
    os.chdir(ROOT)
    if argv[0] == "test":
        # Benchmarks first, so the test runner's summary is the closing line.
        bench = subprocess.run([str(PYTHON), "-m", "bench", "--smoke"])
        tests = subprocess.run([str(PYTHON), "-m", "pytest", *argv[1:]])
        return tests.returncode or bench.returncode
    if argv[0] == "tramo":
        return subprocess.run([str(PYTHON), "-m", "tramo", *argv[1:]]).returncode
    return subprocess.run([str(PYTHON), "-m", *argv]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
