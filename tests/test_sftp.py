"""SFTP sessions against a real paramiko server on loopback: trust, credentials, files, faults."""

from __future__ import annotations

import base64
import io
import logging
import socket
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tramo.errors import AuthenticationError, ConfigurationError, TransientError
from tramo.sandbox import Fault, SftpSandbox
from tramo.secrets import Secret
from tramo.sftp import (
    HostKeyError,
    SftpSession,
    fingerprint,
    fingerprint_matches,
    known_hosts_line,
    load_private_key,
    md5_fingerprint,
    normalize_fingerprint,
    open_sftp,
    open_sftp_from_settings,
)

TIMEOUT = 3.0
#: a few real keys for the properties (ECDSA keys are generated in microseconds)
KEYS = [paramiko.ECDSAKey.generate() for _ in range(3)]


@pytest.fixture(scope="module")
def running() -> Iterator[SftpSandbox]:
    with SftpSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(running: SftpSandbox) -> SftpSandbox:
    running.reset()
    return running


def connect(sandbox: SftpSandbox, **options: Any) -> SftpSession:
    """A session to the sandbox; pinned to its key and logged in unless ``options`` say otherwise."""
    settings = sandbox.settings
    kwargs: dict[str, Any] = {"password": settings["password"],
                              "host_key_fingerprint": settings["host_key_fingerprint"],
                              "timeout": TIMEOUT}
    kwargs.update(options)
    return open_sftp(settings["host"], settings["port"], settings["username"], **kwargs)


def logins(sandbox: SftpSandbox) -> list[Any]:
    return [c for c in sandbox.calls if c.method == "auth"]


# -- host keys -------------------------------------------------------------------


def test_an_unknown_host_key_is_refused_before_the_password_is_sent(sandbox: SftpSandbox) -> None:
    with pytest.raises(HostKeyError) as caught:
        connect(sandbox, host_key_fingerprint=None)
    error = caught.value
    offered = fingerprint(sandbox.host_key)
    assert isinstance(error, ConfigurationError)
    assert (error.host, error.port, error.key_type, error.fingerprint) == (
        "127.0.0.1", sandbox.bound_port, "ecdsa-sha2-nistp256", offered)
    text = str(error)
    assert f"127.0.0.1:{sandbox.bound_port}" in text and offered in text
    assert "ecdsa-sha2-nistp256" in text
    assert "host_key_fingerprint" in text and "known_hosts" in text
    assert logins(sandbox) == []


@pytest.mark.parametrize("spelling", ["sha256", "sha256-padded", "md5", "md5-bare"])
def test_a_pinned_fingerprint_in_any_accepted_form_connects(sandbox: SftpSandbox, spelling: str) -> None:
    key = sandbox.host_key
    pin = {
        "sha256": fingerprint(key),
        "sha256-padded": fingerprint(key) + "=",
        "md5": md5_fingerprint(key),
        "md5-bare": md5_fingerprint(key).removeprefix("MD5:").upper(),
    }[spelling]
    with connect(sandbox, host_key_fingerprint=pin) as session:
        assert session.sftp.listdir("/") == []
        assert session.host_key_fingerprint == fingerprint(key)


def test_a_wrong_pin_is_refused_naming_both_keys(sandbox: SftpSandbox) -> None:
    pinned = fingerprint(KEYS[0])
    with pytest.raises(HostKeyError) as caught:
        connect(sandbox, host_key_fingerprint=pinned)
    assert pinned in str(caught.value)
    assert fingerprint(sandbox.host_key) in str(caught.value)
    assert logins(sandbox) == []


def test_a_malformed_pin_is_a_configuration_error_before_connecting(sandbox: SftpSandbox) -> None:
    with pytest.raises(ConfigurationError, match="not a host key fingerprint"):
        connect(sandbox, host_key_fingerprint="SHA256:not-a-fingerprint")
    assert list(sandbox.calls) == []


