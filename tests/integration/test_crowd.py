"""A real crowd on one ring: a buffer pool far smaller than the number of
clients, clients that never read a large download, files that change while
they are cached, descriptor exhaustion, max_connections, and
send_timeout measured from the last progress.

Running out of pooled buffers is waiting, never a 503; only
max_connections answers 503. A slow client holds no kernel thread. Every
test counts what it can (responses, their bytes, threads, descriptors,
connections in /proc) and asserts no timing: it polls with deadlines.
Thousands of connections are driven through one selector (rhtest.Crowd)."""

import os
import random
import re
import resource
import select
import threading
import time
from collections import Counter

import pytest

from rhtest import (IMF_FIXDATE_RE, Client, Crowd, base_settings, descriptor_count, exact,
                    ipv6_loopback, need_nofile, new_limited, open_server_conns,
                    raise_nofile, req, sha, socket_fds, thread_names, unread_by_server,
                    wait_until, write_files)

_rnd = random.Random(7007)
ONE_K = _rnd.randbytes(1024)
MID = _rnd.randbytes(40000)              # ~10 chunks of a 4096-byte buffer
BIG = _rnd.randbytes(10 * 1000 * 1000)   # the 10 MB download
FILES = {"1k.bin": ONE_K, "mid.bin": MID, "big.bin": BIG}

# A pool far smaller than the crowd: every 40 KB response needs pooled
# buffers for several chunks (read and sent: below splice_threshold, and not
# from the memory cache).
SMALL_POOL = {"cpu_limit": 1, "buffer_size": 4096, "buffer_count": 8,
              "file_cache_size": 0, "splice_threshold": 1048576}

# The client's receive buffer for a download it never reads: the kernel
# doubles it and keeps its own minimum, so each stalled client holds a few KiB.
STALLED_RCVBUF = 4096

raise_nofile()      # the crowds' descriptors; servers started here inherit it


def tally(results, want_sha, want_len):
    """(Counter of outcomes, the first few failures) of Crowd.responses:
    '200 ok', 'HTTP <status>', '200 wrong bytes' or 'error'."""
    outcomes, failures = Counter(), []
    for i, r in sorted(results.items()):
        if isinstance(r, str):
            outcome = "error"
        elif r.status != 200:
            outcome = f"HTTP {r.status}"
        elif r.length != want_len or r.got != want_len or r.sha != want_sha:
            outcome = "200 wrong bytes"
        else:
            outcome = "200 ok"
        outcomes[outcome] += 1
        if outcome != "200 ok" and len(failures) < 3:
            failures.append(f"client {i}: {r!r}")
    return outcomes, failures


def assert_all_ok(results, data, what):
    outcomes, failures = tally(results, sha(data), len(data))
    assert outcomes == Counter({"200 ok": len(results)}), \
        f"{what}: {dict(outcomes)}; first failures:\n" + "\n".join(failures)


def wait_closed(srv, ports=None):
    """Every connection closed on the server's side (polled: it closes
    asynchronously)."""
    for port in ports or [srv.port]:
        wait_until(lambda: open_server_conns(port) == 0, 20,
                   f"the server to close every connection on port {port}")


def wait_quiet(srv, fds, sockets, ports=None):
    """Every connection closed on the server's side, and its socket count
    back at SOCKETS and (unless FDS is None) its descriptor count at FDS."""
    wait_closed(srv, ports)
    wait_until(lambda: socket_fds(srv.pid) == sockets, 20,
               f"the server's socket count to return to {sockets} "
               f"(it is {socket_fds(srv.pid)})")
    if fds is not None:
        wait_until(lambda: descriptor_count(srv.pid) == fds, 20,
                   f"the server's descriptor count to return to {fds} "
                   f"(it is {descriptor_count(srv.pid)})")


def wait_read_or_settled(port, timeout=10):
    """Wait until the server has read every byte sent to PORT, or until the
    amount it leaves unread has not changed for a second (a server that
    leaves the bytes of a waiting connection in the kernel is allowed to);
    returns the bytes left unread."""
    last, same, deadline = None, 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        unread = unread_by_server(port)
        if unread == 0:
            return 0
        same = same + 1 if unread == last else 0
        if same >= 20:
            return unread
        last = unread
        time.sleep(0.05)
    return unread_by_server(port)


# ------------------------------------------------------ a small buffer pool

