"""Files that are not in memory, on a disk made slow: the document root is
on a real block device, the server runs in a cgroup whose reads from that
disk are throttled, and the files are dropped from the page cache (the
tree's dentries and inodes too). Meanwhile one more client asks for a cached
1 KiB file on the same ring (cpu_limit = 1), again and again: it must get
its answers while the disk is busy, counted, never timed. A ring that
waits for the disk (in sendfile, in a pread of a file-cache miss, in a
path lookup) answers it only between two waits. The bytes of every cold
answer are checked exactly.

Last, a response is never cut by the server's own close: a slowly read
response followed by pipelined requests gets every byte, then EOF, on
every path (memory, read, sendfile, multipart)."""

import os
import random
import shutil
import socket
import tempfile
import threading
import time

import pytest

from rhtest import (IO_TIMEOUT, Client, Crowd, PeakSampler, ThrottledIO, base_settings,
                    block_device, drop_from_page_cache, file_system_type, iou_wrk_threads,
                    parse_head, req, sha, write_files)
from test_semantics import multipart_parts

COLD_BASE = os.environ.get("RINGHTTPD_COLD_DIR", "/var/tmp")
CACHED = random.Random(1).randbytes(1024)
# What the cached client completes, at least, while the cold answers are
# under way. A ring that never waits for the disk answers it thousands of
# times a second (about 10,000 here, under ASan too); one that waits
# answers it about once per disk read (0.2: 4 to 250 times in these
# tests). The throttles below make every window at least 5 s long.
MIN_CACHED_ANSWERS = 2000
MAX_IOU_WRK = 4             # io-wq threads per ring (cpu_limit = 1: one ring)

DOWNLOADS = 8
# 8 x 2 MiB at 3 MB/s: at least 5.5 s from the disk. A ring that waits
# in sendfile answers the cached client about once per disk read (a
# readahead window, some 100 KiB), whatever the rate: about 150 times here.
DOWNLOAD_SIZE = 2 << 20
DOWNLOAD_BPS = 3_000_000
SMALL_SIZE = 30_000         # below file_cache_max_file: loaded into memory
MEDIUM_SIZE = 200 * 1024    # above it: sent from the file
TREE_FANOUT = (100, 10, 100)  # 100,000 files in 1,000 directories
TREE_CLIENTS, TREE_ROUNDS = 8, 50
TREE_BPS = 300_000          # 400 cold 4 KiB reads: at least 5.4 s


def rand(seed, n):
    return random.Random(seed).randbytes(n)


def why_no_cold_disk(path):
    if os.geteuid() != 0:
        return "cgroups and drop_caches need root"
    reason = ThrottledIO.unavailable()
    if reason:
        return reason
    if block_device(path) is None:
        return (f"{path} is on {file_system_type(path)}, not on a block device "
                "(set RINGHTTPD_COLD_DIR to a directory on a disk)")
    return None


@pytest.fixture(scope="module")
def disk():
    """A directory on a real disk, removed at the end: (path, "MAJ:MIN")."""
    if not os.path.isdir(COLD_BASE):
        pytest.skip(f"{COLD_BASE} does not exist (set RINGHTTPD_COLD_DIR)")
    reason = why_no_cold_disk(COLD_BASE)
    if reason:
        pytest.skip(reason)
    path = tempfile.mkdtemp(prefix="ringhttpd-cold.", dir=COLD_BASE)
    yield path, block_device(path)
    shutil.rmtree(path, ignore_errors=True)


def cold_settings(root, **extra):
    settings = base_settings(root)
    settings.update(cpu_limit=1, **extra)
    return settings


class CachedClient:
    """One keep-alive connection that asks for /cached.html again and again
    in a thread, every answer checked byte for byte. .final is how many
    answers it had when the with block ended."""

    def __init__(self, port):
        self.port, self.count, self.final, self.error = port, 0, None, None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            with Client(self.port) as c:
                while not self.done.is_set():
                    c.send(req("/cached.html"))
                    r = c.response()
                    assert r.status == 200 and r.body == CACHED, r
                    self.count += 1
        except Exception as e:      # reported by the test
            self.error = e

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.final = self.count
        self.done.set()
        self.thread.join(IO_TIMEOUT + 5)

    def check(self, what):
        assert self.error is None, f"the cached client failed: {self.error}"
        assert self.final >= MIN_CACHED_ANSWERS, (
            f"the cached 1 KiB file was answered {self.final} times while {what}; "
            f"expected at least {MIN_CACHED_ANSWERS}: the ring waited for the disk")