def test_a_known_hosts_file_listing_the_key_connects(sandbox: SftpSandbox, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"other.example.com {KEYS[0].get_name()} {KEYS[0].get_base64()}\n"
                     f"{sandbox.known_hosts_line()}\n")
    assert sandbox.known_hosts_line().startswith(f"[127.0.0.1]:{sandbox.bound_port} ")
    with connect(sandbox, host_key_fingerprint=None, known_hosts=known) as session:
        assert session.sftp.listdir("/") == []
    assert known.read_text().count("\n") == 2  # nothing was added to it


def test_a_known_hosts_entry_with_another_key_is_refused_even_with_a_matching_pin(
        sandbox: SftpSandbox, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line("127.0.0.1", sandbox.bound_port, KEYS[1]) + "\n")
    for pin in (None, sandbox.settings["host_key_fingerprint"]):
        with pytest.raises(HostKeyError) as caught:
            connect(sandbox, host_key_fingerprint=pin, known_hosts=known)
        assert fingerprint(sandbox.host_key) in str(caught.value)
        assert fingerprint(KEYS[1]) in str(caught.value)
    assert logins(sandbox) == []


def test_a_host_the_known_hosts_file_does_not_list_falls_back_to_the_pin(
        sandbox: SftpSandbox, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line("other.example.com", 22, KEYS[0]) + "\n")
    with connect(sandbox, known_hosts=known) as session:
        assert session.sftp.listdir("/") == []
    with pytest.raises(HostKeyError):
        connect(sandbox, known_hosts=known, host_key_fingerprint=None)


def test_an_unreadable_known_hosts_file_is_a_configuration_error(sandbox: SftpSandbox,
                                                                 tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="known_hosts"):
        connect(sandbox, known_hosts=tmp_path / "missing")