def test_2000_concurrent_requests_small_pool(servers, root):
    """2,000 connections opened first, then 2,000 requests sent, then all
    read: 8 pooled buffers of 4 KiB serve them all, with waiting, never
    with a 503."""
    need_nofile(2000 + 200)
    srv = servers.start(root, SMALL_POOL)
    with Crowd(srv.port, 2000) as crowd:
        errors = crowd.send(req("/mid.bin"))
        assert not errors, f"{len(errors)} requests could not be sent: {list(errors.items())[:3]}"
        results = crowd.responses(timeout=60)
    assert_all_ok(results, MID, "2,000 requests with 8 buffers of 4 KiB")
    exact(srv.port, "/mid.bin", MID)


def test_heads_in_two_pieces_small_pool(servers, root):
    """500 request heads, each cut in half: the first halves are sent and
    read by the server (partial requests that need somewhere to wait), then
    the rest. Every one is answered 200 with the exact bytes, none 503."""
    need_nofile(500 + 200)
    srv = servers.start(root, SMALL_POOL)
    head = req("/mid.bin", headers={"User-Agent": "crowd-test", "Accept": "*/*"})
    cut = head.index(b"\r\nUser-Agent") + 7      # inside a header line
    with Crowd(srv.port, 500) as crowd:
        errors = crowd.send(head[:cut])
        assert not errors, f"first halves: {list(errors.items())[:3]}"
        wait_read_or_settled(srv.port)
        errors = crowd.send(head[cut:])
        assert not errors, f"second halves: {len(errors)} refused, {list(errors.items())[:3]}"
        results = crowd.responses(timeout=60)
    assert_all_ok(results, MID, "500 heads in two pieces with 8 buffers of 4 KiB")
    exact(srv.port, "/mid.bin", MID)


# --------------------------------------------------------- stalled clients

def stall(srv, n):
    """N connections that each request the 10 MB file and never read;
    returns the Crowd once every one of them has received something (the
    server has sent what it can)."""
    crowd = Crowd(srv.port, n, rcvbuf=STALLED_RCVBUF)
    try:
        errors = crowd.send(req("/big.bin"))
        assert not errors, f"{len(errors)} requests could not be sent"
        wait_until(lambda: all(crowd.queued(i) > 0 for i in range(n)), 30,
                   f"every one of {n} stalled clients to receive the start of its response")
    except BaseException:
        crowd.close()
        raise
    return crowd


def stalled_statuses(crowds):
    """Counter of the status lines the stalled clients have received (read
    with MSG_PEEK: they still read nothing)."""
    seen = Counter()
    for crowd in crowds:
        for i in range(len(crowd)):
            line = crowd.peek(i, 64).split(b"\r\n", 1)[0]
            seen[line.decode(errors="replace")] += 1
    return seen


def thread_sample(pid, samples=10):
    """The most iou-wrk threads, the most threads, and the names of the
    threads (digits dropped, counted) at the most, over a few looks at
    /proc/PID/task."""
    wrk = total = 0
    names = Counter()
    for _ in range(samples):
        now = thread_names(pid)
        wrk = max(wrk, sum(1 for n in now if n.startswith("iou-wrk")))
        if len(now) > total:
            total, names = len(now), Counter(re.sub(r"[0-9]+", "N", n) for n in now)
        time.sleep(0.05)
    return wrk, total, dict(names)


def test_stalled_downloads_hold_no_kernel_thread_each(servers, root):
    """200, then 1,000 clients request the 10 MB file (spliced) and read
    nothing. Both times the server has at most 4 iou-wrk threads per ring
    and its other threads are those it has when quiet; every stalled client
    got a 200 head; a fresh client still gets its 1 KiB. Once the stalled
    clients leave, the connection and descriptor counts are back where
    they started (the socket count: spare pipes may stay open)."""
    need_nofile(1000 + 200)
    srv = servers.start(root, {"cpu_limit": 1, "splice_threshold": 1048576})
    bound = 4 * srv.rings
    exact(srv.port, "/1k.bin", ONE_K)
    exact(srv.port, "/big.bin", BIG, timeout=30)
    wait_closed(srv)
    sockets = socket_fds(srv.pid)
    quiet_wrk, quiet_total, quiet_names = thread_sample(srv.pid, 3)
    crowds, seen, fresh = [], {}, {}
    try:
        for add in (200, 800):
            crowds.append(stall(srv, add))
            total = sum(len(c) for c in crowds)
            seen[total] = thread_sample(srv.pid)
            fresh[total] = srv.fetch("/1k.bin")
        statuses = stalled_statuses(crowds)
    finally:
        for crowd in crowds:
            crowd.close()
    report = (f"{srv.rings} ring(s); quiet: {quiet_total} threads {quiet_names}; "
              + "; ".join(f"{n} stalled: {w} iou-wrk of {t} threads {names}"
                          for n, (w, t, names) in seen.items())
              + f"; stalled clients' status lines: {dict(statuses)}")
    # the same bound for 200 and for 1,000 stalled clients
    limit = quiet_total - quiet_wrk + bound
    for n, (wrk, total, _) in seen.items():
        assert wrk <= bound, f"{n} stalled downloads: more than {bound} iou-wrk threads. {report}"
        assert total <= limit, f"{n} stalled downloads: more than {limit} threads. {report}"
    for n, r in fresh.items():
        assert (r.status, r.body) == (200, ONE_K), f"fresh client beside {n} stalled: {r!r}. {report}"
    assert statuses == Counter({"HTTP/1.1 200 OK": 1000}), f"not every stalled client got 200. {report}"
    # spare pipes may stay open; the connections' sockets may not
    wait_quiet(srv, None, sockets)
    exact(srv.port, "/1k.bin", ONE_K)


