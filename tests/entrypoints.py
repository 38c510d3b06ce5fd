"""Real entry points for tests, without pip: a ``*.dist-info`` folder on ``sys.path``.

This is the same metadata pip writes when it installs a distribution, so
discovery runs exactly as it does for an installed plugin, in milliseconds.
"""

from __future__ import annotations

import itertools
import sys
import textwrap
from pathlib import Path

import pytest

_counter = itertools.count()


class FakeDistributions:
    """Makes distributions with ``tramo.plugins`` entry points inside one folder."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self._monkeypatch = monkeypatch
        self.modules: list[str] = []
        monkeypatch.syspath_prepend(str(root))

    def plugin(self, entry_name: str, source: str, *, module: str | None = None,
               distribution: str | None = None) -> str:
        """Write ``source`` as a module and register it as plugin ``entry_name``."""
        number = next(_counter)
        module = module or f"fake_tramo_plugin_{number}"
        (self.root / f"{module}.py").write_text(textwrap.dedent(source), "utf-8")
        dist = distribution or f"fake-plugin-{number}"
        info = self.root / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", "utf-8")
        (info / "entry_points.txt").write_text(
            f"[tramo.plugins]\n{entry_name} = {module}\n", "utf-8")
        self.modules.append(module)
        return module

    def cleanup(self) -> None:
        for module in self.modules:
            sys.modules.pop(module, None)


INFO = """
import tramo

@tramo.hookimpl
def plugin_info():
    return tramo.PluginInfo(name={name!r}, platform={platform!r}, modality={modality!r})
"""


def info_source(name: str, platform: str = "testplatform", modality: str = "rest") -> str:
    """A minimal plugin module declaring itself."""
    return INFO.format(name=name, platform=platform, modality=modality)