def start_throttled(servers, cg, settings):
    srv = servers.new(settings, wrapper=cg.wrapper()).start()
    assert srv.pid in cg.pids()
    warm = srv.fetch("/cached.html")
    assert warm.status == 200 and warm.body == CACHED, warm
    return srv


def cold_rounds(port, jobs, connections, timeout=120):
    """Run JOBS, [(target, headers, check(response))], on CONNECTIONS
    keep-alive connections at once, one request per connection a round."""
    with Crowd(port, connections) as crowd:
        for start in range(0, len(jobs), connections):
            batch = jobs[start:start + connections]
            crowd.send(lambda i: req(batch[i][0], headers=batch[i][1]), range(len(batch)))
            got = crowd.responses(range(len(batch)), timeout=timeout, keep_body=True)
            for i, (target, headers, check) in enumerate(batch):
                r = got[i]
                assert not isinstance(r, str), f"{target} {headers}: {r}"
                check(r)


# -------------------------------------------- a. cold downloads, a busy ring

def test_cold_downloads_do_not_stall_the_ring(servers, disk):
    root, dev = disk
    files = {f"cold/{i}.bin": rand(100 + i, DOWNLOAD_SIZE) for i in range(DOWNLOADS)}
    write_files(root, {"cached.html": CACHED, **files})
    drop_from_page_cache(os.path.join(root, name) for name in files)
    want = {name: sha(data) for name, data in files.items()}
    del files
    with ThrottledIO(dev, DOWNLOAD_BPS) as cg:
        srv = start_throttled(servers, cg, cold_settings(root))
        read0 = cg.read_bytes()
        with Crowd(srv.port, DOWNLOADS) as crowd, \
                PeakSampler(lambda: iou_wrk_threads(srv.pid)) as iou_wrk, \
                CachedClient(srv.port) as cached:
            crowd.send(lambda i: req(f"/cold/{i}.bin"))
            got = crowd.responses(timeout=120)
        from_disk = cg.read_bytes() - read0
        srv.stop()
    for i in range(DOWNLOADS):
        r = got[i]
        assert not isinstance(r, str), f"/cold/{i}.bin: {r}"
        assert r.status == 200 and r.length == DOWNLOAD_SIZE, r
        assert r.sha == want[f"cold/{i}.bin"], f"/cold/{i}.bin: wrong bytes"
    assert from_disk >= 0.9 * DOWNLOADS * DOWNLOAD_SIZE, (
        f"only {from_disk} bytes came from the disk: the files were not cold")
    cached.check(f"{DOWNLOADS} cold files of {DOWNLOAD_SIZE} bytes were downloaded")
    assert iou_wrk.peak <= MAX_IOU_WRK, f"{iou_wrk.peak} iou-wrk threads at once"


# ------------------------------------------ b. cold small and medium files

def ranges_of(spec, size):
    """[(first, last)] of Range SPEC ("bytes=..."; None: the whole file)."""
    if spec is None:
        return [(0, size - 1)]
    ranges = []
    for part in spec[len("bytes="):].split(","):
        first, _, last = part.partition("-")
        ranges.append((size - int(last), size - 1) if not first else (int(first), int(last)))
    return ranges


def exact(data, spec=None):
    """A check of an answer to a request with Range SPEC (None: whole)."""
    def check(r):
        if spec is None:
            assert r.status == 200 and r.body == data, r
            return
        ranges = ranges_of(spec, len(data))
        if len(ranges) == 1:
            (first, last), = ranges
            assert r.status == 206, r
            assert r["Content-Range"] == f"bytes {first}-{last}/{len(data)}", r
            assert r.body == data[first:last + 1], f"{spec}: wrong bytes"
            return
        _, parts = multipart_parts(r)
        assert [(p[0], p[1]) for p in parts] == ranges, r
        for first, last, _, got, size in parts:
            assert size == len(data) and got == data[first:last + 1], f"{spec}: wrong bytes"
    return check