def test_600_stalled_downloads_do_not_turn_others_away(servers, root):
    """600 clients that request the 10 MB file and do not read (0.1.0 held
    a buffer for each and answered everyone else 503): each of them got a
    200 head, and two fresh clients get their 1 KiB file."""
    need_nofile(600 + 200)
    srv = servers.start(root, {"cpu_limit": 1})
    exact(srv.port, "/1k.bin", ONE_K)
    crowd = stall(srv, 600)
    try:
        statuses = stalled_statuses([crowd])
        fresh = [srv.fetch("/1k.bin") for _ in range(2)]
    finally:
        crowd.close()
    for r in fresh:
        assert (r.status, r.body) == (200, ONE_K), \
            f"fresh client beside 600 stalled downloads: {r!r}; stalled got {dict(statuses)}"
    assert statuses == Counter({"HTTP/1.1 200 OK": 600}), dict(statuses)


# ------------------------------------------------ files that change on disk

V1 = _rnd.randbytes(20000)
V2 = _rnd.randbytes(20000)               # the same size
V3 = _rnd.randbytes(30001)               # another size


class Versions:
    """What a changing file may be answered with: one whole version with
    the ETag that goes with it. Records ETag -> body and fails on a body
    that is no version, a mix, or one ETag for two bodies."""

    def __init__(self, bodies):
        self.bodies = {sha(b): b for b in bodies}
        self.etags = {}
        self.lock = threading.Lock()

    def check(self, r):
        assert r.status == 200, r
        digest = sha(r.body)
        assert r.length == len(r.body) and digest in self.bodies, \
            f"a body that is no whole version of the file ({len(r.body)} bytes): {r!r}"
        etag = r["ETag"]
        with self.lock:
            first = self.etags.setdefault(etag, digest)
        assert first == digest, f"ETag {etag} was sent with two different bodies: {r!r}"
        return r


def serve_changed_file(srv, path, old, new, change, background=False):
    """Fetch PATH's OLD contents (cached in memory), CHANGE the file on
    disk to NEW, then poll: within 3 s the new bytes come with a new ETag,
    and from then on only they do. BACKGROUND: a thread keeps fetching
    while the file changes, each of its responses one whole version."""
    target = "/" + path.name
    versions = Versions([old, new])
    r = versions.check(srv.fetch(target))
    assert r.body == old, r
    old_etag = versions.check(srv.fetch(target))["ETag"]
    stop, seen, errors = threading.Event(), [], []

    def keep_fetching():
        try:
            while not stop.is_set():
                seen.append(versions.check(srv.fetch(target)))
        except AssertionError as e:
            errors.append(e)

    worker = threading.Thread(target=keep_fetching, daemon=True)
    if background:
        worker.start()
        wait_until(lambda: len(seen) >= 3 or errors, 10, "the background fetches to start")
    try:
        change()

        def new_served():
            r = versions.check(srv.fetch(target))
            if r.body != new:
                assert r["ETag"] == old_etag, f"old bytes with a new ETag: {r!r}"
                return None
            assert r["ETag"] != old_etag, f"new bytes with the old ETag {old_etag}: {r!r}"
            return r
        new_etag = wait_until(new_served, 3, "the new contents of the file")["ETag"]
        for _ in range(5):
            r = versions.check(srv.fetch(target))
            assert (r.body, r["ETag"]) == (new, new_etag), f"the old file came back: {r!r}"
    finally:
        stop.set()
        if background:
            worker.join(30)
    assert not errors, errors[0]
    if background:
        assert seen, "the background thread fetched nothing"


