"""Timeouts, clients that misbehave, descriptor and buffer exhaustion,
shutdown with connections open, and that every connection's resources are
released. (Files that change while sent and resets mid-response are
test_faults.py's, max_connections test_crowd.py's.)"""

import os
import random
import resource
import select
import shutil
import signal

import pytest

from rhtest import (STOP_TIMEOUT, Client, open_server_conns, req, sha, socket_fds,
                    unread_by_server, wait_until, write_files)

BIG = 64 * 1024 * 1024
DATA = random.Random(64).randbytes(BIG)
SMALL = b"small and always there\n"
FILES = {"small.txt": SMALL, "big.bin": DATA}


def closed_by_timeout(data):
    """What a connection closed for a timeout may have received: nothing,
    or one 408 response."""
    return data == b"" or data.startswith(b"HTTP/1.1 408 ")


def assert_released(srv, sockets_at_start):
    """Every connection the server accepted is closed again and its
    descriptor gone (polled: the server closes asynchronously)."""
    wait_until(lambda: open_server_conns(srv.port) == 0, 15,
               "the server to close every connection")
    wait_until(lambda: socket_fds(srv.pid) == sockets_at_start, 15,
               f"the server's socket count to return to {sockets_at_start}")


# ---------------------------------------------------------------- timeouts

def test_partial_request_closed_after_header_timeout(servers, root):
    srv = servers.start(root, {"header_timeout": 1})
    with Client(srv.port) as c:
        c.send(b"GET /small.txt HTTP/1.1\r\nHost: t\r\n")
        assert closed_by_timeout(c.expect_eof(timeout=8))
    assert srv.fetch("/small.txt").body == SMALL


def test_silent_connection_closed(servers, root):
    srv = servers.start(root, {"header_timeout": 1, "keepalive_timeout": 1})
    with Client(srv.port) as c:
        assert closed_by_timeout(c.expect_eof(timeout=8))


def test_slow_head_closed_after_header_timeout(servers, root):
    """A byte every 0.2 s never completes the head: header_timeout bounds
    the whole head, not the gap between bytes."""
    srv = servers.start(root, {"header_timeout": 2})
    with Client(srv.port) as c:
        c.send(b"GET /small.txt HTTP/1.1\r\nX-Slow: ")
        closed = False
        for _ in range(60):     # 12 s at most
            if select.select([c.sock], [], [], 0.2)[0]:
                closed = closed_by_timeout(c.expect_eof(timeout=5))
                break
            try:
                c.send(b"x")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        assert closed, "a slowly trickling request head was never closed"


def test_idle_keep_alive_closed(servers, root):
    srv = servers.start(root, {"keepalive_timeout": 1})
    with Client(srv.port) as c:
        c.send(req("/small.txt"))
        assert c.response().body == SMALL
        assert closed_by_timeout(c.expect_eof(timeout=8))


# -------------------------------------------------- misbehaving clients

@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit (util-linux) is not installed")
def test_descriptor_exhaustion(servers, root):
    """Out of descriptors while running (the soft RLIMIT_NOFILE lowered
    under it): a file that cannot be opened is answered 503 and logged,
    files already open are still served, and once descriptors are back
    every file is served and the descriptor count returns to its quiet
    value."""
    names = [f"f{i}.txt" for i in range(30)]
    write_files(root, {n: n.encode() for n in names})
    srv = servers.start(root, {"cpu_limit": 1})
    assert srv.fetch("/small.txt").body == SMALL
    quiet = len(os.listdir(f"/proc/{srv.pid}/fd"))
    soft, hard = resource.prlimit(srv.pid, resource.RLIMIT_NOFILE)
    statuses = []
    c = Client(srv.port)
    try:
        mark = srv.line_count()
        resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (quiet + 10, hard))
        for n in names:
            c.send(req("/" + n))
            r = c.response()
            assert (r.status, r.body) in ((200, n.encode()), (503, r.body)), r
            statuses.append(r.status)
        assert 503 in statuses and 200 in statuses
        srv.wait_line(r"^warning: .*out of file descriptors", timeout=10, start=mark)
        c.send(req("/small.txt"))
        assert c.response().body == SMALL
    finally:
        resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (soft, hard))
        c.close()
    for n in names:
        assert srv.fetch("/" + n).body == n.encode()
    srv.stop()


