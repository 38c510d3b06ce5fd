"""tramo.exchange (sessions reopened, operations retried) and tramo.inbox (import once, lose nothing),
against real SFTP and FTP servers on loopback."""

from __future__ import annotations

import contextlib
import hashlib
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tramo.errors import ConfigurationError, PlatformError, RetriesExhaustedError, ValidationError
from tramo.exchange import Exchange, open_session
from tramo.http import RetryPolicy
from tramo.inbox import REPORT_SUFFIX, Inbox
from tramo.model import Outcome, WriteResult
from tramo.sandbox import Fault, FtpSandbox, Sandbox, SftpSandbox
from tramo.state import StateStore
from tramo.writes import write_together

FAST = RetryPolicy(attempts=3, backoff=0.001, max_backoff=0.002)
RENAMES = ("rename", "posix_rename", "RNFR", "RNTO")


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Sandbox]]:
    with contextlib.ExitStack() as stack:
        yield {"sftp": stack.enter_context(SftpSandbox()),
               "ftps": stack.enter_context(FtpSandbox("ftps"))}


@pytest.fixture(params=["sftp", "ftps"])
def server(request: pytest.FixtureRequest, servers: dict[str, Sandbox]) -> Sandbox:
    found = servers[request.param]
    found.reset()
    return found


def settings_of(server: Sandbox) -> dict[str, object]:
    return {"transport": "sftp", **server.settings}


@pytest.fixture
def exchange(server: Sandbox) -> Iterator[Exchange]:
    with contextlib.closing(Exchange(settings_of(server), timeout=10, retry=FAST)) as opened:
        yield opened


def drop(server: Sandbox, name: str, content: bytes, folder: str = "in") -> None:
    path = Path(server.data) / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / name).write_bytes(content)


def files(server: Sandbox, folder: str) -> list[str]:
    path = Path(server.data) / folder
    return sorted(p.name for p in path.iterdir() if p.is_file()) if path.is_dir() else []


def inbox_of(exchange: Exchange, state: StateStore) -> Inbox:
    return Inbox(exchange, state.for_connection("t"), incoming="in", processed="in/done",
                 quarantine="in/bad")


def take(inbox: Inbox) -> list[tuple[str, frozenset[str], bytes]]:
    """Each arrival's name, acknowledged keys and content; every record in it expected as its lines."""
    seen = []
    for arrival in inbox.arrivals():
        content = arrival.path.read_bytes()
        inbox.expect(arrival, content.decode().split())
        seen.append((arrival.name, arrival.acknowledged, content))
    return seen


# -- sessions ------------------------------------------------------------------------------


def test_open_session_refuses_an_unknown_transport_and_plain_ftp_not_allowed() -> None:
    with pytest.raises(ConfigurationError, match="'gopher' is not one of sftp, ftps, ftp"):
        open_session({"transport": "gopher", "host": "127.0.0.1", "username": "u"})
    with pytest.raises(ConfigurationError, match="allow_plain_ftp"):
        open_session({"transport": "ftp", "host": "127.0.0.1", "username": "u", "password": "p"})


def test_a_dropped_connection_is_reopened_and_the_operation_tried_again(
        server: Sandbox, exchange: Exchange) -> None:
    drop(server, "a.xml", b"1")
    exchange.folder()  # logged in
    server.inject(Fault.DROPPED, where=lambda method, path: method in ("list", "MLSD"))
    assert [f.name for f in exchange.run("list", lambda f: f.list("in"))] == ["a.xml"]
    assert exchange.sessions == 2


def test_what_retrying_cannot_mend_goes_up_at_once(server: Sandbox, exchange: Exchange) -> None:
    with pytest.raises(PlatformError) as caught:
        exchange.run("list", lambda f: f.list("nowhere"))
    assert caught.value.code == "not_found"
    assert exchange.sessions == 1


def test_a_server_failing_every_try_is_retries_exhausted(server: Sandbox, exchange: Exchange) -> None:
    drop(server, "a.xml", b"1")
    server.inject(Fault.SERVER_ERROR, times=FAST.attempts,
                  where=lambda method, path: method in ("list", "MLSD"))
    with pytest.raises(RetriesExhaustedError, match="could not list.*after 3 tries"):
        exchange.run("list", lambda f: f.list("in"))


# -- the inbox -------------------------------------------------------------------------------


def test_files_come_until_every_record_is_acknowledged_then_move_to_processed(
        server: Sandbox, exchange: Exchange) -> None:
    drop(server, "1.xml", b"A B")
    drop(server, "2.xml", b"C")
    drop(server, ".3.xml.part", b"an upload in progress")
    drop(server, "notes.txt", b"not a file to import")
    state = StateStore()
    inbox = inbox_of(exchange, state)
    assert [name for name, _, _ in take(inbox)] == ["1.xml", "2.xml"]
    assert inbox.acknowledge(["A", "C"]) == {"A": None, "C": None}
    assert files(server, "in/done") == ["2.xml"]
    assert [(name, acked) for name, acked, _ in take(inbox)] == [("1.xml", frozenset({"A"}))]
    assert inbox.acknowledge(["B"]) == {"B": None}
    assert files(server, "in/done") == ["1.xml", "2.xml"]
    assert take(inbox) == []
    assert inbox.acknowledge(["B"]) == {"B": None}, "acknowledging again is fine"
    unknown = inbox.acknowledge(["Z"])["Z"]
    assert isinstance(unknown, PlatformError) and unknown.code == "not_found"


