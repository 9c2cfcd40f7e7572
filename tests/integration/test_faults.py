"""Faults survived and hostile clients: a client that resets or half-closes
mid-response; a file truncated, deleted or replaced while it is sent; the
document root renamed away and back; descriptor exhaustion; a journald
that stops reading, then goes away; a full disk under the access log;
SIGHUP a hundred times under load; SIGTERM with 1,000 responses in
flight; 2,000 connections that trickle a header byte at a time; and
max_connections_per_ip.

After each fault the server still answers with the exact bytes, its
connections (the /proc TCP table) and its descriptors (/proc/PID/fd; the
spare splice pipes and the file cache's descriptors are bounded apart)
return to their quiet count, and what the test can
count (responses, bytes, journal entries and drops) adds up. No timing is
asserted beyond generous deadlines; every wait polls."""

import os
import random
import re
import resource
import select
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter

import pytest

from rhtest import (Client, Crowd, Journal, Notify, base_settings, exact, ipv6_loopback,
                    need_nofile, new_limited, open_server_conns, raise_nofile, req, sha,
                    wait_until, write_files)

_rnd = random.Random(1010)
SMALL = _rnd.randbytes(1500)
MID = _rnd.randbytes(100 * 1000)
BIG = _rnd.randbytes(10 * 1000 * 1000)
BIG2 = _rnd.randbytes(10 * 1000 * 1000 + 17)

raise_nofile()      # the crowds' descriptors; servers started here inherit it
# splice_threshold 0 sends a large file with splice, a huge one with read+send
PATHS = pytest.mark.parametrize("splice_threshold", [0, 1 << 30], ids=["splice", "read"])


def need_root():
    if os.geteuid() != 0:
        pytest.skip("needs root")


@pytest.fixture
def root(tmp_path):
    """A root of each test's own: the tests change its files."""
    root = tmp_path / "root"
    write_files(root, {"small.bin": SMALL, "mid.bin": MID, "big.bin": BIG})
    return root


# ------------------------------------------------------------------ helpers

def descriptors(pid, root):
    """(the count of PID's open descriptors other than pipes and files
    under ROOT, [the paths of those files]). A ring keeps spare splice
    pipes (as many as its load needed) and, in its cache, a descriptor of
    each file it served: both vary with which ring served what."""
    other, files = 0, []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        if link.startswith(str(root) + "/"):
            files.append(link)
        elif not link.startswith("pipe:"):
            other += 1
    return other, files


class Quiet:
    """The server's quiet state: no connection open on its ports, and its
    descriptors other than pipes and cached files (see descriptors()).
    check() waits for both to come back and bounds the cached files: at
    most one descriptor per ring for each file in ROOT, none of a deleted
    one."""

    def __init__(self, srv, root, ports=None):
        self.srv, self.root = srv, root
        self.ports = ports or [srv.port]
        self.wait_conns()
        self.fds = descriptors(srv.pid, root)[0]

    def wait_conns(self):
        for port in self.ports:
            wait_until(lambda: open_server_conns(port) == 0, 20,
                       f"every connection on port {port} closed by the server "
                       f"(open: {open_server_conns(port)})")

    def check(self):
        self.wait_conns()
        wait_until(lambda: descriptors(self.srv.pid, self.root)[0] == self.fds, 20,
                   f"the descriptor count back at {self.fds} "
                   f"(it is {descriptors(self.srv.pid, self.root)[0]})")
        files = Counter(descriptors(self.srv.pid, self.root)[1])
        assert all(n <= self.srv.rings for n in files.values()), files
        assert not [f for f in files if f.endswith(" (deleted)")], files