def test_no_auto_adding_or_warning_policy_and_no_system_host_keys_are_ever_used(
        sandbox: SftpSandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a host key was trusted without verification")

    for policy in (paramiko.AutoAddPolicy, paramiko.WarningPolicy):
        monkeypatch.setattr(policy, "__init__", forbidden)
        monkeypatch.setattr(policy, "missing_host_key", forbidden)
    monkeypatch.setattr(paramiko.SSHClient, "load_system_host_keys", forbidden)
    policies: list[object] = []
    original = paramiko.SSHClient.set_missing_host_key_policy

    def spy(self: paramiko.SSHClient, policy: object) -> None:
        policies.append(policy)
        original(self, policy)  # type: ignore[arg-type]

    monkeypatch.setattr(paramiko.SSHClient, "set_missing_host_key_policy", spy)
    with pytest.raises(HostKeyError):
        connect(sandbox, host_key_fingerprint=None)
    with connect(sandbox) as session:
        session.sftp.listdir("/")
    known = tmp_path / "known_hosts"
    known.write_text(sandbox.known_hosts_line() + "\n")
    with connect(sandbox, host_key_fingerprint=None, known_hosts=known) as session:
        session.sftp.listdir("/")
    assert len(policies) == 3
    assert all(isinstance(p, paramiko.RejectPolicy) for p in policies)


# -- credentials -----------------------------------------------------------------


def test_a_wrong_password_is_an_authentication_error_that_never_shows_it(
        sandbox: SftpSandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="paramiko")
    wrong = "Wr0ng-pa55word-4-tramo"
    with pytest.raises(AuthenticationError) as caught:
        connect(sandbox, password=Secret(wrong))
    error = caught.value
    shown = [str(error), repr(error), repr(error.args),
             "".join(traceback.format_exception(error)), caplog.text]
    assert not any(wrong in text for text in shown)
    assert error.__cause__ is None and error.__suppress_context__
    assert f"127.0.0.1:{sandbox.bound_port}" in str(error) and "'tramo'" in str(error)
    assert [(c.path, c.query, c.status) for c in logins(sandbox)] == [("tramo", "password", 3)]
    # nor does the right one, on the way in or out of a working session
    with connect(sandbox, password=Secret(sandbox.password)) as session:
        session.sftp.listdir("/")
        assert sandbox.password not in repr(session)
    assert "auth" in caplog.text.lower()  # paramiko did log the logins
    assert sandbox.password not in caplog.text


def test_credentials_are_required(sandbox: SftpSandbox) -> None:
    with pytest.raises(ConfigurationError, match="password or a private key"):
        connect(sandbox, password=None)


def _pem(key: paramiko.PKey, passphrase: str | None = None) -> str:
    out = io.StringIO()
    key.write_private_key(out, password=passphrase)
    return out.getvalue()


def test_public_key_logins() -> None:
    client_key = paramiko.ECDSAKey.generate()
    with SftpSandbox(authorized_keys=[client_key], allow_password=False) as sandbox:
        pem = _pem(client_key)
        with connect(sandbox, password=None, private_key=Secret(pem)) as session:
            assert session.sftp.listdir("/") == []
        escaped = pem.replace("\n", "\\n")  # as environment variables carry it
        with connect(sandbox, password=None, private_key=escaped) as session:
            assert session.sftp.listdir("/") == []
        with pytest.raises(AuthenticationError):
            connect(sandbox, password=None, private_key=_pem(KEYS[2]))
        with pytest.raises(AuthenticationError, match="accepts: publickey"):
            connect(sandbox)


def test_private_keys_load_from_text_and_errors_never_quote_them() -> None:
    key = KEYS[0]
    assert load_private_key(Secret(_pem(key))) == key
    encrypted = _pem(key, "correct horse")
    assert load_private_key(encrypted, Secret("correct horse")) == key
    with pytest.raises(ConfigurationError, match="encrypted"):
        load_private_key(encrypted)
    garbage = "-----BEGIN EC PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END EC PRIVATE KEY-----\n"
    with pytest.raises(ConfigurationError) as caught:
        load_private_key(garbage)
    assert "c2VjcmV0" not in str(caught.value) and caught.value.__cause__ is None


# -- files -----------------------------------------------------------------------


def test_files_round_trip_and_land_in_the_sandbox_data(sandbox: SftpSandbox) -> None:
    with open_sftp_from_settings(sandbox.settings, timeout=TIMEOUT) as session:
        sftp = session.sftp
        sftp.mkdir("/pedidos")
        with sftp.open("/pedidos/1.xml", "w") as f:
            f.write(b"<pedido>1</pedido>")
        with sftp.open("pedidos/1.xml", "a") as f:  # relative paths start at the root
            f.write(b"\n")
        assert sandbox.data.joinpath("pedidos", "1.xml").read_bytes() == b"<pedido>1</pedido>\n"
        sandbox.data.joinpath("pedidos", "2.xml").write_bytes(b"<pedido>2</pedido>")
        assert sftp.listdir("/pedidos") == ["1.xml", "2.xml"]
        assert sftp.stat("/pedidos/2.xml").st_size == 18
        with sftp.open("/pedidos/2.xml") as f:
            assert f.read() == b"<pedido>2</pedido>"
        sftp.rename("/pedidos/1.xml", "/pedidos/1.done")
        with pytest.raises(OSError):  # SFTP v3 rename does not replace
            sftp.rename("/pedidos/2.xml", "/pedidos/1.done")
        sftp.posix_rename("/pedidos/2.xml", "/pedidos/1.done")
        assert sftp.listdir("/pedidos") == ["1.done"]
        sftp.remove("/pedidos/1.done")
        with pytest.raises(FileNotFoundError):
            sftp.stat("/pedidos/1.done")
        sftp.rmdir("/pedidos")
        assert sftp.listdir("/") == []
    assert list(sandbox.data.iterdir()) == []
    assert [(c.method, c.query, c.status) for c in sandbox.calls_to("/pedidos/1.xml")][:3] == [
        ("open", "w", 0), ("write", "", 0), ("open", "a", 0)]
    assert [c.query for c in sandbox.calls_to("/pedidos/2.xml", "posix_rename")] == ["to=/pedidos/1.done"]


@pytest.mark.parametrize("path", ["../escape.txt", "/../escape.txt", "/a/../../escape.txt", "..\\escape.txt"])
def test_paths_cannot_leave_the_root(sandbox: SftpSandbox, path: str) -> None:
    outside = sandbox.data.parent / "escape.txt"
    with connect(sandbox) as session:
        with pytest.raises(PermissionError):
            session.sftp.open(path, "w")
        with pytest.raises(PermissionError):
            session.sftp.listdir(path.replace("escape.txt", ""))
        session.sftp.open("/inside.txt", "w").close()
        with pytest.raises(PermissionError):
            session.sftp.rename("/inside.txt", path)
        with pytest.raises(PermissionError):
            session.sftp.rmdir("/")
    assert not outside.exists()
    assert [p.name for p in sandbox.data.iterdir()] == ["inside.txt"]


def test_reset_gives_an_empty_root_without_deleting_in_between(sandbox: SftpSandbox) -> None:
    with connect(sandbox) as session:
        session.sftp.open("/a.txt", "w").close()
    before = sandbox.data
    sandbox.reset()
    assert sandbox.data != before and list(sandbox.data.iterdir()) == []
    assert before.joinpath("a.txt").exists()  # removed on stop, not here
    with connect(sandbox) as session:
        assert session.sftp.listdir("/") == []
    assert [c.method for c in sandbox.calls] == ["auth", "list"]


def test_stop_closes_open_sessions_and_removes_every_root() -> None:
    sandbox = SftpSandbox()
    with sandbox:
        first = sandbox.data
        sandbox.reset()
        session = connect(sandbox)
        session.sftp.listdir("/")
    assert not first.exists() and not sandbox.data.exists()
    with pytest.raises(TransientError), session:
        session.sftp.listdir("/")
    assert session.closed
    with pytest.raises(RuntimeError, match="closed"):
        session.sftp.listdir("/")


# -- faults ----------------------------------------------------------------------


def test_a_dropped_connection_is_a_transient_error(sandbox: SftpSandbox) -> None:
    sandbox.inject(Fault.DROPPED, where=lambda op, path: op == "mkdir")
    with pytest.raises(TransientError, match="was lost"), connect(sandbox) as session:
        session.sftp.mkdir("/out")
    assert not session.connected
    assert not sandbox.data.joinpath("out").exists()
    [call] = sandbox.calls_to("/out", "mkdir")
    assert (call.status, call.fault) == (None, Fault.DROPPED)
    with connect(sandbox) as again:  # the server itself carries on
        again.sftp.mkdir("/out")


def test_a_server_error_fails_the_operation_only(sandbox: SftpSandbox) -> None:
    sandbox.inject(Fault.SERVER_ERROR, where=lambda op, path: op == "mkdir")
    with connect(sandbox) as session:
        with pytest.raises(OSError) as caught:
            session.sftp.mkdir("/out")
        assert not isinstance(caught.value, TransientError)
        assert session.sftp.listdir("/") == []  # the session is still good
    assert sandbox.calls_to("/out", "mkdir")[0].status == 4


def test_a_timeout_fault_hangs_then_handles_the_call(sandbox: SftpSandbox) -> None:
    sandbox.configure(hang=0.05)
    sandbox.inject(Fault.TIMEOUT, where=lambda op, path: op == "mkdir")
    with connect(sandbox) as session:
        session.sftp.mkdir("/out")
    assert sandbox.data.joinpath("out").is_dir()
    assert sandbox.calls_to("/out", "mkdir")[0].fault is Fault.TIMEOUT


def test_a_call_that_outlasts_the_timeout_is_a_transient_error(sandbox: SftpSandbox) -> None:
    sandbox.configure(hang=5.0)  # cut short by the next reset
    sandbox.inject(Fault.TIMEOUT, where=lambda op, path: op == "list")
    with pytest.raises(TransientError, match="no answer within 0.2 s"):
        with connect(sandbox, timeout=0.2) as session:
            session.sftp.listdir("/")


def test_a_refused_connection_is_a_transient_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientError, match="refused"):
        open_sftp("127.0.0.1", port, "tramo", password="x", host_key_fingerprint=fingerprint(KEYS[0]),
                  timeout=1.0)