# (files of SIZE, the Range of each request: None = whole, server
# settings, throttle); every request is for a cold file of its own.
COLD_FILES = {
    "small": (SMALL_SIZE, [None] * 8 + ["bytes=1000-20999"] * 4
              + ["bytes=0-99,10000-19999,-100"] * 4, {}, 100_000),
    "medium-read": (MEDIUM_SIZE, [None, None, "bytes=50000-149999", "bytes=50000-149999",
                                  "bytes=0-99,100000-199999,-100"] * 2,
                    {"splice_threshold": 1 << 20}, 300_000),
    "medium": (MEDIUM_SIZE, [None, None, "bytes=50000-149999", "bytes=50000-149999",
                             "bytes=0-99,100000-199999,-100"] * 2, {}, 300_000),
}


@pytest.mark.parametrize("kind", COLD_FILES)
def test_cold_files_exact_and_ring_free(servers, disk, kind):
    """small: a file-cache miss loads the file; medium-read: below
    splice_threshold, read into buffers; medium: above it. Whole files,
    one range, several ranges: exact, while the cached file is answered."""
    root, dev = disk
    size, specs, extra, bps = COLD_FILES[kind]
    files = {f"{kind}/{i}.bin": rand(f"{kind}{i}", size) for i in range(len(specs))}
    write_files(root, {"cached.html": CACHED, **files})
    drop_from_page_cache(os.path.join(root, name) for name in files)
    jobs = [(f"/{kind}/{i}.bin", {"Range": spec} if spec else {},
             exact(files[f"{kind}/{i}.bin"], spec)) for i, spec in enumerate(specs)]
    with ThrottledIO(dev, bps) as cg:
        srv = start_throttled(servers, cg, cold_settings(root, **extra))
        read0 = cg.read_bytes()
        with CachedClient(srv.port) as cached:
            cold_rounds(srv.port, jobs, 4)
        from_disk = cg.read_bytes() - read0
        srv.stop()
    answered = sum(last + 1 - first for spec in specs for first, last in ranges_of(spec, size))
    assert from_disk >= 0.9 * answered, (
        f"only {from_disk} bytes came from the disk for {answered} answered: not cold")
    cached.check(f"{len(jobs)} cold {kind} files were answered")


# ---------------------------------------------------------- c. a cold tree

TREE_TOTAL = TREE_FANOUT[0] * TREE_FANOUT[1] * TREE_FANOUT[2]
TREE_ASKED = random.Random(13).sample(range(TREE_TOTAL), TREE_CLIENTS * TREE_ROUNDS)
TREE_CREATE_SECONDS = 300   # a disk too busy to make the tree in this time: skip


def tree_path(n):
    a, rest = divmod(n, TREE_FANOUT[1] * TREE_FANOUT[2])
    b, c = divmod(rest, TREE_FANOUT[2])
    return f"tree/{a:02d}/{b}/{c:02d}.txt"


def tree_body(n):
    return f"file {n} of the cold tree\n".encode()


@pytest.fixture(scope="module")
def tree(disk):
    """100,000 files in 1,000 directories, made once per module: those that
    are asked for have contents, the others are empty (no data blocks to
    write, only their inodes and directory entries)."""
    root, _ = disk
    asked, deadline = set(TREE_ASKED), time.monotonic() + TREE_CREATE_SECONDS
    try:
        for n in range(TREE_TOTAL):
            path = os.path.join(root, tree_path(n))
            if n % TREE_FANOUT[2] == 0:
                os.makedirs(os.path.dirname(path))
                if time.monotonic() > deadline:
                    pytest.skip(f"the disk is too busy: {n} files of the tree took "
                                f"more than {TREE_CREATE_SECONDS} s to create")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                if n in asked:
                    os.write(fd, tree_body(n))
            finally:
                os.close(fd)
        yield
    finally:
        shutil.rmtree(os.path.join(root, "tree"), ignore_errors=True)


def test_cold_tree_does_not_stall_the_ring(servers, disk, tree):
    """Distinct paths of a tree whose files, dentries and inodes are not in
    memory, asked for by several clients at once."""
    root, dev = disk
    write_files(root, {"cached.html": CACHED})
    drop_from_page_cache(os.path.join(root, tree_path(n)) for n in TREE_ASKED)

    def check(n):
        def body_is(r):
            assert r.status == 200 and r.body == tree_body(n), r
        return body_is
    jobs = [("/" + tree_path(n), {}, check(n)) for n in TREE_ASKED]
    with ThrottledIO(dev, TREE_BPS) as cg:
        srv = start_throttled(servers, cg, cold_settings(root))
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2\n")     # dentries and inodes
        read0 = cg.read_bytes()
        with CachedClient(srv.port) as cached:
            cold_rounds(srv.port, jobs, TREE_CLIENTS)
        from_disk = cg.read_bytes() - read0
        srv.stop()
    assert from_disk >= len(jobs) * 4096, f"only {from_disk} bytes came from the disk: not cold"
    cached.check(f"{len(jobs)} cold paths were answered")


