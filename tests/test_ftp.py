"""FTP and FTPS sessions against a real pyftpdlib server on loopback: trust, credentials, files, faults."""

from __future__ import annotations

import ftplib
import io
import logging
import socket
import ssl
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from tramo.errors import AuthenticationError, ConfigurationError, TransientError
from tramo.ftp import FtpSession, open_ftp, open_ftp_from_settings
from tramo.sandbox import Fault, FtpSandbox
from tramo.secrets import Secret

TIMEOUT = 3.0


@pytest.fixture(scope="module")
def running_ftps() -> Iterator[FtpSandbox]:
    with FtpSandbox("ftps") as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def running_plain() -> Iterator[FtpSandbox]:
    with FtpSandbox("ftp") as sandbox:
        yield sandbox


@pytest.fixture
def ftps(running_ftps: FtpSandbox) -> FtpSandbox:
    running_ftps.reset()
    return running_ftps


@pytest.fixture
def plain(running_plain: FtpSandbox) -> FtpSandbox:
    running_plain.reset()
    return running_plain


def connect(sandbox: FtpSandbox, **options: Any) -> FtpSession:
    """A session to the sandbox as its settings say, unless ``options`` say otherwise."""
    settings = sandbox.settings
    password = options.pop("password", settings["password"])
    kwargs: dict[str, Any] = {"tls": settings["transport"] == "ftps",
                              "allow_plain": settings["allow_plain_ftp"],
                              "ca_file": settings["ca_file"], "timeout": TIMEOUT}
    kwargs.update(options)
    return open_ftp(settings["host"], settings["port"], settings["username"], password, **kwargs)


def commands(sandbox: FtpSandbox) -> list[str]:
    return [c.method for c in sandbox.calls]


def other_ca_file(tmp_path: Path) -> str:
    path = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


# -- FTPS ------------------------------------------------------------------------


def test_ftps_logs_in_and_moves_files_over_encrypted_channels(ftps: FtpSandbox) -> None:
    with open_ftp_from_settings(ftps.settings, timeout=TIMEOUT) as session:
        assert session.tls and {"MLST", "UTF8"} <= session.features and session.home == "/"
        ftp = session.ftp
        assert isinstance(ftp.sock, ssl.SSLSocket)  # TLS on the control channel
        ftp.mkd("/pedidos")
        ftp.storbinary("STOR /pedidos/1.xml", io.BytesIO(b"<pedido>1</pedido>"))
        ftps.data.joinpath("pedidos", "2.xml").write_bytes(b"<pedido>2</pedido>")
        listed = {name: facts["size"] for name, facts in ftp.mlsd("/pedidos")}
        assert listed == {"1.xml": "18", "2.xml": "18"}
        got: list[bytes] = []
        ftp.retrbinary("RETR /pedidos/2.xml", got.append)
        assert b"".join(got) == b"<pedido>2</pedido>"
    assert ftps.data.joinpath("pedidos", "1.xml").read_bytes() == b"<pedido>1</pedido>"
    seen = commands(ftps)
    assert seen[:5] == ["AUTH", "USER", "PASS", "PBSZ", "PROT"]  # TLS first, PROT P before data
    assert [c.query for c in ftps.calls_to("/pedidos/1.xml", "STOR")] == [""]
    assert ftps.calls_to("/pedidos", "MKD")[0].status == 257


def test_the_sandbox_insists_on_encrypted_data_channels(ftps: FtpSandbox) -> None:
    context = ssl.create_default_context(cafile=ftps.ca_file)
    ftp = ftplib.FTP_TLS(context=context, timeout=TIMEOUT)
    try:
        ftp.connect(ftps.host, ftps.bound_port)
        ftp.login(ftps.username, ftps.password)  # AUTH TLS, but no PROT P afterwards
        with pytest.raises(ftplib.error_perm, match="550"):
            ftp.nlst("/")
    finally:
        ftp.close()


