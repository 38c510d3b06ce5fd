"""One remote-folder API over real SFTP, FTPS and FTP servers: atomic uploads, streams, moves, names."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import tracemalloc
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import paramiko
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tramo.errors import PlatformError, TransientError
from tramo.ftp import FtpSession, open_ftp_from_settings
from tramo.remote import NAME_BYTES, RemoteFolder, check_name, remote_folder, safe_name
from tramo.sandbox import Fault, FtpSandbox, Sandbox, SftpSandbox
from tramo.sftp import SftpSession, open_sftp_from_settings

TIMEOUT = 15.0  # a bound for a loaded machine, never waited out: no test hangs the server
#: "ftp-nlst" is plain FTP on a server without MLSD (NLST, SIZE and MDTM instead)
TRANSPORTS = ["sftp", "ftps", "ftp", "ftp-nlst"]
ODD_NAMES = ["pedido 1.xml", " espaço à frente.xml", "ação nº 2 — pão.xml", "#%&.xml",
             "a;b=c,d+e[1].xml", "日本語.csv"]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Sandbox]]:
    with contextlib.ExitStack() as stack:
        yield {"sftp": stack.enter_context(SftpSandbox()),
               "ftps": stack.enter_context(FtpSandbox("ftps")),
               "ftp": stack.enter_context(FtpSandbox("ftp")),
               "ftp-nlst": stack.enter_context(FtpSandbox("ftp", mlsd=False))}


@attrs.define
class Remote:
    """A test's server, its session and the folder API over it."""

    server: Sandbox
    session: SftpSession | FtpSession
    folder: RemoteFolder

    @property
    def data(self) -> Path:
        return Path(self.server.data)

    def files_on_disk(self) -> list[str]:
        return sorted(str(p.relative_to(self.data)) for p in self.data.rglob("*") if p.is_file())


def connect(server: Sandbox) -> SftpSession | FtpSession:
    if isinstance(server, SftpSandbox):
        return open_sftp_from_settings(server.settings, timeout=TIMEOUT)
    return open_ftp_from_settings(server.settings, timeout=TIMEOUT)


@pytest.fixture(params=TRANSPORTS)
def remote(request: pytest.FixtureRequest, servers: dict[str, Sandbox]) -> Iterator[Remote]:
    server = servers[request.param]
    server.reset()
    with connect(server) as session:
        yield Remote(server, session, remote_folder(session))


def names(folder: RemoteFolder, path: str) -> list[str]:
    return [f.name for f in folder.list(path)]


# -- atomic uploads --------------------------------------------------------------


def test_an_upload_shows_no_final_name_until_it_is_whole(remote: Remote) -> None:
    remote.folder.ensure_folder("saida")
    seen: list[list[str]] = []

    def chunks() -> Iterator[bytes]:
        yield b"<pedidos>"
        with connect(remote.server) as other:  # the other side, looking meanwhile
            seen.append(names(remote_folder(other), "saida"))
        yield b"<pedido/>" * 1000
        yield b"</pedidos>"

    remote.folder.upload_atomic("saida", "pedidos.xml", chunks())
    [during] = seen
    assert "pedidos.xml" not in during
    assert len(during) == 1 and re.fullmatch(r"\.pedidos\.xml\.[0-9a-f]{12}\.part", during[0])
    assert remote.files_on_disk() == ["saida/pedidos.xml"]
    expected = b"<pedidos>" + b"<pedido/>" * 1000 + b"</pedidos>"
    assert remote.data.joinpath("saida", "pedidos.xml").read_bytes() == expected
    assert [(f.name, f.size) for f in remote.folder.list("saida")] == [("pedidos.xml", len(expected))]


def test_a_failing_upload_leaves_neither_the_file_nor_its_temporary(remote: Remote) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"x" * 200_000
        raise ValueError("the source broke")

    with pytest.raises(ValueError, match="the source broke"):  # the caller's own error, as it was
        remote.folder.upload_atomic("", "pedidos.xml", chunks())
    assert remote.folder.list("") == [] and remote.files_on_disk() == []
    remote.folder.upload_atomic("", "pedidos.xml", [b"ok"])  # the session is still good
    assert remote.files_on_disk() == ["pedidos.xml"]