def test_cached_file_rewritten_same_size_same_second(servers, tmp_path):
    """Rewritten in place with other bytes of the same size, and its mtime
    kept in the same second (only its nanoseconds and ctime change): the
    new bytes and a new ETag within 3 s, never new bytes with the old
    ETag or the reverse."""
    write_files(tmp_path, {"page.bin": V1})
    path = tmp_path / "page.bin"
    sec = os.stat(path).st_mtime_ns // 10**9 * 10**9
    os.utime(path, ns=(sec + 1000, sec + 1000))
    srv = servers.start(tmp_path, {"cpu_limit": 1})

    def rewrite():
        with open(path, "r+b") as f:
            f.write(V2)
        os.utime(path, ns=(sec + 2000, sec + 2000))
    serve_changed_file(srv, path, V1, V2, rewrite)


def test_cached_file_rewritten_other_size(servers, tmp_path):
    write_files(tmp_path, {"page.bin": V1})
    path = tmp_path / "page.bin"
    srv = servers.start(tmp_path, {"cpu_limit": 1})

    def rewrite():
        with open(path, "r+b") as f:
            f.write(V3)
            f.truncate(len(V3))
    serve_changed_file(srv, path, V1, V3, rewrite)


def test_cached_file_replaced_by_rename(servers, tmp_path):
    """Replaced by rename while another client keeps fetching it: every
    response is one whole version with its own ETag, and the new one is
    served within 3 s."""
    write_files(tmp_path, {"page.bin": V1, "next.tmp": V2})
    path = tmp_path / "page.bin"
    srv = servers.start(tmp_path, {"cpu_limit": 1})
    serve_changed_file(srv, path, V1, V2, lambda: os.replace(tmp_path / "next.tmp", path),
                       background=True)


# ---------------------------------------------------------- descriptors

EMFILE_NOFILE = 64


def two_listeners():
    if ipv6_loopback():
        return ["127.0.0.1:0", "[::1]:0"]
    return ["127.0.0.1:0", "127.0.0.1:0"]


def start_limited(servers, root, nofile, max_connections):
    """A server with RLIMIT_NOFILE NOFILE (soft and hard) and two
    listeners; None if it refuses to start (for its budget)."""
    settings = base_settings(root) | {"cpu_limit": 1, "listen": two_listeners(),
                                      "max_connections": max_connections}
    srv = new_limited(servers, settings, {resource.RLIMIT_NOFILE: (nofile, nofile)})
    return srv if started(srv) else None


def started(srv):
    """Start SRV: True once it is ready, False if it exits instead."""
    srv.start(wait_ready=False)
    try:
        srv.wait_ready()
        return True
    except AssertionError:
        if not srv.stderr_closed:
            raise
    srv.expect_exit()
    return False


@pytest.mark.parametrize("check", [False, True])
def test_impossible_max_connections_refused(servers, root, check):
    """A max_connections that RLIMIT_NOFILE cannot carry is refused with one
    line naming both, at start-up and by -t alike."""
    settings = base_settings(root) | {"cpu_limit": 1, "max_connections": 1000}
    srv = new_limited(servers, settings, {resource.RLIMIT_NOFILE: (256, 256)},
                      args=["-t"] if check else [])
    srv.start(wait_ready=False)
    srv.expect_exit(1)
    assert re.search(r"(?m)^(error: )?max_connections: 1000 connections need \d+ descriptors "
                     r"with 1 rings, but RLIMIT_NOFILE is 256 \(raise LimitNOFILE= or lower "
                     r"max_connections\)$", srv.stderr()), srv.stderr()


