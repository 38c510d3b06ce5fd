"""The Tray FTP file layout, version 1: tramo's model to XML files and back (pure: no network).

Every file is one XML document: a root element named for what it holds
(``products``, ``status_updates``, ``invoices``, ``orders``, ``lists``) with
``version="1"`` and ``count`` (its number of records), and one child element
per record. A record's elements are the model's fields by their names; a list
is an element holding one ``<item>`` per entry; an absent element is an
absent value. The README's "File layout" is the specification, printed from
:data:`KINDS` by ``python -m tramo_tray_ftp.wire``.

XML rather than CSV: records nest (an order's customer, addresses, items and
payments would take five CSV files joined by keys); a file declares its own
encoding and carries any character as a reference; parsers stream it and
know each element's line for an error report; and the ERPs on the other side
already read and write NF-e, which is XML.

Reading is safe with hostile files: no DTD (refused), no entity expansion, no
network, no huge-tree mode, and records are cleared as they are read, so a
large file streams.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
from lxml import etree

import tramo
from tramo.model.convert import from_dict, to_dict

__all__ = ["ENCODINGS", "KINDS", "LISTS", "VERSION", "FileProblem", "Kind", "Parsed", "Problem",
           "file_name", "file_chunks", "layout", "lists_chunks", "parse", "read_lists"]

#: the layout version this module writes and reads
VERSION = "1"
#: the encodings files are written in (any that XML declares is read)
ENCODINGS = ("UTF-8", "ISO-8859-1")
#: the most problems one file's report lists (a file with more is wrong throughout)
MAX_PROBLEMS = 100
#: the look-up tables in the store's lists file, each a list of ``<option>``
LISTS = ("order_statuses", "shipping_methods", "payment_methods", "sales_channels")


@attrs.frozen
class Kind:
    """One kind of file: its root element, its record element, the model class, what is left out.

    :param key: the field that names a record (in a problem, and for the plugin's ledger).
    :param omit: fields of the model not in the layout, as dotted paths from
        the record (``variants.remote_id``): tramo's own bookkeeping, or values
        the other side does not have (an order's ERP-side status).
    :param required: fields the layout requires beyond the model's own.
    :param prefix: the name of files of this kind (``produtos-...xml``).
    """

    root: str
    record: str
    model: type
    key: str
    prefix: str
    omit: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()


KINDS: Mapping[str, Kind] = {
    "products": Kind("products", "product", tramo.Product, "code", "produtos",
                     omit=frozenset({"remote_id", "updated_at", "brand.remote_id",
                                     "variants.remote_id"})),
    "status_updates": Kind("status_updates", "status_update", tramo.StatusUpdate, "order_id",
                           "situacoes",
                           required=frozenset({"platform_status"})),
    "invoices": Kind("invoices", "invoice", tramo.Invoice, "access_key", "notas"),
    "orders": Kind("orders", "order", tramo.Order, "id", "pedidos",
                   omit=frozenset({"status", "edits", "invoices", "trackings",
                                   "customer.remote_id", "shipping.method", "payments.method",
                                   "sales_channel.channel"}),
                   required=frozenset({"items"})),
}


# -- problems ------------------------------------------------------------------------


@attrs.frozen
class Problem:
    """What is wrong with a file or one of its records, for the report beside it."""

    reason: str
    line: int | None = None
    record: str | None = None
    field: str | None = None
    value: Any = None

    def __str__(self) -> str:
        where = [f"line {self.line}" if self.line else "file"]
        if self.record:
            where.append(f"record {self.record!r}")
        if self.field:
            where.append(f"field {self.field}")
        got = f" (got {self.value!r})" if self.value is not None else ""
        return f"{', '.join(where)}: {self.reason}{got}"


class FileProblem(tramo.PlatformError):
    """The file as a whole cannot be read (not XML, a DTD, another kind or version, truncated)."""

    def __init__(self, problem: Problem, file: str | None = None) -> None:
        super().__init__(f"file {file}: {problem}" if file else str(problem), code="bad_file")
        self.problem = problem
        self.file = file


@attrs.frozen
class Parsed:
    """One record of a file: the model object, or the problem that keeps it out."""

    line: int
    key: str | None
    record: Any = None
    problem: Problem | None = None


# -- writing -------------------------------------------------------------------------


def file_name(kind: Kind, now: datetime, token: str) -> str:
    """``<prefix>-<UTC time to the microsecond>-<token>.xml``: unique, and sorted by time."""
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{kind.prefix}-{stamp}-{token}.xml"


def _allowed(text: str) -> bool:
    return all(c in "\t\n\r" or "\x20" <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd"
               or c >= "\U00010000" for c in text)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pruned(data: Any, omit: frozenset[str], path: str = "") -> Any:
    if isinstance(data, dict):
        return {k: _pruned(v, omit, f"{path}{k}.") for k, v in data.items()
                if f"{path}{k}" not in omit and v is not None}
    if isinstance(data, list):
        return [_pruned(v, omit, path) for v in data]
    return data


def _element(name: str, data: Any, where: str) -> etree._Element:
    element = etree.Element(name)
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, list) and not value:
                continue
            element.append(_element(key, value, f"{where}.{key}"))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            element.append(_element("item", value, f"{where}[{index}]"))
    else:
        text = _scalar(data)
        if not _allowed(text):
            bad = next(c for c in text if not _allowed(c))
            raise tramo.ValidationError(where, data, f"has a character XML 1.0 cannot carry "
                                                     f"(U+{ord(bad):04X})")
        element.text = text
    return element


def record_element(kind: Kind, record: Any) -> etree._Element:
    """A record as its XML element; ValidationError when the layout cannot carry it."""
    data = _pruned(to_dict(record), kind.omit)
    for field in kind.required:
        if data.get(field) in (None, ""):
            raise tramo.ValidationError(f"{kind.model.__name__}.{field}", None,
                                        "is required in the file layout")
    return _element(kind.record, data, kind.model.__name__)


def file_chunks(kind: Kind, elements: list[etree._Element],
                encoding: str = "UTF-8") -> Iterator[bytes]:
    """A whole file of ``elements`` (from :func:`record_element`), as chunks to upload."""
    if encoding not in ENCODINGS:
        raise tramo.ConfigurationError(f"file encoding {encoding!r} is not one of "
                                       f"{', '.join(ENCODINGS)}")
    yield (f'<?xml version="1.0" encoding="{encoding}"?>\n'
           f'<{kind.root} version="{VERSION}" count="{len(elements)}">\n').encode("ascii")
    for element in elements:
        yield etree.tostring(element, encoding=encoding, xml_declaration=False, pretty_print=True)
    yield f"</{kind.root}>\n".encode("ascii")


def lists_chunks(options: Mapping[str, Iterable[tramo.PlatformOption]],
                 encoding: str = "UTF-8") -> Iterator[bytes]:
    """The store's lists file (the store's side writes it; the sandbox does)."""
    root = etree.Element("lists", version=VERSION)
    for name in LISTS:
        table = etree.SubElement(root, name)
        for option in options.get(name, ()):
            table.append(_element("option", to_dict(option), f"lists.{name}"))
    yield etree.tostring(root, encoding=encoding, xml_declaration=True, pretty_print=True)


# -- reading -------------------------------------------------------------------------


def _iterparse(path: Path) -> Any:
    return etree.iterparse(str(path), events=("start", "end"), resolve_entities=False,
                           no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True)


def _root(kind_root: str, element: etree._Element) -> None:
    """Refuse a DTD, another kind of file and another version, before any record."""
    if element.getroottree().docinfo.doctype:
        raise FileProblem(Problem("a DOCTYPE is not allowed (no DTDs or entities in exchanged "
                                  "files)", line=1))
    if element.tag != kind_root:
        raise FileProblem(Problem(f"the root element is <{element.tag}>, not <{kind_root}>",
                                  line=element.sourceline))
    version = element.get("version")
    if version != VERSION:
        raise FileProblem(Problem(f"layout version {version!r} is not {VERSION!r}, the version "
                                  f"this plugin reads", line=element.sourceline, field="version",
                                  value=version))


def parse(kind: Kind, path: Path) -> Iterator[Parsed]:
    """Each record of the file at ``path``, converted or with its problem, in file order.

    :raises FileProblem: the file as a whole cannot be read; records before the
        failure may already have been yielded (check a file whole before trusting it).
    """
    depth, count, declared, root_tag = 0, 0, None, None
    try:
        for event, element in _iterparse(path):
            if event == "start":
                depth += 1
                if depth == 1:
                    _root(kind.root, element)
                    root_tag, declared = element.tag, element.get("count")
                continue
            depth -= 1
            if depth != 1:
                continue
            count += 1
            yield _record(kind, element)
            element.clear(keep_tail=True)
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        raise FileProblem(Problem(f"not well-formed XML: {exc.msg}", line=exc.lineno or None)) from None
    if root_tag is None:
        raise FileProblem(Problem("the file has no root element"))
    if declared is None or not declared.isdigit() or int(declared) != count:
        raise FileProblem(Problem(f"the root says count={declared!r} but the file holds {count} "
                                  f"records (a file cut short, or a count left out)",
                                  field="count", value=declared))


def _record(kind: Kind, element: etree._Element) -> Parsed:
    line = element.sourceline or 0
    key_element = element.find(kind.key)
    key = (key_element.text or "") if key_element is not None else None
    if element.tag != kind.record:
        return Parsed(line, key, problem=Problem(f"<{element.tag}> is not a <{kind.record}>",
                                                 line=line, record=key))
    lines: dict[str, int] = {}
    try:
        data = _data(kind.model, element, "", kind.omit, lines)
    except _Unexpected as exc:
        return Parsed(line, key, problem=Problem(exc.reason, line=exc.line, record=key,
                                                 field=exc.field))
    missing = [f for f in sorted(kind.required) if data.get(f) in (None, "")]
    if missing:
        return Parsed(line, key, problem=Problem("is required", line=line, record=key,
                                                 field=missing[0]))
    try:
        record = from_dict(kind.model, data)
    except tramo.ValidationError as exc:
        field = exc.field.split(".", 1)[1] if "." in exc.field else ""
        return Parsed(line, key, problem=Problem(exc.reason, line=_line_of(field, lines, line),
                                                 record=key, field=field or None, value=exc.value))
    return Parsed(line, str(getattr(record, kind.key)), record=record)


def _line_of(field: str, lines: Mapping[str, int], default: int) -> int:
    """The line of ``field`` (``customer.cpf``, ``items[1].sku``), or of its nearest parent."""
    while field:
        if field in lines:
            return lines[field]
        cut = max(field.rfind("."), field.rfind("["))
        field = field[:cut] if cut > 0 else ""
    return default


class _Unexpected(Exception):
    def __init__(self, reason: str, line: int | None, field: str) -> None:
        super().__init__(reason)
        self.reason, self.line, self.field = reason, line, field


@functools.cache
def _hints(model: type) -> dict[str, Any]:
    return typing.get_type_hints(model)


def _unwrap(hint: Any) -> Any:
    """``X | None`` -> ``X``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def _data(model: type, element: etree._Element, path: str, omit: frozenset[str],
          lines: dict[str, int], skip: str = "") -> dict[str, Any]:
    """A record element as the plain data the model's converter takes, guided by the model's types."""
    hints = _hints(model)
    data: dict[str, Any] = {}
    for child in element:
        name = str(child.tag)
        dotted = f"{path}{name}"
        if name not in hints or f"{skip}{name}" in omit:
            raise _Unexpected(f"<{name}> is not an element of {element.tag}", child.sourceline,
                              dotted)
        if name in data:
            raise _Unexpected(f"<{name}> appears twice", child.sourceline, dotted)
        lines[dotted] = child.sourceline or 0
        data[name] = _value(_unwrap(hints[name]), child, dotted, f"{skip}{name}.", omit, lines)
    return data


def _value(hint: Any, element: etree._Element, path: str, skip: str, omit: frozenset[str],
           lines: dict[str, int]) -> Any:
    if typing.get_origin(hint) is tuple:
        inner = _unwrap(typing.get_args(hint)[0])
        values = []
        for index, child in enumerate(element):
            where = f"{path}[{index}]"
            if child.tag != "item":
                raise _Unexpected(f"a list holds <item> elements, not <{child.tag}>",
                                  child.sourceline, where)
            lines[where] = child.sourceline or 0
            values.append(_value(inner, child, where, skip, omit, lines))
        return values
    if attrs.has(hint):
        return _data(hint, element, f"{path}.", omit, lines, skip)
    if len(element):
        raise _Unexpected(f"<{element.tag}> holds a value, not elements", element.sourceline, path)
    text = element.text or ""
    if hint is bool:
        return {"true": True, "false": False}.get(text, text)
    return text


# -- the store's lists ---------------------------------------------------------------


def read_lists(source: Path | bytes) -> dict[str, list[tramo.PlatformOption]]:
    """The store's lists file (a path, or its bytes): each table's options.

    :raises FileProblem: anything amiss, with its line.
    """
    tables: dict[str, list[tramo.PlatformOption]] = {name: [] for name in LISTS}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        tree = (etree.ElementTree(etree.fromstring(source, parser)) if isinstance(source, bytes)
                else etree.parse(str(source), parser))
    except etree.XMLSyntaxError as exc:
        raise FileProblem(Problem(f"not well-formed XML: {exc.msg}", line=exc.lineno or None)) from None
    root = tree.getroot()
    _root("lists", root)
    for table in root:
        if table.tag not in tables:
            raise FileProblem(Problem(f"<{table.tag}> is not one of the lists "
                                      f"({', '.join(LISTS)})", line=table.sourceline))
        for option in table:
            lines: dict[str, int] = {}
            try:
                data = _data(tramo.PlatformOption, option, "", frozenset(), lines)
                tables[table.tag].append(from_dict(tramo.PlatformOption, data))
            except _Unexpected as exc:
                raise FileProblem(Problem(exc.reason, line=exc.line, field=exc.field)) from None
            except tramo.ValidationError as exc:
                raise FileProblem(Problem(exc.reason, line=option.sourceline, field=exc.field,
                                          value=exc.value)) from None
    return tables


# -- the specification, printed --------------------------------------------------------


def _type_name(hint: Any) -> str:
    hint = _unwrap(hint)
    if typing.get_origin(hint) is tuple:
        inner = _unwrap(typing.get_args(hint)[0])
        return f"list of `<item>` ({_type_name(inner)})"
    if attrs.has(hint):
        return "element (fields below)"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "one of " + ", ".join(f"`{m.value}`" for m in hint)
    return {str: "text", Decimal: "decimal, dot separator (`12.50`)", int: "whole number",
            bool: "`true` or `false`", datetime: "ISO 8601 date-time with offset",
            date: "ISO 8601 date (`1990-05-17`)"}.get(hint, str(hint))


def layout(kind: Kind) -> list[tuple[str, str, bool]]:
    """(element path, type, required) for every element of a record of ``kind``."""
    rows: list[tuple[str, str, bool]] = []

    def walk(model: type, path: str, skip: str) -> None:
        hints = _hints(model)
        for field in attrs.fields(model):
            if f"{skip}{field.name}" in kind.omit:
                continue
            hint = _unwrap(hints[field.name])
            required = field.default is attrs.NOTHING or (not skip and field.name in kind.required)
            rows.append((f"{path}{field.name}", _type_name(hint), required))
            inner = _unwrap(typing.get_args(hint)[0]) if typing.get_origin(hint) is tuple else hint
            if attrs.has(inner):
                walk(inner, f"{path}{field.name}/" + ("item/" if inner is not hint else ""),
                     f"{skip}{field.name}.")

    walk(kind.model, "", "")
    return rows


def markdown() -> str:
    """The README's tables of every kind's elements."""
    return _markdown()


def _markdown() -> str:
    parts = []
    for kind in KINDS.values():
        parts.append(f"#### `<{kind.root}>`: `<{kind.record}>` records\n\n"
                     "| element | type | required |\n|---|---|---|\n")
        parts.append("".join(f"| `{path}` | {kind_} | {'yes' if required else ''} |\n"
                             for path, kind_, required in layout(kind)))
        parts.append("\n")
    return "".join(parts)


if __name__ == "__main__":  # pragma: no cover - prints the README's tables
    print(_markdown(), end="")