def test_a_failing_upload_keeps_the_file_it_would_have_replaced(remote: Remote) -> None:
    remote.folder.upload_atomic("", "estoque.csv", [b"old"])

    def chunks() -> Iterator[bytes]:
        yield b"new, but not all of it"
        raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire"):
        remote.folder.upload_atomic("", "estoque.csv", chunks())
    assert remote.files_on_disk() == ["estoque.csv"]
    assert remote.data.joinpath("estoque.csv").read_bytes() == b"old"


def test_an_upload_replaces_the_file_of_that_name(remote: Remote) -> None:
    remote.folder.upload_atomic("", "estoque.csv", [b"old"])
    remote.folder.upload_atomic("", "estoque.csv", [b"new ", b"content"])
    assert remote.files_on_disk() == ["estoque.csv"]
    assert remote.data.joinpath("estoque.csv").read_bytes() == b"new content"


def test_where_rename_will_not_replace_the_old_file_is_deleted_first(
        servers: dict[str, Sandbox], monkeypatch: pytest.MonkeyPatch) -> None:
    server = servers["sftp"]
    server.reset()
    with connect(server) as session:
        assert isinstance(session, SftpSession)

        def unsupported(*args: object) -> None:
            raise OSError("Operation unsupported")  # as servers without posix-rename answer

        monkeypatch.setattr(session.sftp, "posix_rename", unsupported)
        folder = remote_folder(session)
        folder.upload_atomic("", "estoque.csv", [b"old"])
        folder.upload_atomic("", "estoque.csv", [b"new"])  # SFTP v3 rename refuses to replace
    assert Path(server.data, "estoque.csv").read_bytes() == b"new"
    assert [c.method for c in server.calls if c.method in ("rename", "remove")] == [
        "rename", "rename", "remove", "rename"]


# -- streamed downloads ----------------------------------------------------------

SIZE = 20 * 1024 * 1024


