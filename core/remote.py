"""One remote-folder API over an SFTP or an FTP/FTPS session, for file-exchange plugins.

A plugin that exchanges files lists a folder, streams files down, uploads
files so the other side never sees half of one, and moves what it has
imported; :func:`remote_folder` gives it those operations whatever the
transport, so the plugin is written once and tested against each server.

Paths are POSIX paths *inside the folder's root* (``"pedidos"``,
``"pedidos/1.xml"``; a leading ``/`` changes nothing): they are joined to the
root with :mod:`posixpath` and may not climb out of it. A relative root
starts at the directory the login lands in. Names that come from a server
are never trusted: a listing entry whose name holds ``/``, ``\\`` or NUL, or
is ``.`` or ``..``, is refused with :class:`PlatformError` code
``"unsafe_name"``, and :func:`safe_name` turns any remote name into a local
file name that cannot leave its folder.

Every error is a tramo error: a missing file is :class:`PlatformError` code
``"not_found"``; a lost connection :class:`TransientError` (open a new session).
"""

from __future__ import annotations

import abc
import contextlib
import ftplib
import functools
import hashlib
import io
import posixpath
import re
import secrets
import stat
import unicodedata
from calendar import timegm
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, Protocol, TypeVar

import attrs
import paramiko

from tramo.errors import PlatformError, TramoError, TransientError
from tramo.ftp import FtpSession
from tramo.sftp import SftpSession

__all__ = ["RemoteFile", "RemoteFolder", "check_name", "remote_folder", "safe_name"]

_T = TypeVar("_T")
#: bytes read from or written to the network at a time
CHUNK = 64 * 1024
#: How far an SFTP download reads ahead: its requests go out together, so a
#: window of this size costs one round trip, and memory stays bounded by it.
READ_AHEAD = 16 * CHUNK


@attrs.frozen
class RemoteFile:
    """A file in a remote folder.

    :param name: its name in the folder (already checked by :func:`check_name`).
    :param size: its size in bytes.
    :param modified: its modification time (POSIX seconds, UTC), None when the server does not say.
    """

    name: str
    size: int
    modified: float | None