# -- fingerprints ----------------------------------------------------------------

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@st.composite
def sha256_spellings(draw: st.DrawFn, digest: bytes) -> tuple[str, int, int]:
    """A spelling of the digest's fingerprint, and where its base64 body starts and ends."""
    body = base64.b64encode(digest).decode("ascii")
    if draw(st.booleans()):
        body = body.rstrip("=")
    prefix = draw(st.sampled_from(["SHA256:", "sha256:", ""]))
    before, after = draw(st.sampled_from(["", " "])), draw(st.sampled_from(["", "\n"]))
    start = len(before) + len(prefix)
    return before + prefix + body + after, start, start + len(body)


def typos(spelling: str, start: int, end: int) -> st.SearchStrategy[tuple[int, str]]:
    """(position, character) changing one character of the body.

    Half the time it is the last significant base64 digit changed in its two
    low bits, which 43 digits cannot carry: the typo a lax decoder accepts.
    """
    last = start + 42
    group = B64.index(spelling[last]) // 4 * 4
    return st.one_of(
        st.tuples(st.integers(start, end - 1), st.sampled_from(B64 + "=-_:. ")),
        st.tuples(st.just(last), st.sampled_from(B64[group:group + 4])),
    ).filter(lambda change: change[1] != spelling[change[0]])