def test_a_large_download_is_streamed_in_chunks(remote: Remote) -> None:
    block = hashlib.sha256(b"tramo").digest() * 32768  # 1 MiB, written 20 times
    expected = hashlib.sha256()
    with remote.data.joinpath("grande.xml").open("wb") as out:
        for _ in range(SIZE // len(block)):
            out.write(block)
            expected.update(block)
    del block
    got, reads = hashlib.sha256(), 0
    tracemalloc.start()
    try:
        with remote.folder.open_read("grande.xml") as stream:
            while chunk := stream.read(64 * 1024):
                got.update(chunk)
                reads += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got.hexdigest() == expected.hexdigest() and reads == SIZE // (64 * 1024)
    assert peak < SIZE // 5, f"{peak} bytes held at once"


def test_an_empty_file_round_trips(remote: Remote) -> None:
    remote.folder.upload_atomic("", "vazio.xml", [])
    assert [(f.name, f.size) for f in remote.folder.list("")] == [("vazio.xml", 0)]
    with remote.folder.open_read("vazio.xml") as stream:
        assert stream.read() == b""
    assert names(remote.folder, "") == ["vazio.xml"]  # the session is still good


def test_a_download_closed_early_leaves_the_session_usable(remote: Remote) -> None:
    remote.data.joinpath("a.xml").write_bytes(b"a" * 1_000_000)
    with remote.folder.open_read("a.xml") as stream:
        assert stream.read(10) == b"a" * 10
    with pytest.raises(KeyError), remote.folder.open_read("a.xml") as stream:
        stream.read(10)
        raise KeyError("the reader's own error comes out as it is")
    with remote.folder.open_read("a.xml") as stream:
        assert len(stream.read()) == 1_000_000
    assert names(remote.folder, "") == ["a.xml"]


# -- moves, folders, removal -----------------------------------------------------


def test_an_imported_file_moves_into_the_processed_folder(remote: Remote) -> None:
    remote.folder.ensure_folder("pedidos")
    remote.folder.upload_atomic("pedidos", "1.xml", [b"<pedido>1</pedido>"])
    remote.folder.upload_atomic("pedidos", "2.xml", [b"<pedido>2</pedido>"])
    remote.folder.ensure_folder("pedidos/processados")
    assert remote.folder.move("pedidos/1.xml", "pedidos/processados") == "pedidos/processados/1.xml"
    assert names(remote.folder, "pedidos") == ["2.xml"]  # folders are not listed
    assert names(remote.folder, "pedidos/processados") == ["1.xml"]
    assert remote.folder.move("pedidos/2.xml", "pedidos/processados",
                              "2.xml.done") == "pedidos/processados/2.xml.done"
    assert remote.files_on_disk() == ["pedidos/processados/1.xml", "pedidos/processados/2.xml.done"]
    with pytest.raises(PlatformError) as caught:
        remote.folder.move("pedidos/1.xml", "pedidos/processados")  # moved already
    assert caught.value.code == "not_found"


def test_a_move_replaces_a_processed_file_of_the_same_name(remote: Remote) -> None:
    remote.folder.ensure_folder("processados")
    remote.folder.upload_atomic("processados", "1.xml", [b"first time"])
    remote.folder.upload_atomic("", "1.xml", [b"second time"])
    remote.folder.move("1.xml", "processados")
    assert remote.data.joinpath("processados", "1.xml").read_bytes() == b"second time"
    assert remote.files_on_disk() == ["processados/1.xml"]


def test_ensure_folder_makes_every_missing_parent_and_may_repeat(remote: Remote) -> None:
    remote.folder.ensure_folder("a/b/c")
    remote.folder.ensure_folder("a/b/c")
    remote.folder.ensure_folder("/a/b")
    assert remote.data.joinpath("a", "b", "c").is_dir()
    remote.data.joinpath("a", "file").write_bytes(b"")
    with pytest.raises(PlatformError):
        remote.folder.ensure_folder("a/file/d")  # a file is in the way


def test_missing_files_and_folders_are_not_found(remote: Remote) -> None:
    attempts: list[Any] = [
        lambda: remote.folder.open_read("nada.xml").__enter__(),
        lambda: remote.folder.remove("nada.xml"),
        lambda: remote.folder.list("nada"),
        lambda: remote.folder.move("nada.xml", ""),
    ]
    for attempt in attempts:
        with pytest.raises(PlatformError) as caught:
            attempt()
        assert caught.value.code == "not_found"
    remote.folder.upload_atomic("", "a.xml", [b"a"])
    remote.folder.remove("a.xml")
    assert remote.files_on_disk() == []


def test_a_root_keeps_every_path_inside_it(remote: Remote) -> None:
    inside = remote_folder(remote.session, root="tray")
    remote.folder.ensure_folder("tray")
    inside.ensure_folder("pedidos")
    inside.upload_atomic("/pedidos", "1.xml", [b"1"])  # a leading slash starts at the root too
    assert remote.files_on_disk() == ["tray/pedidos/1.xml"]
    assert names(inside, "pedidos") == ["1.xml"] and inside.root == "/tray"
    for attempt in (lambda: inside.list(".."), lambda: inside.open_read("../x").__enter__(),
                    lambda: inside.upload_atomic("a/../..", "x", [b""]),
                    lambda: inside.move("pedidos/1.xml", "../fora"),
                    lambda: inside.upload_atomic("", "../x", [b""]),
                    lambda: inside.move("pedidos/1.xml", "", "a/b"),
                    lambda: inside.remove("..\\x")):
        with pytest.raises(PlatformError) as caught:
            attempt()
        assert caught.value.code == "unsafe_name"


# -- names -----------------------------------------------------------------------


def test_odd_names_round_trip(remote: Remote) -> None:
    remote.folder.ensure_folder("pasta com espaço")
    for index, name in enumerate(ODD_NAMES):
        remote.folder.upload_atomic("pasta com espaço", name, [name.encode("utf-8")])
        assert remote.data.joinpath("pasta com espaço", name).read_bytes() == name.encode("utf-8")
        with remote.folder.open_read(f"pasta com espaço/{name}") as stream:
            assert stream.read() == name.encode("utf-8")
    remote.data.joinpath("pasta com espaço", "ç é ü.txt").write_bytes(b"written by the other side")
    listed = remote.folder.list("pasta com espaço")
    assert [f.name for f in listed] == sorted([*ODD_NAMES, "ç é ü.txt"])
    assert all(f.size == len(f.name.encode("utf-8")) for f in listed if f.name in ODD_NAMES)
    assert all(f.modified is not None for f in listed)
    remote.folder.ensure_folder("feito")
    for name in ODD_NAMES:
        assert remote.folder.move(f"pasta com espaço/{name}", "feito") == f"feito/{name}"
    assert sorted(names(remote.folder, "feito")) == sorted(ODD_NAMES)


def test_a_listed_name_with_a_backslash_is_refused(remote: Remote) -> None:
    remote.data.joinpath("ok.xml").write_bytes(b"")
    remote.data.joinpath("..\\evil.xml").write_bytes(b"")  # a plain name on POSIX, a path elsewhere
    with pytest.raises(PlatformError) as caught:
        remote.folder.list("")
    assert caught.value.code == "unsafe_name" and "evil" in str(caught.value)


@pytest.mark.parametrize("hostile", ["../x", "a/b", "/etc/passwd", "..", ".", "nul\0.xml"])
def test_a_listed_name_that_could_leave_the_folder_is_refused(
        remote: Remote, hostile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server cannot put these in a POSIX directory, so its answer is made up on the way in."""
    session = remote.session
    if isinstance(session, SftpSession):
        entry = paramiko.SFTPAttributes()
        entry.filename, entry.st_mode, entry.st_size, entry.st_mtime = hostile, 0o100644, 1, 0
        monkeypatch.setattr(session.sftp, "listdir_attr", lambda path: [entry])
    elif "MLST" in session.features:
        monkeypatch.setattr(session.ftp, "mlsd",
                            lambda path: iter([(hostile, {"type": "file", "size": "1"})]))
    else:
        monkeypatch.setattr(session.ftp, "nlst", lambda path: [hostile])
    if hostile in (".", "..") and isinstance(session, FtpSession) and "MLST" not in session.features:
        assert remote.folder.list("") == []  # NLST may name the folder and its parent: skipped
        return
    with pytest.raises(PlatformError) as caught:
        remote.folder.list("")
    assert caught.value.code == "unsafe_name"


def test_the_name_checker_refuses_anything_but_a_plain_name() -> None:
    for name in ["", ".", "..", "a/b", "../x", "/x", "a\\b", "a\0b", "x/"]:
        with pytest.raises(PlatformError) as caught:
            check_name(name)
        assert caught.value.code == "unsafe_name"
    for name in ["a", "...", ".hidden", "a..b", "a b", "ç"]:
        assert check_name(name) == name


def test_only_sessions_have_remote_folders() -> None:
    with pytest.raises(TypeError, match="SftpSession or an FtpSession"):
        remote_folder(object())  # type: ignore[arg-type]


# -- faults ----------------------------------------------------------------------


def test_a_connection_dropped_mid_operation_is_a_transient_error(remote: Remote) -> None:
    listing = {"list", "MLSD", "NLST"}
    remote.server.inject(Fault.DROPPED, where=lambda method, path: method in listing)
    with pytest.raises(TransientError):
        remote.folder.list("")
    assert not remote.session.connected


# -- safe local names ------------------------------------------------------------


tricky = st.text(alphabet=st.sampled_from(list("./\\\0~ _-aAf09.:?*<>|\"\x01\u202e\u2028é")) |
                 st.characters(), max_size=140)


def _assert_safe(name: str) -> None:
    assert name and not name.startswith(".") and not name.endswith((".", " "))
    assert not any(c in name for c in '/\\\0<>:"|?*')
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in name)
    assert len(name.encode("utf-8")) <= NAME_BYTES


@given(tricky)
@example("")
@example("..")
@example("../../etc/passwd")
@example("CON.txt")
@example("x" * 400 + ".xml")
def test_safe_name_gives_a_plain_local_name_for_any_text(remote_name: str) -> None:
    name = safe_name(remote_name)
    _assert_safe(name)
    assert safe_name(remote_name) == name  # stable
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, name)
        path.write_bytes(b"")
        assert path.parent == Path(folder) and os.listdir(folder) == [name]


@given(tricky, tricky)
@example("a?b.xml", "a_b.xml")
@example("a?b.xml", safe_name("a?b.xml"))
@example(".x", "_x")
@example("x" * 200, "x" * 201)
def test_safe_name_never_gives_two_remote_names_the_same_local_one(first: str, second: str) -> None:
    if first != second:
        assert safe_name(first) != safe_name(second)


def test_safe_names_are_kept_and_changed_ones_say_so() -> None:
    for name in ["pedido-1.xml", "Pedido 2 ação.XML", "NF-e 3550.csv", "con-tramo.txt"]:
        assert safe_name(name) == name
    changed = safe_name("pedido?.xml")
    assert re.fullmatch(r"pedido_~[0-9a-f]{12}\.xml", changed)
    assert re.fullmatch(r"__~[0-9a-f]{12}", safe_name(".."))
    assert safe_name("CON.txt").startswith("_CON")


def test_a_transport_download_without_abandon_cannot_be_defined() -> None:
    from tramo.remote import _Download

    with pytest.raises(TypeError, match="must define abandon"):
        type("Careless", (_Download,), {})
