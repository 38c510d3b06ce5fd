"""Every hook is documented for plugin authors; the README carries the quickstart."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import tramo
from tramo import hookspecs
from tramo.capabilities import CAPABILITIES, PLUMBING

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "plugin-guide.md").read_text("utf-8")
HEADINGS = set(re.findall(r"^### (\w+\(.*\))$", GUIDE, flags=re.MULTILINE))


def specs() -> dict[str, object]:
    return {name: fn for name, fn in vars(hookspecs).items()
            if callable(fn) and hasattr(fn, "tramo_spec")}


def test_every_hook_spec_has_a_heading_with_its_exact_signature() -> None:
    missing = []
    for name, fn in specs().items():
        heading = f"{name}({', '.join(inspect.signature(fn).parameters)})"  # type: ignore[arg-type]
        if heading not in HEADINGS:
            missing.append(heading)
    assert not missing, f"undocumented hooks in docs/plugin-guide.md: {missing}"


def test_the_guide_documents_no_hook_that_does_not_exist() -> None:
    documented = {h.split("(")[0] for h in HEADINGS}
    assert documented == set(specs())


def test_every_hook_spec_has_a_docstring_saying_whether_it_is_idempotent() -> None:
    for name, fn in specs().items():
        doc = inspect.getdoc(fn) or ""
        assert "Idempotent" in doc, name


def test_the_capability_table_covers_every_hook_spec() -> None:
    assert set(CAPABILITIES) | PLUMBING == set(specs())


def test_the_capability_table_names_each_hook_s_payload_argument() -> None:
    for name, spec in CAPABILITIES.items():
        parameters = list(inspect.signature(specs()[name]).parameters)  # type: ignore[arg-type]
        assert parameters[0] == "connection"
        if spec.payload is not None:
            assert spec.payload in parameters, name


def test_the_public_api_is_what_tramo_exports() -> None:
    for name in tramo.__all__:
        assert hasattr(tramo, name), name
    assert (ROOT / "core" / "py.typed").exists()


def test_the_readme_quickstart_has_the_main_and_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "python3 run.py tramo demo" in readme
    assert "python3 run.py test" in readme
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "run.py test" in ci


def test_each_write_names_a_local_id_its_items_really_have() -> None:
    import attrs

    from tramo.capabilities import Kind

    for name, spec in CAPABILITIES.items():
        if spec.kind is not Kind.WRITE or spec.item is str:
            continue
        assert spec.local_id in attrs.fields_dict(spec.item), name  # type: ignore[arg-type]