def test_descriptor_exhaustion_recovers_on_every_listener(servers, root):
    """RLIMIT_NOFILE 64 and the largest max_connections (of 64, 48, 32, 24,
    16, 12, 8) the server starts with. 80 clients connect to the first
    listener at once and send a request: those accepted are answered 200
    (503 only once max_connections are open), the rest wait in the backlog
    while descriptors are short (EMFILE). When the answered ones leave,
    every waiting one is accepted and answered 200 on that same listener;
    both listeners accept fresh clients; EMFILE is logged at most once a
    second; and in the quiet state the connection, socket and descriptor
    counts are where they started."""
    srv = None
    for max_conns in (64, 48, 32, 24, 16, 12, 8):
        srv = start_limited(servers, root, EMFILE_NOFILE, max_conns)
        if srv:
            break
    assert srv, "the server starts with no max_connections down to 8 under RLIMIT_NOFILE 64"
    assert len(srv.addrs) == 2, srv.addrs
    (host_a, port_a), (host_b, port_b) = srv.addrs
    small = "/1k.bin"
    for host, port in srv.addrs:
        exact(port, small, ONE_K, host=host)
    ports = [port_a, port_b]
    wait_closed(srv, ports)
    fds, sockets = descriptor_count(srv.pid), socket_fds(srv.pid)
    mark, t0 = srv.line_count(), time.monotonic()
    n = EMFILE_NOFILE + 16
    emfile_rx = re.compile(r"Too many open files|EMFILE")

    def emfile_lines():
        with srv.cond:
            return [l for l in srv.lines[mark:] if emfile_rx.search(l)]

    with Crowd(port_a, n, host=host_a) as crowd:
        errors = crowd.send(req(small))
        answered = {}

        def settled():
            got = crowd.responses([i for i in range(n) if i not in answered], timeout=0.3)
            answered.update({i: r for i, r in got.items() if not is_timeout(r)})
            ok = sum(1 for r in answered.values() if not isinstance(r, str) and r.status == 200)
            return len(answered) == n or (emfile_lines() and
                                          ok >= socket_fds(srv.pid) - sockets)
        wait_until(settled, 30, "every accepted client to be answered")
        statuses = Counter(classify(r) for r in answered.values())
        bad = [(i, r) for i, r in answered.items() if classify(r) == "bad"]
        assert not bad, f"{dict(statuses)}; first: client {bad[0][0]}: {bad[0][1]!r}"
        assert statuses["200"] > 0, dict(statuses)
        turned_away = statuses["503"] + statuses["closed unanswered"]
        assert not turned_away or statuses["200"] >= max_conns, \
            (f"{dict(statuses)}: clients turned away while only {statuses['200']} "
             f"connections were open (max_connections {max_conns}); "
             f"errors on sending: {len(errors)}")
        # the answered leave; every client still waiting is accepted now
        crowd.close(list(answered))
        waiting = [i for i in range(n) if i not in answered]
        rest = crowd.responses(waiting, timeout=20)
        failed = [(i, r) for i, r in rest.items() if classify(r) != "200"]
        assert not failed, \
            (f"after {len(answered)} answered clients left ({dict(statuses)}), "
             f"{len(failed)} of {len(waiting)} waiting clients on {host_a}:{port_a} "
             f"were not served; first: client {failed[0][0]}: {failed[0][1]!r}")
        for host, port in srv.addrs:
            exact(port, small, ONE_K, host=host)
    elapsed = time.monotonic() - t0
    logged = emfile_lines()
    assert len(logged) <= elapsed + 2, \
        f"{len(logged)} EMFILE messages in {elapsed:.1f} s: {logged[:5]}"
    for host, port in srv.addrs:
        exact(port, small, ONE_K, host=host)
    wait_quiet(srv, fds, sockets, ports)


def classify(r):
    """'200' (the 1 KiB file, exact), '503' (with Retry-After and a close),
    'closed unanswered' (closed or reset before a response head: a refusal
    whose 503 the reset overtook) or 'bad'."""
    if isinstance(r, str):
        return "closed unanswered" if re.match(r"(closed before a response head|"
                                               r"ConnectionResetError after b''$)", r) else "bad"
    if r.status == 503:
        return "503" if r["Connection"] == "close" and r.header("Retry-After") else "bad"
    return "200" if (r.status, r.got, r.sha) == (200, len(ONE_K), sha(ONE_K)) else "bad"


def is_timeout(r):
    return isinstance(r, str) and r.startswith("timed out")


def test_unmeetable_max_connections_is_a_startup_error(servers, root):
    """max_connections = 1000 cannot be met with 64 descriptors: the server
    says so and exits instead of starting."""
    srv = new_limited(servers, base_settings(root) | {"cpu_limit": 1, "max_connections": 1000},
                      {resource.RLIMIT_NOFILE: (EMFILE_NOFILE, EMFILE_NOFILE)})
    assert not started(srv), "started with max_connections = 1000 under RLIMIT_NOFILE 64"
    assert re.search(r"max_connections", srv.stderr()), srv.tail()