class Download:
    """One GET on a socket with a small receive buffer, read as slowly as
    the test likes: head(), then body(n) for the next N bytes, rest() for
    what comes until the server closes."""

    def __init__(self, port, target, rcvbuf=65536, close=True, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(20)
        self.sock.connect((host, port))
        hdrs = {"Connection": "close"} if close else {}
        self.sock.sendall(req(target, headers=hdrs))
        self.buf = bytearray()
        self.length = None
        self.got = bytearray()

    def _recv(self, timeout=20):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            raise AssertionError(f"nothing received for {timeout}s")
        try:
            return self.sock.recv(1 << 16)
        except ConnectionResetError:
            return b""

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            chunk = self._recv()
            assert chunk, f"closed before a head: {bytes(self.buf)!r}"
            self.buf += chunk
        end = self.buf.index(b"\r\n\r\n") + 4
        head = bytes(self.buf[:end])
        self.got += self.buf[end:]
        del self.buf[:]
        assert head.startswith(b"HTTP/1.1 200 "), head
        self.length = int(re.search(rb"\r\nContent-Length: (\d+)\r\n", head).group(1))
        return head

    def body(self, n):
        while len(self.got) < n:
            chunk = self._recv()
            assert chunk, f"closed after {len(self.got)} body bytes"
            self.got += chunk
        return bytes(self.got[:n])

    def rest(self, timeout=60, pause=0.0):
        """Read until EOF (or a reset); True if it came within TIMEOUT."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = self._recv(max(deadline - time.monotonic(), 0.01))
            if not chunk:
                return True
            self.got += chunk
            if pause:
                time.sleep(pause)
        return False

    def close(self):
        self.sock.close()


def bound_client(port, source, timeout=10):
    """A Client whose socket is bound to the source address SOURCE."""
    c = Client.__new__(Client)
    family = socket.AF_INET6 if ":" in source else socket.AF_INET
    c.sock = socket.socket(family, socket.SOCK_STREAM)
    c.sock.settimeout(timeout)
    c.sock.bind((source, 0))
    c.sock.connect(("::1" if family == socket.AF_INET6 else "127.0.0.1", port))
    c.timeout = timeout
    c.buf = bytearray()
    return c


# ------------------------------------------------ clients that go away early

@PATHS
def test_reset_mid_response(servers, root, splice_threshold):
    """20 clients each read 1 MB of the 10 MB file and reset (SO_LINGER 0)
    while another client's download of it is under way: the server lets go
    of each, the download in flight completes exactly, and the next client
    is answered exactly."""
    srv = servers.start(root, {"cpu_limit": 1, "splice_threshold": splice_threshold})
    exact(srv.port, "/big.bin", BIG)
    quiet = Quiet(srv, root)
    reader = Download(srv.port, "/big.bin")
    try:
        reader.head()
        assert reader.body(1 << 20) == BIG[:1 << 20]
        for _ in range(20):
            d = Download(srv.port, "/big.bin", close=False)
            try:
                d.head()
                assert d.body(1 << 20) == BIG[:1 << 20]
                d.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            finally:
                d.close()
        assert reader.rest(), "the download in flight did not end"
    finally:
        reader.close()
    assert (reader.length, len(reader.got), sha(reader.got)) == (len(BIG), len(BIG), sha(BIG))
    quiet.check()
    exact(srv.port, "/big.bin", BIG)
    exact(srv.port, "/small.bin", SMALL)
    quiet.check()


@PATHS
def test_half_close_after_request_gets_whole_response(servers, root, splice_threshold):
    """A client that sends its request and then shutdown(SHUT_WR) still
    gets the whole response, then the server closes: 40 times the 10 MB
    file (the end of the client's stream may come while it is being
    sent), and the 1.5 KB one."""
    srv = servers.start(root, {"cpu_limit": 1, "splice_threshold": splice_threshold})
    quiet = Quiet(srv, root)
    short = []
    for target, data, times in (("/big.bin", BIG, 40), ("/small.bin", SMALL, 3)):
        for _ in range(times):
            with Client(srv.port) as c:
                c.send(req(target))
                c.sock.shutdown(socket.SHUT_WR)
                head = c.response(max_body=0)
                assert (head.status, head.length) == (200, len(data)), head
                body = c.expect_eof()
                if body != data:
                    short.append(f"{target}: {len(body)} of {len(data)} bytes")
    assert not short, f"{len(short)} of 43 half-closed clients got less than the whole " \
        f"response: {short[:5]}"
    quiet.check()
    exact(srv.port, "/big.bin", BIG)


# ---------------------------------------------------- files that change

@PATHS
def test_file_truncated_while_sent(servers, root, splice_threshold):
    """Truncated to 1 MiB after the first 1 MiB is read by a slow reader:
    the connection ends before the 10 MB it announced, other clients are
    served meanwhile and after, a warning names the file, and the next
    request gets the 1 MiB. (Bytes past the first 1 MiB were in flight
    when the file shrank: what a zero-copy path delivers of pages the
    truncation dropped is the kernel's business, so only their count is
    checked.)"""
    srv = servers.start(root, {"cpu_limit": 1, "splice_threshold": splice_threshold})
    exact(srv.port, "/small.bin", SMALL)
    quiet = Quiet(srv, root)
    d = Download(srv.port, "/big.bin")
    try:
        d.head()
        assert d.body(1 << 20) == BIG[:1 << 20]
        os.truncate(root / "big.bin", 1 << 20)
        exact(srv.port, "/small.bin", SMALL)
        assert d.rest(pause=0.005), "the connection stayed open"
    finally:
        d.close()
    assert d.length == len(BIG) and len(d.got) < len(BIG), (d.length, len(d.got))
    exact(srv.port, "/small.bin", SMALL)
    srv.wait_line(r"big\.bin: .*(shorter than announced|while being sent)", timeout=10)
    wait_until(lambda: srv.fetch("/big.bin", max_body=0).length == 1 << 20, 10,
               "the new size of the truncated file")
    exact(srv.port, "/big.bin", BIG[:1 << 20])
    quiet.check()


@PATHS
def test_file_deleted_while_sent(servers, root, splice_threshold):
    """Deleted after the first 1 MiB is read: the download completes with
    the original 10 MB (the open descriptor stays valid); within 3 s new
    requests get 404 (the cache notices); no descriptor of the deleted
    file is left open."""
    srv = servers.start(root, {"cpu_limit": 1, "splice_threshold": splice_threshold})
    quiet = Quiet(srv, root)
    d = Download(srv.port, "/big.bin")
    try:
        d.head()
        d.body(1 << 20)
        os.unlink(root / "big.bin")
        wait_until(lambda: srv.fetch("/big.bin", max_body=0).status == 404, 3,
                   "404 for the deleted file")
        assert d.rest(pause=0.002), "the connection stayed open"
    finally:
        d.close()
    assert (d.length, len(d.got), sha(d.got)) == (len(BIG), len(BIG), sha(BIG))
    exact(srv.port, "/small.bin", SMALL)
    quiet.check()


@PATHS
def test_file_replaced_while_sent(servers, root, splice_threshold):
    """Replaced by rename after the first 1 MiB is read: the download in
    flight completes with the old 10 MB, a new request gets the new file."""
    srv = servers.start(root, {"cpu_limit": 1, "splice_threshold": splice_threshold})
    write_files(root, {"next.tmp": BIG2})
    exact(srv.port, "/small.bin", SMALL)
    quiet = Quiet(srv, root)
    d = Download(srv.port, "/big.bin")
    try:
        d.head()
        d.body(1 << 20)
        os.replace(root / "next.tmp", root / "big.bin")
        wait_until(lambda: srv.fetch("/big.bin", max_body=0).length == len(BIG2), 3,
                   "the replaced file's size")
        exact(srv.port, "/big.bin", BIG2)
        assert d.rest(pause=0.002), "the connection stayed open"
    finally:
        d.close()
    assert (d.length, len(d.got), sha(d.got)) == (len(BIG), len(BIG), sha(BIG))
    quiet.check()


def test_document_root_renamed_away_and_back(servers, root, tmp_path):
    """The document root renamed away: requests meanwhile get 404 or 403
    (no directory is where document_root names one), for files served
    before (cached: their exact bytes until the cache revalidates them,
    once a second) and for one never asked for; the server stays up.
    Renamed back: served again, exactly."""
    fresh = b"never fetched before the rename\n"
    write_files(root, {"fresh.txt": fresh})
    srv = servers.start(root, {"cpu_limit": 1})
    cached = {"/small.bin": SMALL, "/mid.bin": MID}
    for target, data in cached.items():
        exact(srv.port, target, data)
    quiet = Quiet(srv, root)
    away = tmp_path / "away"
    os.rename(root, away)
    try:
        def all_refused():
            answers = {t: srv.fetch(t) for t in (*cached, "/fresh.txt")}
            for t, r in answers.items():
                assert r.status in (403, 404) or \
                    (t in cached and (r.status, r.body) == (200, cached[t])), \
                    f"with the document root renamed away, {t} was answered {r!r}"
            return all(r.status in (403, 404) for r in answers.values())
        wait_until(all_refused, 10, "403 or 404 for every file once the cache revalidates")
    finally:
        os.rename(away, root)
    exact(srv.port, "/small.bin", SMALL)
    exact(srv.port, "/fresh.txt", fresh)
    quiet.check()


# ------------------------------------------------------------- descriptors

def test_emfile_low_nofile(servers, root):
    """RLIMIT_NOFILE 64, no max_connections: 100 clients at once. Each is
    answered 200 with the exact bytes or, once descriptors run short,
    waits in the backlog or is refused with a 503 or a close; none gets a
    wrong answer. When they leave, the descriptor count is back, EMFILE
    was logged at most once a second, and new clients are served."""
    nofile = 64
    srv = new_limited(servers, base_settings(root) | {"cpu_limit": 1, "max_connections": 0},
                      {resource.RLIMIT_NOFILE: (nofile, nofile)})
    srv.start()
    exact(srv.port, "/mid.bin", MID)
    quiet = Quiet(srv, root)
    mark, t0 = srv.line_count(), time.monotonic()
    n = 100
    with Crowd(srv.port, n) as crowd:
        crowd.send(req("/mid.bin"))
        answered = {}
        deadline = time.monotonic() + 40
        while len(answered) < n and time.monotonic() < deadline:
            got = crowd.responses([i for i in range(n) if i not in answered], timeout=0.5)
            fresh = {i: r for i, r in got.items()
                     if not (isinstance(r, str) and r.startswith("timed out"))}
            answered.update(fresh)
            crowd.close(list(fresh))        # answered ones leave, freeing descriptors
    outcomes = Counter()
    for r in answered.values():
        if isinstance(r, str):
            outcomes["closed unanswered" if re.match(r"(closed before a response head|"
                                                     r"ConnectionResetError after b''$)", r)
                     else f"bad: {r}"] += 1
        elif r.status == 503:
            outcomes["503" if r.header("Retry-After") else "503 without Retry-After"] += 1
        elif (r.status, r.got, r.sha) == (200, len(MID), sha(MID)):
            outcomes["200"] += 1
        else:
            outcomes[f"bad: {r!r}"] += 1
    assert len(answered) == n, f"{n - len(answered)} clients never answered; {dict(outcomes)}"
    assert set(outcomes) <= {"200", "503", "closed unanswered"}, dict(outcomes)
    assert outcomes["200"] > 0, dict(outcomes)
    elapsed = time.monotonic() - t0
    with srv.cond:
        logged = [ln for ln in srv.lines[mark:] if re.search(r"Too many open files|EMFILE", ln)]
    assert len(logged) <= elapsed + 2, f"{len(logged)} EMFILE lines in {elapsed:.1f}s"
    quiet.check()
    exact(srv.port, "/mid.bin", MID)


# ----------------------------------------------------------------- journal

def latest_dropped(notify):
    """The dropped-entries count in the latest STATUS= received (0 if it
    names none); STATUS= comes every 5 s."""
    while True:         # every message queued now
        try:
            notify.wait("STATUS", timeout=0.2, start=len(notify.messages))
        except AssertionError:
            break
    status = next((m["STATUS"] for m in reversed(notify.messages) if "STATUS" in m), "")
    found = re.search(r", (\d+) journal entries dropped$", status)
    return int(found.group(1)) if found else 0


def test_journal_stopped_then_frozen(servers, root, tmp_path):
    """access_log = "journal". journald frozen (its socket not read), then
    stopped (its socket gone), then back: every request is answered at
    once, the entries received and the drops in STATUS= add up to the
    requests made, and once journald is back entries arrive again."""
    need_root()
    if shutil.which("unshare") is None:
        pytest.skip("the stand-in journal needs unshare (util-linux)")
    jdir = tmp_path / "journal"
    journal = Journal(jdir)
    made = 0
    with Notify() as n:
        try:
            srv = servers.new(base_settings(root) | {"access_log": "journal", "cpu_limit": 1},
                              env={"NOTIFY_SOCKET": n.address}, wrapper=journal.wrapper())
            srv.start()
            quiet = Quiet(srv, root)

            def burst(count):
                nonlocal made
                t0 = time.monotonic()
                with Client(srv.port, timeout=5) as c:
                    for _ in range(count):
                        c.send(req("/small.bin"))
                        assert c.response().body == SMALL
                        made += 1
                return time.monotonic() - t0

            burst(10)
            wait_until(lambda: len(journal.drain()) == 10, 10, "10 entries in the journal")
            # frozen: nothing read; the kernel queue fills and the rest is
            # dropped. An entry may be sent after its response has arrived:
            # what the queue takes is counted until the drops add up.
            burst(2000)

            def frozen_accounted():
                got, lost = len(journal.drain()), latest_dropped(n)
                return (got, lost) if lost and got + lost == made else None
            received, dropped = wait_until(frozen_accounted, 20, "STATUS= to count the entries "
                                           "the frozen journal did not take")
            assert dropped > 0 and received > 10, (received, dropped)
            # stopped: the socket is gone
            journal.sock.close()
            os.unlink(jdir / "socket")
            burst(300)
            wait_until(lambda: latest_dropped(n) == dropped + 300, 20,
                       f"{dropped + 300} drops in STATUS=")
            dropped += 300
            # back: entries arrive again (the kernel queues only
            # net.unix.max_dgram_qlen of them while this test is not reading)
            journal = Journal(jdir)
            burst(20)

            def accounted():
                got = len(journal.drain())
                return got if got + latest_dropped(n) == made - received else None
            got = wait_until(accounted, 20, "the restarted journal's entries and the drops "
                             "to account for every request")
            assert got > 0, "no entry reached the restarted journal"
            received += got
            dropped = latest_dropped(n)
            assert received + dropped == made, (received, dropped, made)
            exact(srv.port, "/mid.bin", MID)
            quiet.check()
        finally:
            journal.sock.close()
    warnings = [ln for ln in srv.stderr().splitlines() if "journal:" in ln]
    assert 1 <= len(warnings) <= 2, warnings     # at most once a minute


# ---------------------------------------------------------- a full disk

def test_access_log_on_full_disk(servers, root, tmp_path):
    """The access log on a 64 KiB tmpfs: 3,000 requests fill it and go on;
    every one is answered exactly, the failed writes are warned about at
    most once a second, and the server stops cleanly."""
    need_root()
    logs = tmp_path / "logs"
    logs.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(logs)]).returncode:
        pytest.skip("cannot mount a tmpfs")
    srv = None
    try:
        srv = servers.start(root, {"cpu_limit": 1, "access_log": str(logs / "access.log")})
        quiet = Quiet(srv, root)
        t0, answered = time.monotonic(), 0
        with Client(srv.port, timeout=10) as c:
            for i in range(3000):
                c.send(req(f"/small.bin?{i:0200d}"))
                r = c.response()
                assert (r.status, r.body) == (200, SMALL), r
                answered += 1
        assert answered == 3000
        exact(srv.port, "/mid.bin", MID)
        elapsed = time.monotonic() - t0
        size = os.path.getsize(logs / "access.log")
        assert size < 3000 * 200, f"{size} bytes on a 64 KiB file system"
        warned = wait_until(lambda: [ln for ln in srv.stderr().splitlines()
                                     if ln.startswith("warning: access_log")], 10,
                            "a warning about the access log")
        assert len(warned) <= elapsed + 2, f"{len(warned)} warnings in {elapsed:.1f}s: {warned[:3]}"
        assert any("No space left on device" in ln or "short write" in ln for ln in warned), warned
        quiet.check()
        srv.stop()
    finally:
        if srv is not None and srv.proc is not None and srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()
        subprocess.run(["umount", str(logs)], check=False)


# ----------------------------------------------------------------- signals

def test_sighup_100_times_under_load(servers, root, tmp_path):
    """Two clients fetch with keep-alive throughout while the server is
    told to reload 100 times, each reload waited for: every response is
    exact, no request fails, and a connection is only closed after a
    response that said Connection: close."""
    srv = servers.start(root, {"cpu_limit": 2})
    # the quiet state after a first reload: the configuration a reload
    # replaces keeps its document root's descriptor open until the next one
    srv.signal(signal.SIGHUP)
    mark, _ = srv.wait_line(r"configuration reloaded", timeout=10)
    quiet = Quiet(srv, root)
    stop = threading.Event()
    counts, errors = Counter(), []

    def load(target, data):
        try:
            c = Client(srv.port, timeout=10)
            while not stop.is_set():
                c.send(req(target))
                r = c.response()
                assert (r.status, sha(r.body)) == (200, sha(data)), r
                counts[target] += 1
                if r["Connection"] == "close":
                    c.close()
                    counts["closed by the server"] += 1
                    c = Client(srv.port, timeout=10)
            c.close()
        except AssertionError as e:
            errors.append(e)

    workers = [threading.Thread(target=load, args=a, daemon=True)
               for a in (("/small.bin", SMALL), ("/mid.bin", MID))]
    for w in workers:
        w.start()
    try:
        for i in range(100):
            srv.signal(signal.SIGHUP)
            mark, _ = srv.wait_line(r"configuration reloaded", timeout=10, start=mark + 1)
            assert not errors, errors[0]
    finally:
        stop.set()
        for w in workers:
            w.join(20)
    assert not errors, errors[0]
    assert counts["/small.bin"] > 0 and counts["/mid.bin"] > 0, counts
    assert not re.search(r"^(warning|error)", srv.stderr(), re.M), srv.tail()
    quiet.check()
    exact(srv.port, "/mid.bin", MID)


def test_sigterm_with_1000_responses_in_flight(servers, root):
    """1,000 connections have each sent a request for 100 KB and read
    nothing yet (each has received the start of its response) when SIGTERM
    comes: the server drains, every one of them then gets its complete,
    exact response and a close, and the server exits 0 within 30 s."""
    need_nofile(1000 + 200)
    srv = servers.start(root, {"cpu_limit": 2})
    exact(srv.port, "/mid.bin", MID)
    n = 1000
    with Crowd(srv.port, n, rcvbuf=4096) as crowd:
        errors = crowd.send(req("/mid.bin"))
        assert not errors, list(errors.items())[:3]
        wait_until(lambda: all(crowd.queued(i) > 0 for i in range(n)), 30,
                   "every client to receive the start of its response")
        srv.signal(signal.SIGTERM)
        t0 = time.monotonic()
        results = crowd.responses(timeout=60)
        outcomes = Counter(
            "200 exact" if not isinstance(r, str) and (r.status, r.got, r.sha) ==
            (200, len(MID), sha(MID)) else repr(r)[:120] for r in results.values())
        assert outcomes == Counter({"200 exact": n}), dict(outcomes.most_common(5))
        srv.wait_exit(timeout=30)
    assert time.monotonic() - t0 < 90
    srv.expect_exit(0)


# ---------------------------------------------------------- hostile clients

def test_header_trickle_closed_by_header_timeout(servers, root):
    """header_timeout = 2; 2,000 connections each send one byte of a
    request head a second (faster than the timeout, so a timeout reset by
    each byte would never fire). Each is closed within 2 s of its first
    byte plus a generous 6 s, having received nothing or a 408; meanwhile
    a normal client's request is answered."""
    need_nofile(2000 + 200)
    srv = servers.start(root, {"cpu_limit": 2, "header_timeout": 2})
    exact(srv.port, "/small.bin", SMALL)
    quiet = Quiet(srv, root)
    head = req("/small.bin", headers={"User-Agent": "x" * 100})
    n, limit = 2000, 2 + 6
    with Crowd(srv.port, n) as crowd:
        first = {}
        closed_at, received = {}, {i: bytearray() for i in range(n)}
        sent = [0] * n
        normal, ticks = None, 0
        t_end = time.monotonic() + limit + 6
        next_tick = time.monotonic()
        sel = selectors.DefaultSelector()
        for i, sock in enumerate(crowd.socks):
            sel.register(sock, selectors.EVENT_READ, i)
        while len(closed_at) < n and time.monotonic() < t_end:
            now = time.monotonic()
            if now >= next_tick:
                for i in range(n):
                    if i in closed_at:
                        continue
                    try:
                        crowd.socks[i].send(head[sent[i]:sent[i] + 1], socket.MSG_NOSIGNAL)
                        first.setdefault(i, time.monotonic())
                        sent[i] += 1
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        pass        # closed: the read side sees it
                next_tick = now + 1.0
                ticks += 1
                if normal is None and ticks == 2:   # the crowd has sent its first bytes
                    normal = exact(srv.port, "/small.bin", SMALL)
            for key, _ in sel.select(0.05):
                i = key.data
                try:
                    chunk = crowd.socks[i].recv(4096)
                except (ConnectionResetError, BrokenPipeError):
                    chunk = b""
                except BlockingIOError:
                    continue
                if chunk:
                    received[i] += chunk
                else:
                    closed_at[i] = time.monotonic()
                    sel.unregister(crowd.socks[i])
        sel.close()
        assert normal is not None, "the normal client was never tried"
        still_open = n - len(closed_at)
        assert still_open == 0, f"{still_open} of {n} trickling connections still open"
        late = {i: t - first[i] for i, t in closed_at.items() if t - first[i] > limit}
        assert not late, f"{len(late)} closed later than {limit}s after their first byte: " \
            f"{sorted(late.values())[-3:]}"
        got = Counter(bytes(b[:12]) for b in received.values())
        assert set(got) <= {b"", b"HTTP/1.1 408"}, got
        assert max(sent) < len(head), "a whole head was sent"
    quiet.check()
    exact(srv.port, "/small.bin", SMALL)


def test_max_connections_per_ip(servers, root):
    """max_connections_per_ip = 3: with 3 open from 127.0.0.1, a 4th from
    there gets 503 with Retry-After and a close; 127.0.0.2 (and ::1) are
    still served; once one of the 3 closes, a new one from 127.0.0.1 is."""
    listen = ["127.0.0.1:0"] + (["[::1]:0"] if ipv6_loopback() else [])
    srv = servers.start(root, {"cpu_limit": 2, "max_connections_per_ip": 3, "listen": listen})
    port = srv.addrs[0][1]
    quiet = Quiet(srv, root, [p for _, p in srv.addrs])
    held = [Client(port) for _ in range(3)]
    try:
        for c in held:      # each is accepted and served
            c.send(req("/small.bin"))
            assert c.response().body == SMALL
        with Client(port) as c:
            c.send(req("/small.bin"))
            r = c.response()
            assert r.status == 503 and r["Connection"] == "close" and r.header("Retry-After"), r
            c.expect_eof()
        with bound_client(port, "127.0.0.2") as c:
            c.send(req("/small.bin"))
            assert c.response().body == SMALL
        if len(srv.addrs) > 1:
            exact(srv.addrs[1][1], "/small.bin", SMALL, host="::1")
        for c in held:      # still served on their kept-alive connections
            c.send(req("/small.bin"))
            assert c.response().body == SMALL
        held.pop().close()
        wait_until(lambda: open_server_conns(port) == 2, 10, "the server to see the close")
        with Client(port) as c:
            c.send(req("/small.bin"))
            r = c.response()
            assert (r.status, r.body) == (200, SMALL), r
    finally:
        for c in held:
            c.close()
    quiet.check()
    exact(port, "/small.bin", SMALL)