def test_buffer_exhaustion(servers, root):
    """With buffer_size 1 MiB the pool holds few buffers; 80 clients with
    unfinished heads need more. Each gets a complete, well-formed response
    (Server, Date, Connection included): the file, or 503 and a close."""
    srv = servers.start(root, {"buffer_size": 1 << 20})
    clients = []
    try:
        for _ in range(80):
            clients.append(Client(srv.port))
            clients[-1].send(b"GET /small.txt HTTP/1.1\r\nHost: t\r\n")
        wait_until(lambda: unread_by_server(srv.port) == 0, 10,
                   "the server to read every unfinished head")
        for c in clients:
            try:
                c.send(b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass    # already answered with 503 and closed
        for i, c in enumerate(clients):
            r = c.response()
            if r.status == 503:
                assert r["Connection"] == "close", f"client {i}: {r}"
                assert c.expect_eof() == b""
            else:
                assert (r.status, r.body) == (200, SMALL), f"client {i}: {r}"
    finally:
        for c in clients:
            c.close()
    assert srv.fetch("/small.txt").body == SMALL


def test_connections_are_released(servers, root):
    """After a mix of clients (keep-alive, reset mid-body, partial heads,
    bad requests, stalled) all go away, the server holds as many sockets
    as at start and no connection is left open."""
    srv = servers.start(root, {"header_timeout": 1, "keepalive_timeout": 10})
    sockets = socket_fds(srv.pid)
    assert open_server_conns(srv.port) == 0
    idle = []
    for _ in range(20):
        c = Client(srv.port)
        idle.append(c)
        c.send(req("/small.txt"))
        assert c.response().body == SMALL
    assert open_server_conns(srv.port) >= 20     # the probe sees them
    for c in idle:
        c.close()
    for _ in range(5):
        c = Client(srv.port)
        c.send(req("/big.bin"))
        c.response(max_body=1 << 16)
        c.reset()
    for _ in range(5):
        with Client(srv.port) as c:
            c.send(b"GET /small.txt HTTP/1.1\r\nHo")
    for _ in range(5):
        Client(srv.port).close()
    for _ in range(5):
        with Client(srv.port) as c:
            c.send(b"NONSENSE\r\n\r\n")
            assert c.response().status == 400
            c.expect_eof()
    stalled = [Client(srv.port) for _ in range(3)]
    for c in stalled:
        c.send(b"GET /small.txt HTTP/1.1\r\n")
    for c in stalled:
        assert closed_by_timeout(c.expect_eof(timeout=8))
        c.close()
    assert_released(srv, sockets)


# ---------------------------------------------------------------- shutdown

def test_sigterm_finishes_response_in_flight(servers, root):
    srv = servers.start(root)
    with Client(srv.port) as c:
        c.send(req("/big.bin"))
        first = c.response(max_body=1 << 16)
        srv.signal(signal.SIGTERM)
        rest = c.read_exact(BIG - len(first.body), timeout=60)
        assert sha(first.body + rest) == sha(DATA)
        assert c.expect_eof() == b""
    srv.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_closes_idle_connections(servers, root, sig):
    """An idle keep-alive connection (keepalive_timeout 75 s) does not hold
    up the exit."""
    srv = servers.start(root)
    with Client(srv.port) as c:
        c.send(req("/small.txt"))
        assert c.response().body == SMALL
        srv.signal(sig)
        assert c.expect_eof(timeout=STOP_TIMEOUT) == b""
    srv.stop()