def test_max_connections_answers_503_with_retry_after(servers, root):
    """max_connections = 10 counts for the whole server, whichever of its
    rings (one per CPU) accepts: 10 concurrent clients are all served; the
    11th connection gets a 503 error page with Retry-After and a close; the
    10 are served on; once one leaves a new client takes its place, and
    after all close, 10 new ones are served."""
    srv = servers.start(root, {"max_connections": 10})
    clients = []
    try:
        for i in range(10):
            c = Client(srv.port)
            clients.append(c)
            c.send(req("/1k.bin"))
            assert c.response().body == ONE_K, f"client {i}"
        with Client(srv.port) as extra:
            # 0.1.0 answers at once; a server may also wait for the request
            if not select.select([extra.sock], [], [], 3)[0]:
                extra.send(req("/1k.bin"))
            r = extra.response()
            assert (r.status, r["Connection"]) == (503, "close"), r
            assert r["Content-Type"].split(";")[0] == "text/html" and b"503" in r.body, r
            retry = r["Retry-After"]
            assert re.fullmatch(r"[0-9]+", retry) or IMF_FIXDATE_RE.match(retry), r
            assert extra.expect_eof() == b""
        for c in clients:
            c.send(req("/1k.bin"))
            assert c.response().body == ONE_K
        clients.pop().close()
        wait_until(lambda: srv.fetch("/1k.bin").status == 200, 10, "a free connection slot")
    finally:
        for c in clients:
            c.close()
    wait_until(lambda: open_server_conns(srv.port) == 0, 20, "the 10 connections to close")
    again = []
    try:
        for i in range(10):
            c = Client(srv.port)
            again.append(c)
            c.send(req("/1k.bin"))
            r = c.response()
            assert (r.status, r.body) == (200, ONE_K), f"new client {i}: {r!r}"
    finally:
        for c in again:
            c.close()


# ------------------------------------------------------------ send_timeout

def test_send_timeout_counts_from_last_progress(servers, root):
    """send_timeout = 2: a client that reads the 10 MB file steadily, a
    chunk every 0.5 s for 5 s, is never cut off and gets the whole file;
    one that stops reading is closed (polled, deadline 30 s)."""
    srv = servers.start(root, {"cpu_limit": 1, "send_timeout": 2})
    with Crowd(srv.port, 1, rcvbuf=65536) as crowd:
        s = crowd.socks[0]
        s.setblocking(True)
        crowd.send(req("/big.bin"))
        s.settimeout(20)
        body, start = bytearray(), time.monotonic()
        head = bytearray()
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            assert chunk, f"closed before a head: {bytes(head)!r}"
            head += chunk
        end = head.index(b"\r\n\r\n") + 4
        assert head.startswith(b"HTTP/1.1 200 "), bytes(head[:200])
        body += head[end:]
        while time.monotonic() - start < 5:
            time.sleep(0.5)
            want = len(body) + 768 * 1024
            s.setblocking(False)
            try:
                while len(body) < want:
                    chunk = s.recv(want - len(body))
                    assert chunk, (f"cut off after {time.monotonic() - start:.1f} s of steady "
                                   f"reading ({len(body)} bytes)")
                    body += chunk
            except BlockingIOError:
                pass
            except ConnectionResetError:
                raise AssertionError(f"reset after {time.monotonic() - start:.1f} s of steady "
                                     f"reading ({len(body)} bytes)") from None
            finally:
                s.setblocking(True)
        assert len(body) < len(BIG), "the whole file came in the first 5 s: nothing measured"
        s.settimeout(30)
        while len(body) < len(BIG):
            chunk = s.recv(1 << 20)
            assert chunk, f"cut off at {len(body)} of {len(BIG)} bytes"
            body += chunk
        assert sha(bytes(body[:len(BIG)])) == sha(BIG)

    with Crowd(srv.port, 1, rcvbuf=65536) as crowd:
        crowd.send(req("/big.bin"))
        wait_until(lambda: crowd.queued(0) > 0, 10, "the start of the response")
        wait_until(lambda: open_server_conns(srv.port) == 0, 30,
                   "the server to close a connection that stopped reading")
        s = crowd.socks[0]
        s.setblocking(True)
        s.settimeout(30)
        got = 0
        try:
            while chunk := s.recv(1 << 20):
                got += len(chunk)
        except ConnectionResetError:
            pass
        assert got < len(BIG) + 1024, "a client that stopped reading got the whole file"
    exact(srv.port, "/1k.bin", ONE_K)