class RemoteFolder(Protocol):
    """What a file-exchange plugin does on the server, whatever the transport."""

    root: str

    def list(self, folder: str, *,
             refused: Callable[[str, PlatformError], object] | None = None) -> list[RemoteFile]:
        """The files (not folders, not links) in ``folder``, sorted by name.

        A name that is not a plain file name raises PlatformError ``unsafe_name``;
        with ``refused``, it is told ``(name, error)`` instead and left out, so
        one hostile name does not stop the other files.
        """
        ...

    def open_read(self, path: str) -> AbstractContextManager[BinaryIO]:
        """The file's bytes as a stream, read from the network as they are consumed."""
        ...

    def upload_atomic(self, folder: str, name: str, chunks: Iterable[bytes]) -> None:
        """Write ``folder/name`` so that it appears whole or not at all.

        The bytes go to ``folder/.name.<random>.part``, which is then renamed
        to ``name``, replacing a file of that name (deleted first on servers
        whose rename will not replace). If anything fails, ``chunks``
        included, the temporary file is removed and ``name`` is untouched.
        """
        ...

    def move(self, path: str, folder: str, name: str | None = None) -> str:
        """Rename ``path`` into ``folder`` (as ``name``, default its own), replacing a
        file of that name; returns the new path."""
        ...

    def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` and any missing parent (``mkdir -p``)."""
        ...

    def remove(self, path: str) -> None:
        """Delete the file ``path``."""
        ...


# -- names -----------------------------------------------------------------------


def check_name(name: str) -> str:
    """``name`` if it is a single, plain name in a folder; else PlatformError ``unsafe_name``."""
    if name in ("", ".", "..") or any(c in name for c in "/\\\0"):
        raise PlatformError(f"the server named a file {name!r}, which is not a plain file name "
                            f"(it could reach outside its folder); it was not used",
                            code="unsafe_name")
    return name


#: local name length bound, in UTF-8 bytes (file systems allow 255; room is left for suffixes)
NAME_BYTES = 120
#: characters never kept in a local name: separators and what Windows forbids
_FORBIDDEN = frozenset('/\\<>:"|?*')
#: Unicode categories replaced: controls, invisible formatting, lone surrogates, line breaks
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Windows device names, which no folder can hold as files
_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                      *(f"LPT{i}" for i in range(10))})
_HASH_HEX = 12
#: the tail safe_name gives a changed name; an unchanged name ending like this is changed too,
#: so a remote name can never equal another one's safe form
_MARKED = re.compile(rf"~[0-9a-f]{{{_HASH_HEX}}}(\.[A-Za-z0-9]{{1,16}})?\Z")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,16}\Z")


def safe_name(remote_name: str) -> str:
    """A local file name for a remote one: the same name when it is already safe.

    The result has no separator, no control or invisible character, no
    character Windows forbids, does not start with a dot, does not end with a
    dot or space, is no Windows device name, is at most :data:`NAME_BYTES`
    UTF-8 bytes, and is never empty. When anything had to change, ``~`` and 12
    hex digits of the original name's SHA-256 go before the extension
    (``pedido?.xml`` becomes ``pedido_~1a2b3c4d5e6f.xml``), so two different
    remote names never share a local one on a case-sensitive file system.
    """
    cleaned = "".join("_" if c in _FORBIDDEN or unicodedata.category(c) in _UNPRINTABLE else c
                      for c in remote_name)
    stripped = cleaned.lstrip(".")
    cleaned = "_" * (len(cleaned) - len(stripped)) + stripped
    if cleaned.endswith((".", " ")):
        cleaned = cleaned[:-1] + "_"
    if cleaned.split(".")[0].rstrip(" ").upper() in _DEVICES:
        cleaned = "_" + cleaned
    if not cleaned:
        cleaned = "_"
    if (cleaned == remote_name and len(cleaned.encode("utf-8")) <= NAME_BYTES
            and not _MARKED.search(cleaned)):
        return cleaned
    digest = hashlib.sha256(remote_name.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_HEX]
    found = _EXTENSION.search(cleaned)
    extension = found.group() if found and found.start() > 0 else ""
    stem = cleaned[:len(cleaned) - len(extension)]
    room = NAME_BYTES - len(extension) - 1 - _HASH_HEX
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
    return f"{stem}~{digest}{extension}"


# -- the API, once -----------------------------------------------------------------


def remote_folder(session: SftpSession | FtpSession, *, root: str = "") -> RemoteFolder:
    """The remote-folder operations over ``session``, with every path inside ``root``.

    :param root: the folder every path starts from; relative (the default:
        the login directory) or absolute.
    """
    if isinstance(session, SftpSession):
        return _SftpFolder(session, root)
    if isinstance(session, FtpSession):
        return _FtpFolder(session, root)
    raise TypeError(f"remote_folder takes an SftpSession or an FtpSession, not {type(session).__name__}")


class _Folder(abc.ABC):
    """The transport-neutral part: paths, checks, the atomic upload and the move.

    Each transport implements the abstract operations below (SFTP, FTP).
    """

    #: names the transport cannot carry beyond those check_name refuses
    _unsendable = ""

    def __init__(self, home: str, root: str) -> None:
        base = "/" if root.startswith("/") else (home if home.startswith("/") else "/" + home)
        self.root = posixpath.normpath(posixpath.join(base, *self._parts(root)))

    # -- what each transport provides ---------------------------------------------

    @abc.abstractmethod
    def _files(self, path: str) -> list[RemoteFile]:
        """The regular files directly in the folder at server path ``path``."""

    @abc.abstractmethod
    def _reader(self, path: str) -> AbstractContextManager[BinaryIO]:
        """The file at ``path`` as a stream, read as it is consumed."""

    @abc.abstractmethod
    def _write(self, path: str, chunks: Iterable[bytes]) -> None:
        """Write ``chunks`` to ``path``, creating or truncating it."""

    @abc.abstractmethod
    def _rename(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target``, replacing it where the server allows."""

    @abc.abstractmethod
    def _is_file(self, path: str) -> bool: ...

    @abc.abstractmethod
    def _is_folder(self, path: str) -> bool: ...

    @abc.abstractmethod
    def _mkdir(self, path: str) -> None: ...

    @abc.abstractmethod
    def _delete(self, path: str) -> None: ...

    @staticmethod
    def _parts(path: str) -> list[str]:
        parts = [p for p in path.split("/") if p not in ("", ".")]
        for part in parts:
            if part == ".." or "\\" in part or "\0" in part:
                raise PlatformError(f"the path {path!r} may not use '..', '\\\\' or NUL: it "
                                    f"could leave the folder's root", code="unsafe_name")
        return parts

    def _path(self, path: str) -> str:
        """The server path of a path inside the root."""
        return posixpath.join(self.root, *self._parts(path))

    def _relative(self, server_path: str) -> str:
        return posixpath.relpath(server_path, self.root)

    def _name(self, name: str) -> str:
        check_name(name)
        if any(c in name for c in self._unsendable):
            raise PlatformError(f"the file name {name!r} cannot be sent over this transport",
                                code="unsafe_name")
        return name

    def list(self, folder: str, *,
             refused: Callable[[str, PlatformError], object] | None = None) -> list[RemoteFile]:
        kept = []
        for entry in self._files(self._path(folder)):
            try:
                self._name(entry.name)
            except PlatformError as exc:
                if refused is None:
                    raise
                refused(entry.name, exc)
                continue
            kept.append(entry)
        return sorted(kept, key=lambda f: f.name)

    def open_read(self, path: str) -> AbstractContextManager[BinaryIO]:
        return self._reader(self._path(path))

    def upload_atomic(self, folder: str, name: str, chunks: Iterable[bytes]) -> None:
        target_folder = self._path(folder)
        target = posixpath.join(target_folder, self._name(name))
        # the name is cut short so a long one leaves room for the marks (255 bytes at most)
        short = name.encode("utf-8")[:150].decode("utf-8", "ignore")
        temporary = posixpath.join(target_folder, f".{short}.{secrets.token_hex(6)}.part")
        try:
            self._write(temporary, chunks)
            self._replace(temporary, target)
        except BaseException:
            self._discard(temporary)
            raise

    def move(self, path: str, folder: str, name: str | None = None) -> str:
        source = self._path(path)
        if source == self.root:
            raise PlatformError("the root itself cannot be moved", code="unsafe_name")
        target = posixpath.join(self._path(folder), self._name(name or posixpath.basename(source)))
        if target != source:
            self._replace(source, target)
        elif not self._is_file(source):
            raise _missing(source)
        return self._relative(target)

    def ensure_folder(self, folder: str) -> None:
        path = self._path(folder)
        if self._is_folder(path):
            return
        walked = self.root
        for part in self._parts(folder):
            walked = posixpath.join(walked, part)
            if not self._is_folder(walked):
                try:
                    self._mkdir(walked)
                except PlatformError:
                    if not self._is_folder(walked):  # made meanwhile by someone else: fine
                        raise

    def remove(self, path: str) -> None:
        self._delete(self._path(path))

    def _replace(self, source: str, target: str) -> None:
        """Rename, replacing ``target``: directly where the server allows, else delete then rename.

        The target is deleted only when the rename failed and the target is
        there, so a rename refused for another reason loses nothing.
        """
        try:
            self._rename(source, target)
            return
        except PlatformError as exc:
            if exc.code == "not_found" or not self._is_file(target):
                raise
        self._delete(target)
        self._rename(source, target)

    def _delete_if_there(self, path: str) -> None:
        try:
            self._delete(path)
        except PlatformError as exc:
            if exc.code != "not_found":
                raise

    def _discard(self, path: str) -> None:
        """Remove a temporary file if the connection still allows; never hides the first error."""
        with contextlib.suppress(TramoError):
            self._delete_if_there(path)


class _Download(io.RawIOBase):
    """A remote file's bytes as a raw stream: closed strictly after a success, quietly after a failure.

    Each transport's download defines ``abandon()``: close after the reader failed, never
    raising over the reader's own error. ``io.RawIOBase``'s C base skips abstract-method
    checks, so a download class without one is refused when it is defined.
    """

    abandon: Callable[[], None]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not callable(getattr(cls, "abandon", None)):
            raise TypeError(f"{cls.__name__} must define abandon()")

    def readable(self) -> bool:
        return True


@contextlib.contextmanager
def _closing(raw: _Download) -> Iterator[BinaryIO]:
    stream = io.BufferedReader(raw, CHUNK)
    try:
        yield stream
    except BaseException:
        raw.abandon()
        with contextlib.suppress(Exception):
            stream.close()
        raise
    stream.close()


def _missing(path: str) -> PlatformError:
    return PlatformError(f"the remote file or folder {path!r} does not exist", code="not_found")


# -- SFTP --------------------------------------------------------------------------


class _SftpFolder(_Folder):
    """The operations through paramiko's SFTP client."""

    def __init__(self, session: SftpSession, root: str) -> None:
        self.session = session
        home = self._call("find the login folder", ".", lambda: session.sftp.normalize("."))
        super().__init__(home, root)

    def _call(self, doing: str, path: str, action: Callable[[], _T]) -> _T:
        try:
            return action()
        except BaseException as exc:
            error = self._failure(exc, doing, path)
            if error is None:
                raise
            raise error from exc

    def _failure(self, exc: BaseException, doing: str, path: str) -> TramoError | None:
        session = self.session
        where = f"{session.host}:{session.port}"
        if isinstance(exc, TramoError):
            return None
        if isinstance(exc, (TimeoutError, EOFError, paramiko.SSHException)) or (
                isinstance(exc, OSError) and not session.connected):
            return TransientError(f"the SFTP connection to {where} was lost while trying to {doing} "
                                  f"({type(exc).__name__})")
        if isinstance(exc, FileNotFoundError):
            return _missing(path)
        if isinstance(exc, PermissionError):
            return PlatformError(f"SFTP server {where} denied the permission to {doing} {path!r}",
                                 code="permission_denied")
        if isinstance(exc, OSError):
            return PlatformError(f"SFTP server {where} failed to {doing} {path!r}", code="failure",
                                 causes=[str(exc)[:200]] if str(exc) else ())
        return None

    def _files(self, path: str) -> list[RemoteFile]:
        entries = self._call("list", path, lambda: self.session.sftp.listdir_attr(path))
        files = []
        for entry in entries:
            if entry.st_mode is not None and not stat.S_ISREG(entry.st_mode):
                continue  # folders, links, devices: not files to exchange
            modified = float(entry.st_mtime) if entry.st_mtime is not None else None
            files.append(RemoteFile(entry.filename, int(entry.st_size or 0), modified))
        return files

    @contextlib.contextmanager
    def _reader(self, path: str) -> Iterator[BinaryIO]:
        sftp = self.session.sftp

        # No whole-file prefetch: paramiko keeps every prefetched answer until it is
        # read, so a reader slower than the network would hold the whole file. Each
        # read asks for what it reads (in parallel 32 KB requests): memory stays bounded.
        raw = _SftpDownload(self, path, self._call("read", path, lambda: sftp.open(path, "rb")))
        with _closing(raw) as stream:
            yield stream

    def _write(self, path: str, chunks: Iterable[bytes]) -> None:
        handle = self._call("write", path, lambda: self.session.sftp.open(path, "wb"))
        try:
            handle.set_pipelined(True)  # writes are acknowledged at the close
            for chunk in chunks:  # the caller's own errors pass as they are
                self._call("write", path, functools.partial(handle.write, chunk))
        except BaseException:
            with contextlib.suppress(Exception):
                handle.close()
            raise
        self._call("write", path, handle.close)

    def _rename(self, source: str, target: str) -> None:
        sftp = self.session.sftp
        try:
            # replaces, where the server has the extension
            self._call("rename", source, lambda: sftp.posix_rename(source, target))
            return
        except PlatformError as exc:
            if exc.code == "not_found":
                raise
            # refused or unsupported: the plain rename below says which
        self._call("rename", source, lambda: sftp.rename(source, target))

    def _mode(self, path: str) -> int | None:
        """The path's mode; None when it does not exist (0 when the server will not say)."""
        try:
            return self._call("look at", path, lambda: self.session.sftp.stat(path)).st_mode or 0
        except PlatformError as exc:
            if exc.code == "not_found":
                return None
            raise

    def _is_folder(self, path: str) -> bool:
        mode = self._mode(path)
        return mode is not None and stat.S_ISDIR(mode)

    def _is_file(self, path: str) -> bool:
        mode = self._mode(path)
        return mode is not None and not stat.S_ISDIR(mode)

    def _mkdir(self, path: str) -> None:
        self._call("create the folder", path, lambda: self.session.sftp.mkdir(path))

    def _delete(self, path: str) -> None:
        self._call("remove", path, lambda: self.session.sftp.remove(path))


class _SftpDownload(_Download):
    """An SFTP file as a raw stream, read ahead a bounded window at a time (:data:`READ_AHEAD`)."""

    def __init__(self, folder: _SftpFolder, path: str, handle: paramiko.SFTPFile) -> None:
        super().__init__()
        self.folder = folder
        self.path = path
        self.handle = handle
        self.offset = 0
        self.size = int(folder._call("read", path, handle.stat).st_size or 0)
        self.ahead = memoryview(b"")

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self.ahead:
            wanted = min(READ_AHEAD, self.size - self.offset)
            if wanted <= 0:
                return 0
            window = self.folder._call("read", self.path, lambda: b"".join(
                self.handle.readv([(self.offset, wanted)])))
            self.offset += len(window)
            self.ahead = memoryview(window)
        data, self.ahead = self.ahead[:len(buffer)], self.ahead[len(buffer):]
        memoryview(buffer)[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.folder._call("read", self.path, self.handle.close)
        finally:
            super().close()

    def abandon(self) -> None:
        if self.closed:
            return
        try:
            with contextlib.suppress(Exception):
                self.handle.close()
        finally:
            super().close()


# -- FTP ---------------------------------------------------------------------------


_MDTM = re.compile(r"(\d{14})(\.\d+)?")


class _FtpFolder(_Folder):
    """The operations through ftplib: MLSD where the server has it, else NLST with SIZE and MDTM."""

    _unsendable = "\r\n"  # an FTP command is one line

    def __init__(self, session: FtpSession, root: str) -> None:
        self.session = session
        super().__init__(session.home, root)

    def _call(self, doing: str, path: str, action: Callable[[], _T], *,
              missing: bool = False) -> _T:
        """``action`` with its errors as tramo's; with ``missing``, a 550 means no such file."""
        try:
            return action()
        except BaseException as exc:
            error = self._failure(exc, doing, path, missing)
            if error is None:
                raise
            raise error from exc

    def _failure(self, exc: BaseException, doing: str, path: str,
                 missing: bool) -> TramoError | None:
        if missing and isinstance(exc, ftplib.error_perm) and str(exc).startswith("550"):
            return _missing(path)
        return self.session.failure(exc, f"{doing} {path!r}")

    def _command(self, doing: str, path: str, command: str, *, missing: bool = False) -> str:
        return self._call(doing, path, lambda: self.session.ftp.voidcmd(command), missing=missing)

    def _files(self, path: str) -> list[RemoteFile]:
        try:
            return self._listing(path)
        except PlatformError as exc:
            # servers answer a missing folder with 550, 501 or 450: ask whether it is there
            if exc.code != "not_found" and exc.code != "unsafe_name" and not self._is_folder(path):
                raise _missing(path) from exc
            raise

    def _listing(self, path: str) -> list[RemoteFile]:
        ftp = self.session.ftp
        if "MLST" in self.session.features:
            entries = self._call("list", path, lambda: list(ftp.mlsd(path)), missing=True)
            files = []
            for name, facts in entries:
                kind = facts.get("type", "file" if "size" in facts else "").lower()
                if kind != "file":
                    continue  # cdir, pdir, dir, links: not files to exchange
                size = int(facts["size"]) if facts.get("size", "").isdigit() else self._size(
                    posixpath.join(path, self._name(name)))
                files.append(RemoteFile(name, size, _timestamp(facts.get("modify", ""))))
            return files
        return self._files_without_mlsd(path)

    def _files_without_mlsd(self, path: str) -> list[RemoteFile]:
        ftp = self.session.ftp

        def names() -> list[str]:
            try:
                return ftp.nlst(path)
            except ftplib.error_temp as exc:
                if str(exc).startswith("450"):  # some servers' way of saying "empty"
                    return []
                raise
        files = []
        found = self._call("list", path, names, missing=True)
        self._command("list", path, "TYPE I")  # SIZE is refused in ASCII mode
        prefix = path.rstrip("/") + "/"
        for entry in found:
            name = entry.removeprefix(prefix)  # some servers answer with paths
            if name in (".", ".."):
                continue
            full = posixpath.join(path, self._name(name))
            try:
                size = self._size(full)
            except PlatformError as exc:
                if exc.code == "not_found":
                    continue  # a folder (SIZE is for files), or gone meanwhile
                raise
            reply = self._call("list", full, functools.partial(ftp.sendcmd, f"MDTM {full}"),
                               missing=True)
            files.append(RemoteFile(name, size, _timestamp(reply[4:].strip())))
        return files

    def _size(self, path: str) -> int:
        size = self._call("list", path, lambda: self.session.ftp.size(path), missing=True)
        if size is None:
            raise PlatformError(f"the FTP server gave no size for {path!r}", code="protocol")
        return int(size)

    @contextlib.contextmanager
    def _reader(self, path: str) -> Iterator[BinaryIO]:
        self._command("read", path, "TYPE I")
        ftp = self.session.ftp
        conn = self._call("read", path, lambda: ftp.transfercmd(f"RETR {path}"), missing=True)
        with _closing(_FtpDownload(self, path, conn)) as stream:
            yield stream

    def _write(self, path: str, chunks: Iterable[bytes]) -> None:
        ftp = self.session.ftp
        self._command("write", path, "TYPE I")
        conn = self._call("write", path, lambda: ftp.transfercmd(f"STOR {path}"))
        try:
            for chunk in chunks:  # the caller's own errors pass as they are
                self._call("write", path, functools.partial(conn.sendall, chunk))
            self._call("write", path, lambda: _finish_tls(conn))
        except BaseException:
            conn.close()
            with contextlib.suppress(ftplib.Error, OSError, EOFError):
                ftp.getresp()  # the server's word on the cut transfer, so replies stay in step
            raise
        conn.close()
        self._call("write", path, ftp.voidresp)

    def _rename(self, source: str, target: str) -> None:
        ftp = self.session.ftp
        self._call("rename", source, lambda: ftp.sendcmd(f"RNFR {source}"), missing=True)
        self._command("rename", source, f"RNTO {target}")

    def _is_folder(self, path: str) -> bool:
        ftp = self.session.ftp
        try:
            ftp.cwd(path)
        except ftplib.error_perm:
            return False
        except BaseException as exc:
            raise self._failure(exc, "look at", path, False) or exc from exc
        self._command("look at", path, f"CWD {self.session.home}")
        return True

    def _is_file(self, path: str) -> bool:
        self._command("look at", path, "TYPE I")  # SIZE is refused in ASCII mode
        try:
            self._size(path)
        except PlatformError as exc:
            if exc.code == "not_found":
                return False
            raise
        return True

    def _mkdir(self, path: str) -> None:
        self._command("create the folder", path, f"MKD {path}")

    def _delete(self, path: str) -> None:
        self._call("remove", path, lambda: self.session.ftp.delete(path), missing=True)


def _finish_tls(conn: object) -> None:
    """End TLS on a data connection politely, as ftplib does, so the server sees a clean end."""
    unwrap = getattr(conn, "unwrap", None)
    if unwrap is not None:
        unwrap()


def _timestamp(text: str) -> float | None:
    """POSIX seconds of an MLSD ``modify`` fact or an MDTM reply (``YYYYMMDDHHMMSS[.fff]``, UTC)."""
    found = _MDTM.fullmatch(text.strip())
    if not found:
        return None
    digits = found.group(1)
    try:
        fields = (int(digits[0:4]), int(digits[4:6]), int(digits[6:8]),
                  int(digits[8:10]), int(digits[10:12]), int(digits[12:14]))
        seconds = timegm((*fields, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    return seconds + (float(found.group(2)) if found.group(2) else 0.0)


class _FtpDownload(_Download):
    """A RETR's data connection as a raw stream; closing it ends the transfer (the final reply)."""

    def __init__(self, folder: _FtpFolder, path: str, conn: object) -> None:
        super().__init__()
        self.folder = folder
        self.path = path
        self.conn = conn
        self.eof = False
        self.finished = False

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        read = self.folder._call("read", self.path,
                                 lambda: self.conn.recv_into(buffer))  # type: ignore[attr-defined]
        if not read:
            self.eof = True
        return int(read)

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._finish(strict=True)
        finally:
            super().close()

    def abandon(self) -> None:
        with contextlib.suppress(Exception):
            self._finish(strict=False)

    def _finish(self, *, strict: bool) -> None:
        if self.finished:
            return
        self.finished = True
        ftp = self.folder.session.ftp
        complete = self.eof
        try:
            if complete:
                self.folder._call("read", self.path, lambda: _finish_tls(self.conn))
        finally:
            self.conn.close()  # type: ignore[attr-defined]
        if complete and strict:
            self.folder._call("read", self.path, ftp.voidresp)
            return
        # stopped early: the server answers 426 (or 226 if it had sent all); either is fine
        try:
            ftp.voidresp()
        except ftplib.Error:
            pass
        except (OSError, EOFError) as exc:
            error = self.folder.session.failure(exc, f"read {self.path!r}")
            if strict and error is not None:
                raise error from exc