# ------------------------------------- d. never cut by the server's own close

BIG = rand("big100k", 100_000)
MEM = rand("mem30k", 30_000)
PIPELINED = req("/cached.html") * (70_000 // len(req("/cached.html")) + 1)
MULTIPART_SPEC = "bytes=0-99,50000-99999"
# path: (file, its bytes, server settings, Range, dropped from the page cache)
CLOSE_PATHS = {
    "memory": ("mem30k.bin", MEM, {}, None, False),
    "read": ("big100k.bin", BIG, {"splice_threshold": 1 << 20}, None, True),
    "sendfile": ("big100k.bin", BIG, {}, None, False),
    "multipart": ("big100k.bin", BIG, {}, MULTIPART_SPEC, False),
}


@pytest.fixture(scope="module")
def close_root(tmp_path_factory):
    """The files of the tests below: on the real disk when there is one
    (the read path needs files that can be dropped from the page cache)."""
    if os.path.isdir(COLD_BASE) and block_device(COLD_BASE) is not None:
        root = tempfile.mkdtemp(prefix="ringhttpd-close.", dir=COLD_BASE)
    else:
        root = str(tmp_path_factory.mktemp("close"))
    write_files(root, {"cached.html": CACHED, "big100k.bin": BIG, "mem30k.bin": MEM})
    yield root
    shutil.rmtree(root, ignore_errors=True)


def read_slowly(sock):
    """Everything until EOF, a few KiB at a time with pauses, as a slow
    client on a slow link would; a reset fails the test."""
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            raise AssertionError(f"connection reset after {len(data)} bytes: the "
                                 "response was cut") from None
        if not chunk:
            return bytes(data)
        data += chunk
        time.sleep(0.005)


@pytest.mark.parametrize("when", ["with-the-request", "once-answered"])
@pytest.mark.parametrize("version", ["HTTP/1.1", "HTTP/1.0"])
@pytest.mark.parametrize("path", CLOSE_PATHS)
def test_response_not_cut_by_own_close(servers, close_root, path, version, when):
    """A request whose answer ends the connection, then 70 KB of pipelined
    requests: in the same send (the server reads some of them with the
    request), or once the answer has begun to arrive (the server read the
    request alone; the rest arrives while the answer is still in the
    socket). The second needs a linger whenever the socket holds unsent
    bytes: nginx's lingering_close heuristic passes only the first."""
    name, data, extra, spec, cold = CLOSE_PATHS[path]
    if cold:
        if block_device(close_root) is None:
            pytest.skip(f"{close_root} is on {file_system_type(close_root)}: its pages "
                        "cannot be dropped, so the file is never cold")
        drop_from_page_cache([os.path.join(close_root, name)])
    else:   # in the page cache, whatever a test before dropped
        with open(os.path.join(close_root, name), "rb") as f:
            assert f.read() == data
    srv = servers.start(close_root, {"cpu_limit": 1, **extra})
    headers = {"Range": spec} if spec else {}
    if version == "HTTP/1.1":
        headers["Connection"] = "close"
    request = req("/" + name, version=version, headers=headers)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(IO_TIMEOUT)
        s.connect(("127.0.0.1", srv.port))
        if when == "with-the-request":
            rest = request + PIPELINED
        else:
            s.sendall(request)
            assert s.recv(1, socket.MSG_PEEK), "closed before answering"
            rest = PIPELINED

        def send_rest():
            try:
                s.sendall(rest)
            except OSError:     # reset: what the reader gets tells
                pass
        sender = threading.Thread(target=send_rest, daemon=True)
        sender.start()
        received = read_slowly(s)
        sender.join(IO_TIMEOUT)
    end = received.find(b"\r\n\r\n")
    assert end >= 0, f"no response head in {received[:200]!r}"
    r = parse_head(received[:end + 4])
    r.body = received[end + 4:]
    assert r.length is not None and len(r.body) == r.length, (
        f"{len(r.body)} body bytes arrived of {r.length}, then EOF")
    assert r["Connection"] == "close", r
    if spec is None:
        assert r.status == 200 and r.body == data, r
    else:
        exact(data, spec)(r)