def test_a_crash_between_the_commit_and_the_move_imports_nothing_twice_and_loses_nothing(
        server: Sandbox, exchange: Exchange) -> None:
    drop(server, "1.xml", b"A")
    state = StateStore()
    assert [name for name, _, _ in take(inbox_of(exchange, state))] == ["1.xml"]
    crashing = [True]  # every rename fails until the "crash" is over
    server.inject(Fault.SERVER_ERROR, times=100,
                  where=lambda method, path: crashing[0] and method in RENAMES)
    error = inbox_of(exchange, state).acknowledge(["A"])["A"]
    crashing[0] = False
    assert isinstance(error, RetriesExhaustedError), "the move failed: the host is told"
    assert files(server, "in") == ["1.xml"]
    # a new process on the same state: the acknowledgement stands, the move is finished
    with contextlib.closing(Exchange(settings_of(server), timeout=10, retry=FAST)) as again:
        assert take(inbox_of(again, state)) == []
    assert files(server, "in") == [] and files(server, "in/done") == ["1.xml"]


def test_the_same_name_with_new_content_is_a_new_file_and_both_copies_are_kept(
        server: Sandbox, exchange: Exchange) -> None:
    state = StateStore()
    inbox = inbox_of(exchange, state)
    drop(server, "1.xml", b"A")
    take(inbox)
    inbox.acknowledge(["A"])
    drop(server, "1.xml", b"A B")
    assert [(n, a) for n, a, _ in take(inbox)] == [("1.xml", frozenset())]
    inbox.acknowledge(["A", "B"])
    digest = hashlib.sha256(b"A B").hexdigest()[:12]
    assert files(server, "in/done") == sorted(["1.xml", f"1.{digest}.xml"])


def test_a_file_seen_before_is_not_imported_again(server: Sandbox, exchange: Exchange) -> None:
    state = StateStore()
    inbox = inbox_of(exchange, state)
    drop(server, "1.xml", b"A")
    take(inbox)
    inbox.acknowledge(["A"])
    drop(server, "1.xml", b"A")  # the other side sent it again
    assert take(inbox) == []
    assert files(server, "in") == []


def test_a_file_set_aside_goes_to_quarantine_with_its_report_first(
        server: Sandbox, exchange: Exchange) -> None:
    drop(server, "1.xml", b"<broken")
    drop(server, "2.xml", b"A")
    inbox = inbox_of(exchange, StateStore())
    kept = []
    for arrival in inbox.arrivals():
        if arrival.name == "1.xml":
            inbox.set_aside(arrival, ["line 1: not well-formed XML"])
        else:
            kept.append(arrival.name)
    assert kept == ["2.xml"]
    assert files(server, "in/bad") == ["1.xml", "1.xml" + REPORT_SUFFIX]
    report = (Path(server.data) / "in/bad" / ("1.xml" + REPORT_SUFFIX)).read_text()
    assert "line 1: not well-formed XML" in report and "sha256" in report


def test_a_large_file_is_spooled_to_disk_not_held_in_memory(server: Sandbox, exchange: Exchange) -> None:
    content = bytes(range(256)) * (16 * 4096)  # 16 MB
    drop(server, "big.xml", content)
    inbox = inbox_of(exchange, StateStore())
    tracemalloc.start()
    try:
        [arrival] = list(_arrivals_checked(inbox, content))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert arrival.size == len(content)
    # bounded by the transport's read-ahead window and buffers (client and server share this
    # process), never by the file's size
    assert peak < len(content) // 3, f"peak {peak} bytes for a 16 MB file"


def _arrivals_checked(inbox: Inbox, content: bytes) -> Iterator[object]:
    for arrival in inbox.arrivals():
        assert arrival.digest == hashlib.sha256(content).hexdigest()
        assert arrival.path.stat().st_size == len(content)
        yield arrival
    # the spool file is gone once the next arrival is asked for
    assert not arrival.path.exists()


# -- batches ---------------------------------------------------------------------------------


def test_write_together_holds_the_refused_and_sends_the_rest_in_one_batch() -> None:
    batches: list[list[int]] = []

    def body(n: int) -> int:
        if n < 0:
            raise ValidationError("n", n, "is negative")
        return n * 10

    def send(pairs: list[tuple[int, int]]) -> list[WriteResult]:
        batches.append([b for _, b in pairs])
        return [WriteResult(str(n), Outcome.CREATED) for n, _ in pairs]

    results = write_together([1, -1, 2], str, body, send)
    assert [r.outcome for r in results] == [Outcome.CREATED, Outcome.HELD, Outcome.CREATED]
    assert batches == [[10, 20]]


def test_write_together_fails_the_whole_batch_when_the_send_fails() -> None:
    def send(pairs: list[tuple[int, int]]) -> list[WriteResult]:
        raise RetriesExhaustedError("could not upload", 3)

    results = write_together([1, 2], str, lambda n: n, send)
    assert [r.outcome for r in results] == [Outcome.FAILED, Outcome.FAILED]
    assert all(isinstance(r.error, RetriesExhaustedError) for r in results)
    assert write_together([], str, lambda n: n, send) == []


def test_a_name_that_could_leave_the_folder_is_reported_and_never_opened(
        server: Sandbox, exchange: Exchange) -> None:
    drop(server, "..\\..\\evil.xml", b"X")  # a legal name on the server's disk
    drop(server, "ok.xml", b"B")
    inbox = inbox_of(exchange, StateStore())
    assert [name for name, _, _ in take(inbox)] == ["ok.xml"]
    assert [(name, error.code) for name, error in inbox.refused] == [("..\\..\\evil.xml", "unsafe_name")]
    assert files(server, "in") == ["..\\..\\evil.xml", "ok.xml"], "left where it is, unread"
