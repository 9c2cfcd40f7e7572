"""File bodies: exact bytes of a 98,620-byte and a 10 MiB file (the zero-copy
path), pipelined and concurrent downloads, ranges of large files, and a
sparse 5 GiB file served whole and by ranges beyond 4 GiB."""

import concurrent.futures
import os
import random

import pytest

from rhtest import Client, req, sha, write_files

MID = 98620
BIG = 10 * 1024 * 1024
HUGE = 5 * 1024 ** 3
# markers in the sparse 5 GiB file: across INT_MAX, across 4 GiB, near the end
MARKS = {2 ** 31 - 6: b"<ACROSS-INT_MAX>", 2 ** 32 - 8: b"<ACROSS-4-GiB>",
         HUGE - 100: b"<NEAR-THE-END-OF-5-GiB>"}

_rnd = random.Random(98620)
FILES = {
    "mid.bin": _rnd.randbytes(MID),
    "big.bin": _rnd.randbytes(BIG),
    "small.txt": b"small\n",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """FILES, and beside them the sparse 5 GiB file."""
    root = tmp_path_factory.mktemp("bodies") / "root"
    write_files(root, FILES)
    with open(root / "huge.bin", "wb") as f:
        f.truncate(HUGE)
        for offset, mark in MARKS.items():
            f.seek(offset)
            f.write(mark)
    return root


def huge_bytes(root, first, last):
    with open(root / "huge.bin", "rb") as f:
        return os.pread(f.fileno(), last - first + 1, first)


@pytest.mark.parametrize("name", ["mid.bin", "big.bin"])
def test_whole_file(srv, name):
    r = srv.fetch("/" + name)
    assert r.status == 200
    assert r["Content-Length"] == str(len(FILES[name]))
    assert r["Content-Type"] == "application/octet-stream"
    assert sha(r.body) == sha(FILES[name])


def test_pipelined_large_files(srv):
    names = ["big.bin", "mid.bin", "small.txt", "big.bin", "small.txt", "mid.bin"]
    with srv.client() as c:
        c.send(b"".join(req("/" + n) for n in names))
        for i, n in enumerate(names):
            r = c.response()
            assert (r.status, sha(r.body)) == (200, sha(FILES[n])), f"response {i} ({n})"


def test_head_of_large_files(srv):
    with srv.client() as c:
        c.send(req("/big.bin", "HEAD") + req("/huge.bin", "HEAD") + req("/small.txt"))
        assert c.response(head=True)["Content-Length"] == str(BIG)
        assert c.response(head=True)["Content-Length"] == str(HUGE)
        assert c.response().body == FILES["small.txt"]


def test_concurrent_downloads(srv):
    def download(i):
        name = ("big.bin", "mid.bin")[i % 2]
        with srv.client() as c:
            for _ in range(3):
                c.send(req("/" + name))
                r = c.response()
                if sha(r.body) != sha(FILES[name]):
                    return f"client {i}: wrong bytes for {name}"
        return None

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        errors = [e for e in pool.map(download, range(8)) if e]
    assert not errors


@pytest.mark.parametrize("first,last", [
    (0, 65535), (65535, 65536), (1000000, 5000000), (BIG - 3000000, BIG - 1), (4095, 4096 * 300),
])
def test_range_of_big_file(srv, first, last):
    r = srv.fetch("/big.bin", headers={"Range": f"bytes={first}-{last}"})
    assert r.status == 206
    assert r["Content-Range"] == f"bytes {first}-{last}/{BIG}"
    assert sha(r.body) == sha(FILES["big.bin"][first:last + 1])


def test_huge_file_whole(srv, root):
    """Served whole with a 64-bit Content-Length; read the first MiB, then hang up."""
    r = srv.fetch("/huge.bin", max_body=1 << 20)
    assert r.status == 200
    assert r["Content-Length"] == "5368709120"
    assert r.body == huge_bytes(root, 0, (1 << 20) - 1)
    assert srv.fetch("/small.txt").body == FILES["small.txt"]


@pytest.mark.parametrize("spec,first,last", [
    ("bytes=5368708000-5368709119", 5368708000, HUGE - 1),
    ("bytes=5368709000-", 5368709000, HUGE - 1),
    ("bytes=-4096", HUGE - 4096, HUGE - 1),
    ("bytes=4294967280-4294967311", 2 ** 32 - 16, 2 ** 32 + 15),
    ("bytes=2147483630-2147483665", 2 ** 31 - 18, 2 ** 31 + 17),
    ("bytes=4294967296-4294967296", 2 ** 32, 2 ** 32),
])
def test_huge_file_range(srv, root, spec, first, last):
    r = srv.fetch("/huge.bin", headers={"Range": spec})
    assert r.status == 206
    assert r["Content-Range"] == f"bytes {first}-{last}/{HUGE}"
    assert r["Content-Length"] == str(last - first + 1)
    expected = huge_bytes(root, first, last)
    assert any(m in expected for m in MARKS.values()) or first == last
    assert r.body == expected


def test_huge_range_beyond_end_416(srv):
    r = srv.fetch("/huge.bin", headers={"Range": f"bytes={HUGE}-"})
    assert r.status == 416 and r["Content-Range"] == f"bytes */{HUGE}"


def test_keep_alive_after_partial_read_of_other_client(srv):
    """A client that reads part of a large body and leaves does not disturb
    one that reads a large body at the same time."""
    with Client(srv.port) as reader, Client(srv.port) as quitter:
        reader.send(req("/big.bin"))
        quitter.send(req("/huge.bin"))
        head = reader.response(max_body=1 << 20)
        quitter.response(max_body=1 << 16)
        quitter.reset()
        rest = reader.read_exact(BIG - len(head.body))
        assert sha(head.body + rest) == sha(FILES["big.bin"])
        reader.send(req("/small.txt"))
        assert reader.response().body == FILES["small.txt"]