def test_a_certificate_from_another_authority_is_refused_before_the_password_is_sent(
        ftps: FtpSandbox, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        connect(ftps, ca_file=other_ca_file(tmp_path))
    message = str(caught.value)
    assert f"127.0.0.1:{ftps.bound_port}" in message and "ca_file" in message
    assert "certificate" in message and ftps.password not in message
    assert commands(ftps) == ["AUTH"]  # neither USER nor PASS reached the server


def test_without_a_ca_file_only_the_system_authorities_are_trusted(ftps: FtpSandbox) -> None:
    with pytest.raises(ConfigurationError, match="does not verify"):
        connect(ftps, ca_file=None)
    assert "PASS" not in commands(ftps)


def test_an_unreadable_ca_file_is_a_configuration_error(ftps: FtpSandbox, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ca_file"):
        connect(ftps, ca_file=str(tmp_path / "missing.pem"))
    assert commands(ftps) == []


def test_a_server_without_tls_is_refused_when_ftps_is_asked(plain: FtpSandbox) -> None:
    with pytest.raises(ConfigurationError, match="does not offer explicit TLS"):
        connect(plain, tls=True)
    assert commands(plain) == ["AUTH"]


# -- credentials -----------------------------------------------------------------


def test_a_wrong_password_is_an_authentication_error_that_never_shows_it(
        ftps: FtpSandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-pa55word-4-tramo"
    with pytest.raises(AuthenticationError) as caught:
        connect(ftps, password=Secret(wrong))
    error = caught.value
    shown = [str(error), repr(error), repr(error.args),
             "".join(traceback.format_exception(error)), caplog.text]
    assert not any(wrong in text for text in shown)
    assert error.__cause__ is None and error.__suppress_context__
    assert f"127.0.0.1:{ftps.bound_port}" in str(error) and "'tramo'" in str(error)
    assert [(c.method, c.path, c.status) for c in ftps.calls if c.method == "PASS"] == [
        ("PASS", "tramo", 530)]
    # nor does the right one, on the way in or out of a working session
    with connect(ftps, password=Secret(ftps.password)) as session:
        assert ftps.password not in repr(session)
        assert "FTPS tramo@127.0.0.1" in repr(session)
    assert ftps.password not in caplog.text and "PASS" in caplog.text  # pyftpdlib did log it


def test_a_plain_login_to_a_server_that_requires_tls_sends_no_password(ftps: FtpSandbox) -> None:
    with pytest.raises(ConfigurationError, match="refused the login"):
        connect(ftps, tls=False, allow_plain=True)
    assert commands(ftps) == ["USER"]


# -- plain FTP -------------------------------------------------------------------


def test_plain_ftp_is_refused_unless_explicitly_allowed(plain: FtpSandbox) -> None:
    with pytest.raises(ConfigurationError, match="allow_plain_ftp"):
        connect(plain, tls=False, allow_plain=False)
    settings = dict(plain.settings, allow_plain_ftp=False)
    with pytest.raises(ConfigurationError, match="in clear"):
        open_ftp_from_settings(settings, timeout=TIMEOUT)
    assert commands(plain) == []  # refused before connecting


def test_allowed_plain_ftp_works_and_warns_once_per_session(
        plain: FtpSandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tramo.ftp")
    with open_ftp_from_settings(dict(plain.settings, allow_plain_ftp="true"),
                                timeout=TIMEOUT) as session:
        assert not session.tls
        session.ftp.storbinary("STOR /a.txt", io.BytesIO(b"a"))
        session.ftp.voidcmd("NOOP")
    warnings = [r for r in caplog.records if r.name == "tramo.ftp"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert "unencrypted" in warnings[0].getMessage()
    assert plain.password not in caplog.text
    assert plain.data.joinpath("a.txt").read_bytes() == b"a"


def test_settings_name_a_known_transport_and_a_boolean_flag(plain: FtpSandbox) -> None:
    with pytest.raises(ConfigurationError, match="not one of ftps, ftp"):
        open_ftp_from_settings(dict(plain.settings, transport="sftp"))
    with pytest.raises(ConfigurationError, match="true or false"):
        open_ftp_from_settings(dict(plain.settings, allow_plain_ftp="sometimes"))


# -- faults ----------------------------------------------------------------------


def test_a_dropped_connection_is_a_transient_error(ftps: FtpSandbox) -> None:
    ftps.inject(Fault.DROPPED, where=lambda command, path: command == "MKD")
    with pytest.raises(TransientError, match="was lost"), connect(ftps) as session:
        session.ftp.mkd("/out")
    assert session.closed and not session.connected
    assert not ftps.data.joinpath("out").exists()
    [call] = ftps.calls_to("/out", "MKD")
    assert (call.status, call.fault) == (None, Fault.DROPPED)
    with connect(ftps) as again:  # the server itself carries on
        again.ftp.mkd("/out")
    assert ftps.data.joinpath("out").is_dir()


def test_a_connection_dropped_during_the_login_is_a_transient_error(ftps: FtpSandbox) -> None:
    ftps.inject(Fault.DROPPED, where=lambda command, path: command == "USER")
    with pytest.raises(TransientError, match="could not reach"):
        connect(ftps)


def test_a_server_error_is_a_451_that_fails_the_command_only(ftps: FtpSandbox) -> None:
    ftps.inject(Fault.SERVER_ERROR, where=lambda command, path: command == "MKD")
    with connect(ftps) as session:
        with pytest.raises(ftplib.error_temp, match="451") as caught:
            session.ftp.mkd("/out")
        error = session.failure(caught.value, "creating /out")
        assert isinstance(error, TransientError) and session.connected
        assert session.ftp.nlst("/") == []  # the session is still good
    assert ftps.calls_to("/out", "MKD")[0].status == 451


def test_a_command_that_outlasts_the_timeout_is_a_transient_error(ftps: FtpSandbox) -> None:
    ftps.configure(hang=5.0)  # cut short by the next reset
    ftps.inject(Fault.TIMEOUT, where=lambda command, path: command == "MKD")
    with pytest.raises(TransientError, match="no answer within 0.2 s"), \
            connect(ftps, timeout=0.2) as session:
        session.ftp.mkd("/out")


def test_a_timeout_fault_hangs_then_handles_the_command(plain: FtpSandbox) -> None:
    plain.configure(hang=0.05)
    plain.inject(Fault.TIMEOUT, where=lambda command, path: command == "MKD")
    with connect(plain) as session:
        session.ftp.mkd("/out")
    assert plain.data.joinpath("out").is_dir()
    assert plain.calls_to("/out", "MKD")[0].fault is Fault.TIMEOUT


def test_a_refused_connection_is_a_transient_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientError, match="refused"):
        open_ftp("127.0.0.1", port, "tramo", "x", timeout=1.0)


# -- the sandbox -----------------------------------------------------------------


def test_reset_gives_an_empty_root_even_to_an_open_session(plain: FtpSandbox) -> None:
    with connect(plain) as session:
        session.ftp.storbinary("STOR /a.txt", io.BytesIO(b"a"))
        before = plain.data
        plain.reset()
        assert plain.data != before and session.ftp.nlst("/") == []
    assert before.joinpath("a.txt").exists()  # removed on stop, not here


def test_sandboxes_stop_on_their_own_and_remove_every_file() -> None:
    first, second = FtpSandbox("ftps"), FtpSandbox("ftp")
    with first, second:
        ca_file = Path(first.ca_file or "")
        session = connect(second)
        first.stop()  # pyftpdlib's threaded server shares a stop flag per class: not here
        session.ftp.voidcmd("NOOP")
        session.close()
        roots = [first.data, second.data]
    assert not ca_file.exists() and not any(root.exists() for root in roots)
    with pytest.raises(RuntimeError, match="not running"):
        first.settings  # noqa: B018
