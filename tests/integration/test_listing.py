"""Directory listings: bounded by listing_max_entries (with a note on the
HTML page), honest about what serving would give (no entry whose link
leaves the root), validators of what the page shows (a strong ETag of its
bytes, the newest listed mtime), no Accept-Ranges, and built away from the
ring: slow readers of a 100,000-entry listing neither stall a cached
request on the same ring nor cost the server a page each."""

import json
import os
import socket
import time

import pytest

from rhtest import Client, fetch, http_date, req, wait_until

T = 1704164645  # 2024-01-02 03:04:05 UTC
ROW_DATE = "2024-01-02 03:04:05"
BIG = 100_000
DEFAULT_CAP = 10_000
SLOW_CLIENTS = 30
FAST_REQUESTS = 200
SMALL = bytes(range(256)) * 4  # 1 KiB, served from the file cache
JSON_ACCEPT = {"Accept": "application/json"}

HTML_HEAD = ('<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
             '<title>Index of {path}</title>\n</head>\n<body>\n<h1>Index of {path}</h1>\n'
             '<table>\n<tr><th>Name</th><th>Size</th><th>Last modified</th></tr>\n'
             '<tr><td><a href="../">../</a></td><td>-</td><td>-</td></tr>\n')


def row(name, size, date=ROW_DATE):
    if size is None:
        return f'<tr><td><a href="{name}/">{name}/</a></td><td>-</td><td>{date}</td></tr>\n'
    return f'<tr><td><a href="{name}">{name}</a></td><td>{size}</td><td>{date}</td></tr>\n'


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def make_file(path, data=b"", mtime=T):
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (mtime, mtime))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = tmp_path_factory.mktemp("listing")
    make_file(r / "small.bin", SMALL)
    big = r / "big"
    big.mkdir()
    for i in range(BIG):
        fd = os.open(big / f"f{i:06d}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.utime(fd, (T, T))
        os.close(fd)
    few = r / "few"
    few.mkdir()
    make_file(few / "a.txt", b"abc")
    (few / "b").mkdir()
    os.utime(few / "b", (T, T))
    make_file(few / "c.txt", b"c", T + 20)   # the newest listed
    for name in ("d.txt", "e.txt", "f.txt"):
        make_file(few / name)
    make_file(few / "g.txt", b"", T + 40)    # newer, but past a cap of 5
    os.utime(few, (T + 9, T + 9))
    links = r / "links"
    links.mkdir()
    os.symlink("/etc/passwd", links / "abs-out")
    os.symlink("../../../../../../../etc/passwd", links / "dotdot-out")
    os.symlink("nowhere", links / "dangling")
    os.symlink("../few/a.txt", links / "inside")
    return r


def settings(root, **extra):
    s = {"document_root": str(root), "listen": ["127.0.0.1:0"], "user": "",
         "cpu_limit": 1, "directory_listing": True}
    s.update(extra)
    return s


@pytest.fixture(scope="module")
def srv(module_servers, root):
    return module_servers.new(settings(root)).start()


@pytest.fixture(scope="module")
def srv5(module_servers, root):
    return module_servers.new(settings(root, listing_max_entries=5)).start()


def test_big_listing_capped_html(srv):
    """The default cap: the first 10,000 entries by name, then a note."""
    r = srv.fetch("/big/")
    assert r.status == 200, r
    assert r["Content-Type"] == "text/html; charset=utf-8"
    body = r.body.decode()
    start = HTML_HEAD.format(path="/big/") + row("f000000", 0) + row("f000001", 0)
    end = (row("f009998", 0) + row("f009999", 0) + "</table>\n"
           f"<p>The first {DEFAULT_CAP} of {BIG} entries are shown.</p>\n</body>\n</html>\n")
    assert body[:len(start)] == start
    assert body[-len(end):] == end
    rows = body.count("<tr><td>")
    assert rows == DEFAULT_CAP + 1
    assert ">f010000<" not in body[-len(end):]


def test_big_listing_capped_json(srv):
    """JSON stays a plain array of entries: the first 10,000, no marker."""
    r = srv.fetch("/big/", headers=JSON_ACCEPT)
    assert r.status == 200, r
    assert r["Content-Type"] == "application/json"
    entries = json.loads(r.body)
    count = len(entries)
    assert count == DEFAULT_CAP
    assert entries[0] == {"name": "f000000", "type": "file", "size": 0,
                          "mtime": "2024-01-02T03:04:05Z"}
    assert entries[-1]["name"] == "f009999"
    assert [e["name"] for e in entries] == [f"f{i:06d}" for i in range(DEFAULT_CAP)]


def test_max_entries_exact_html(srv5):
    r = srv5.fetch("/few/")
    want = (HTML_HEAD.format(path="/few/") + row("a.txt", 3) + row("b", None)
            + row("c.txt", 1, "2024-01-02 03:04:25") + row("d.txt", 0) + row("e.txt", 0)
            + "</table>\n<p>The first 5 of 7 entries are shown.</p>\n</body>\n</html>\n")
    assert r.status == 200, r
    assert r.body == want.encode()
    assert r["Content-Type"] == "text/html; charset=utf-8"
    assert r["Vary"] == "Accept"
    assert r["ETag"] == f'"l-{fnv1a64(r.body):016x}"'
    # the newest of the directory and the listed entries: not g.txt's
    assert r["Last-Modified"] == http_date(T + 20)


def test_max_entries_exact_json(srv5):
    r = srv5.fetch("/few/", headers=JSON_ACCEPT)
    want = ('[{"name":"a.txt","type":"file","size":3,"mtime":"2024-01-02T03:04:05Z"},'
            '{"name":"b","type":"directory","size":null,"mtime":"2024-01-02T03:04:05Z"},'
            '{"name":"c.txt","type":"file","size":1,"mtime":"2024-01-02T03:04:25Z"},'
            '{"name":"d.txt","type":"file","size":0,"mtime":"2024-01-02T03:04:05Z"},'
            '{"name":"e.txt","type":"file","size":0,"mtime":"2024-01-02T03:04:05Z"}]\n')
    assert r.status == 200, r
    assert r.body == want.encode()
    assert r["Content-Type"] == "application/json"
    assert r["ETag"] == f'"l-{fnv1a64(r.body):016x}-j"'
    assert r["Last-Modified"] == http_date(T + 20)


def test_links_leaving_the_root_not_listed(srv):
    """A link to /etc/passwd, absolute or by "..", gives 404 when followed,
    so it is not listed, nor is a dangling one; a link inside is, with its
    target's size."""
    r = srv.fetch("/links/", headers=JSON_ACCEPT)
    assert r.status == 200, r
    assert json.loads(r.body) == [{"name": "inside", "type": "file", "size": 3,
                                   "mtime": "2024-01-02T03:04:05Z"}]
    for name in ("abs-out", "dotdot-out", "dangling"):
        assert srv.fetch(f"/links/{name}").status == 404
    assert srv.fetch("/links/inside").body == b"abc"


def test_changed_file_changes_validator(srv, root):
    """The ETag is of what the page shows: appending to a listed file, or
    rewriting it with the same size and a new mtime, gives a new one (once
    the page's second of freshness has passed; polled, not slept)."""
    d = root / "grow"
    d.mkdir()
    make_file(d / "log.txt", b"abc")
    first = srv.fetch("/grow/")
    assert first.status == 200, first
    tag = first["ETag"]
    assert srv.fetch("/grow/", headers={"If-None-Match": tag}).status == 304

    with open(d / "log.txt", "ab") as f:
        f.write(b"def")
    os.utime(d / "log.txt", (T, T))  # the size alone tells

    def changed(old):
        r = srv.fetch("/grow/", headers={"If-None-Match": old})
        return r if r.status == 200 else None

    second = wait_until(lambda: changed(tag), 15, "a new ETag after an append")
    assert second["ETag"] != tag
    assert row("log.txt", 6).encode() in second.body

    make_file(d / "log.txt", b"ABCDEF", T + 100)
    third = wait_until(lambda: changed(second["ETag"]), 15, "a new ETag after a rewrite")
    assert row("log.txt", 6, "2024-01-02 03:05:45").encode() in third.body
    assert third["ETag"] not in (tag, second["ETag"])


def test_no_accept_ranges(srv):
    """A listing is made per request, so it offers no ranges: none
    advertised, and a Range request gets the whole page."""
    whole = srv.fetch("/few/")
    assert whole.status == 200, whole
    assert whole.header("Accept-Ranges") is None, whole
    head = srv.fetch("/few/", method="HEAD")
    assert head.header("Accept-Ranges") is None, head
    ranged = srv.fetch("/few/", headers={"Range": "bytes=0-9"})
    assert ranged.status == 200, ranged
    assert ranged.body == whole.body


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def slow_reader(port):
    """A client that asks for the big listing with a tiny receive window
    and never reads."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(req("/big/"))
    return s


def has_bytes(s):
    try:
        return len(s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)) > 0
    except BlockingIOError:
        return False


def test_slow_readers_neither_stall_the_ring_nor_hold_a_page_each(servers, root):
    """30 clients ask for the 100,000-entry listing and never read, while
    one client asks for a cached 1 KiB file on the same (only) ring. The
    cached requests keep being answered while the listings are built and
    held: 200 of them, each within a 5 s guard (0.2 built 30 listings on
    the ring, 0.3-0.6 s each, before answering). The server's memory grows
    by one shared, capped page, not by a page per slow client (0.2: ~16 MB
    each)."""
    srv = servers.new(settings(root)).start()
    assert srv.fetch("/small.bin").body == SMALL  # now in the file cache
    before = vm_rss_kib(srv.pid)
    slow = [slow_reader(srv.port) for _ in range(SLOW_CLIENTS)]
    try:
        served = 0
        with Client(srv.port, timeout=5) as fast:
            while served < FAST_REQUESTS:
                fast.send(req("/small.bin"))
                r = fast.response()
                assert r.status == 200 and r.body == SMALL, r
                served += 1
            # every slow client has been answered, and is stuck
            wait_until(lambda: all(has_bytes(s) for s in slow), 60,
                       "the slow clients' responses")
            grown = vm_rss_kib(srv.pid) - before
            fast.send(req("/small.bin"))
            assert fast.response().body == SMALL
        assert served == FAST_REQUESTS
        assert grown < 64 * 1024, f"RSS grew by {grown} KiB with {SLOW_CLIENTS} slow readers"
    finally:
        for s in slow:
            s.close()
    assert srv.fetch("/small.bin").body == SMALL