def _refused(check: Any) -> bool:
    try:
        return not check()
    except ConfigurationError:
        return True


@given(st.binary(min_size=32, max_size=32), st.data())
def test_every_spelling_of_a_sha256_fingerprint_means_it_and_every_typo_does_not(
        digest: bytes, data: st.DataObject) -> None:
    canonical = "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")
    spelling, start, end = data.draw(sha256_spellings(digest))
    assert normalize_fingerprint(spelling) == canonical
    at, typo = data.draw(typos(spelling, start, end))
    changed = spelling[:at] + typo + spelling[at + 1:]
    assert _refused(lambda: normalize_fingerprint(changed) == canonical)


@given(st.sampled_from(KEYS), st.data())
def test_a_key_matches_its_fingerprints_in_every_form_and_no_other_key_does(
        key: paramiko.PKey, data: st.DataObject) -> None:
    digest = base64.b64decode(fingerprint(key).removeprefix("SHA256:") + "=")
    spelling, start, end = data.draw(sha256_spellings(digest))
    md5 = md5_fingerprint(key).removeprefix("MD5:")
    md5 = data.draw(st.sampled_from([md5, md5.upper(), md5.replace(":", "")]))
    md5 = data.draw(st.sampled_from(["MD5:", "md5:", ""])) + md5
    for pinned in (spelling, md5):
        assert fingerprint_matches(key, pinned)
        assert not any(fingerprint_matches(other, pinned) for other in KEYS if other != key)
    at, typo = data.draw(typos(spelling, start, end))
    assert _refused(lambda: fingerprint_matches(key, spelling[:at] + typo + spelling[at + 1:]))


def test_fingerprints_are_what_openssh_prints() -> None:
    key = KEYS[0]
    assert fingerprint(key) == key.fingerprint  # paramiko's own, OpenSSH-compatible
    assert md5_fingerprint(key) == "MD5:" + key.get_fingerprint().hex(":")
    assert normalize_fingerprint(md5_fingerprint(key).upper().replace("MD5:", "")) == md5_fingerprint(key)
