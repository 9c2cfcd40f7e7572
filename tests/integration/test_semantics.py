"""HTTP/1.1 semantics probed as a hostile client would: request bodies in
both framings (RFC 9112 6, 7.1), Expect (RFC 9110 10.1.1), Host (RFC 9112
3.2), preconditions in the order of RFC 9110 13.2.2, multiple ranges (RFC
9110 14.6), normalized paths and safe redirects (RFC 3986 5.2.4), the
request line (RFC 9112 2-3), and request smuggling: every answer is
checked byte by byte, and after it the connection is either closed or
answers the next pipelined request exactly once."""

import os
import random
import re
import shutil
import socket
import tempfile
import time

import pytest

from rhtest import (IMF_FIXDATE_RE, STRONG_ETAG_RE, Client, http_date, req, unread_by_server,
                    wait_until)

MTIME = 1614834367          # Thu, 04 Mar 2021 05:06:07 GMT
RANGE_SIZE = 2000
RANGE_DATA = bytes((i * 31 + 7) % 251 for i in range(RANGE_SIZE))
BIG_DATA = random.Random(9110).randbytes(300 * 1024)
FILES = {
    "a.html": b"<!doctype html><title>a</title><p>page a</p>\n",
    "b.txt": b"B: answered only when asked for, never from inside a body\n",
    "c.txt": b"C: the request after the one under test\n",
    "index.html": b"<p>root index</p>\n",
    "docs/index.html": b"<p>docs index</p>\n",
    "docs/page.txt": b"a page in docs\n",
    "a b/index.html": b"<p>a directory with a space</p>\n",
    "\u00fc/index.html": b"<p>a directory with a non-ASCII name</p>\n",
    "x?y/index.html": b"<p>a question mark in a directory name</p>\n",
    "50%/index.html": b"<p>a percent sign in a directory name</p>\n",
    "range.bin": RANGE_DATA,
    "range.txt": RANGE_DATA.hex().encode()[:RANGE_SIZE],
    "big.bin": BIG_DATA,
    "empty.txt": b"",
}
SMUGGLED = req("/b.txt")
MARK = FILES["b.txt"][:20]          # never seen in any answer but to /b.txt
FOLLOW = req("/c.txt", headers={"Connection": "close"})
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
CHUNKED = {"Transfer-Encoding": "chunked"}


# ----------------------------------------------------------------- helpers

def send(c, data):
    """Send DATA; a server that already closed (it may, after an error
    answer) is no failure here: what it answered is checked after."""
    try:
        c.send(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def expect_closed(c, status):
    """One answer with STATUS, an HTML error body and Connection: close,
    then the end of the connection with nothing more: no later request was
    answered."""
    r = c.response()
    assert r.status == status, r
    assert r["Connection"] == "close", r
    assert r["Content-Type"].split(";")[0] == "text/html" and 0 < r.length == len(r.body), r
    rest = c.expect_eof()
    assert rest == b"", f"bytes after a closing answer: {rest[:200]!r}"
    assert MARK not in r.body
    return r


def rejected(srv, data, status=400):
    with Client(srv.port) as c:
        send(c, data)
        return expect_closed(c, status)


def expect_follow(c):
    """The answer to FOLLOW: exactly c.txt, then the end of the connection
    with nothing after it (the request before was answered only once)."""
    r = c.response()
    assert (r.status, r.body, r.length) == (200, FILES["c.txt"], len(FILES["c.txt"])), r
    assert r["Connection"] == "close", r
    rest = c.expect_eof()
    assert rest == b"", f"bytes after the last answer: {rest[:200]!r}"


def expect_file(r, name, status=200, keep=True):
    assert (r.status, r.body) == (status, FILES[name]), r
    assert r["Content-Length"] == str(len(FILES[name])), r
    if keep is not None:
        assert r["Connection"] == ("keep-alive" if keep else "close"), r


def no_desync(srv, data, statuses, head=False):
    """Send DATA and FOLLOW at once. The first answer has a status in
    STATUSES; then either the connection closes with nothing more, or FOLLOW
    is answered exactly once with its exact bytes. The smuggled request for
    b.txt that DATA may carry is never answered."""
    with Client(srv.port) as c:
        send(c, data + FOLLOW)
        r = c.response(head=head)
        assert r.status in statuses, r
        assert MARK not in r.body, r
        if r["Connection"] == "close":
            rest = c.expect_eof()
            assert rest == b"", f"bytes after a closing answer: {rest[:200]!r}"
        else:
            expect_follow(c)
    return r


def wait_read(srv, what="the server to read what was sent"):
    wait_until(lambda: unread_by_server(srv.port) == 0, 10, what, interval=0.002)


def send_pieces(srv, c, data, cuts):
    """Send DATA cut at the offsets CUTS, each piece only once the server
    has read the one before (so each is a read of its own)."""
    bounds = [0, *cuts, len(data)]
    for i, j in zip(bounds, bounds[1:]):
        if i == j:
            continue
        c.send(data[i:j])
        wait_read(srv)


def nothing_arrived(c):
    """True when no byte of an answer has arrived (not read yet either)."""
    if c.buf:
        return False
    c.sock.setblocking(False)
    try:
        c.sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        c.sock.settimeout(c.timeout)
    return False        # a byte, or the end of the connection


def chunk(data, ext=b""):
    return b"%x" % len(data) + ext + b"\r\n" + data + b"\r\n"


def chunked(*pieces, trailers=b""):
    return b"".join(chunk(p) for p in pieces) + b"0\r\n" + trailers + b"\r\n"


def post(target="/a.html", headers=None, method="POST", version="HTTP/1.1"):
    return req(target, method, version=version, headers=headers or {})


# ================================================== 1. request bodies

@pytest.mark.parametrize("method,status", [("POST", 405), ("GET", 200), ("HEAD", 200),
                                           ("DELETE", 405), ("OPTIONS", 204)])
def test_content_length_body_dropped(srv, method, status):
    """A Content-Length body (itself a request) is read and dropped; the
    answer is what the bodiless request gets, and the connection goes on."""
    with Client(srv.port) as c:
        c.send(post(method=method, headers={"Content-Length": str(len(SMUGGLED))})
               + SMUGGLED + FOLLOW)
        r = c.response(head=method == "HEAD")
        assert r.status == status, r
        assert r["Connection"] == "keep-alive", r
        if method == "GET":
            expect_file(r, "a.html")
        expect_follow(c)


@pytest.mark.parametrize("method,status", [("POST", 405), ("GET", 200), ("HEAD", 200),
                                           ("PUT", 405)])
def test_chunked_body_then_pipelined_get(srv, method, status):
    """RFC 9112 7.1: a chunked POST and a pipelined GET in one send: both
    answered, the GET's bytes exact."""
    body = chunked(SMUGGLED[:10], SMUGGLED[10:], b"x" * 300)
    with Client(srv.port) as c:
        c.send(post(method=method, headers=CHUNKED) + body + req("/c.txt"))
        r = c.response(head=method == "HEAD")
        assert (r.status, r["Connection"]) == (status, "keep-alive"), r
        if method == "GET":
            expect_file(r, "a.html")
        expect_file(c.response(), "c.txt")
        c.send(FOLLOW)
        expect_follow(c)


def test_chunked_body_every_byte_a_read_of_its_own(srv):
    """The chunked body, with extensions and trailers, arrives one byte at
    a time: the answer waits for the last byte, and the request after it is
    answered."""
    body = (chunk(b"hello", b';a=b') + chunk(b"world!", b' ; q = "x \\" y"')
            + b"0;end\r\nX-Trailer: yes\r\n\r\n")
    head = post(headers=CHUNKED)
    with Client(srv.port) as c:
        c.send(head)
        wait_read(srv)
        for i in range(len(body)):
            assert nothing_arrived(c), f"an answer before byte {i} of the body"
            c.send(body[i:i + 1])
            wait_read(srv)
        r = c.response()
        assert (r.status, r["Connection"]) == (405, "keep-alive"), r
        c.send(FOLLOW)
        expect_follow(c)


BODY_FOR_SPLITS = chunk(b"0123456789abcdef", b";k=v") + b"0\r\nT: 1\r\n\r\n"


@pytest.mark.parametrize("cut", range(1, len(BODY_FOR_SPLITS)))
def test_chunked_body_split_anywhere(srv, cut):
    """The body cut in two at every offset: the same answer, and the
    request that follows the body in the second piece is answered."""
    with Client(srv.port) as c:
        send_pieces(srv, c, post(headers=CHUNKED) + BODY_FOR_SPLITS + FOLLOW,
                    [len(post(headers=CHUNKED)) + cut])
        r = c.response()
        assert (r.status, r["Connection"]) == (405, "keep-alive"), r
        expect_follow(c)


WHOLE_CHUNKED = post(headers=CHUNKED) + chunk(b"abc", b";x") + b"0\r\nT: 1\r\n\r\n"


@pytest.mark.parametrize("cut", range(1, len(WHOLE_CHUNKED), 3))
def test_chunked_request_split_anywhere(srv, cut):
    """Head and body together cut at every third offset: the cut may fall
    in the head, in the blank line, or in the body."""
    with Client(srv.port) as c:
        send_pieces(srv, c, WHOLE_CHUNKED + FOLLOW, [cut])
        r = c.response()
        assert (r.status, r["Connection"]) == (405, "keep-alive"), r
        expect_follow(c)


def test_many_pipelined_bodies_across_buffers(srv):
    """Ten requests with 20 KiB bodies, chunked and not, one send: the
    bodies straddle the server's receive buffers; each request is
    answered once, in order, and no body is taken for a request."""
    data, want = b"", []
    for i in range(10):
        body = (SMUGGLED * 400)[:20000]
        if i % 2:
            data += post(headers=CHUNKED) + chunk(body[:7000]) + chunk(body[7000:]) + b"0\r\n\r\n"
            want.append(405)
        else:
            data += post(method="GET", headers={"Content-Length": str(len(body))}) + body
            want.append(200)
    with Client(srv.port) as c:
        c.send(data + FOLLOW)
        for i, status in enumerate(want):
            r = c.response()
            assert (r.status, r["Connection"]) == (status, "keep-alive"), (i, r)
            if status == 200:
                assert r.body == FILES["a.html"]
        expect_follow(c)


@pytest.mark.parametrize("cut", [1, 17, 100, 16383, 16384, 16385, 40000, 65535])
def test_content_length_body_split(srv, cut):
    body = bytes(range(256)) * 256          # 65536 bytes: the largest read
    with Client(srv.port) as c:
        head = post(method="GET", headers={"Content-Length": str(len(body))})
        send_pieces(srv, c, head + body + FOLLOW, [len(head) + cut])
        expect_file(c.response(), "a.html")
        expect_follow(c)


@pytest.mark.parametrize("size", [0x5, 0xA, 0xa, 0x10], ids=["5", "A", "a", "10"])
def test_chunk_size_forms(srv, size):
    spelled = {5: [b"5", b"0005", b"0000000000000005"], 10: [b"A", b"a", b"00a"],
               16: [b"10", b"0010"]}[size]
    for s in spelled:
        body = s + b"\r\n" + b"z" * size + b"\r\n000\r\n\r\n"
        with Client(srv.port) as c:
            c.send(post(headers=CHUNKED) + body + FOLLOW)
            assert c.response().status == 405
            expect_follow(c)


def test_empty_chunked_body(srv):
    with Client(srv.port) as c:
        c.send(post(headers=CHUNKED) + b"0\r\n\r\n" + FOLLOW)
        assert c.response().status == 405
        expect_follow(c)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_body_cut_short_by_the_client(srv, framing):
    """The client ends the connection in the middle of a body: no answer
    is owed (RFC 9112 8: an incomplete message), at most an error one,
    and the connection ends; nothing of the body is taken for a request."""
    head = post(headers={"Content-Length": "100"} if framing == "content-length" else CHUNKED)
    body = SMUGGLED if framing == "content-length" else b"64\r\n" + SMUGGLED
    with Client(srv.port) as c:
        c.send(head + body)
        wait_read(srv)
        c.sock.shutdown(socket.SHUT_WR)
        rest = c.expect_eof()
        assert rest == b"" or rest.startswith(b"HTTP/1.1 400 "), rest
        assert MARK not in rest


VALID_EXTENSIONS = {
    "name-value": b";a=b",
    "quoted": b';a="q s"',
    "quoted-pair": b';a="q\\"s\\\\"',
    "quoted-empty": b';a=""',
    "name-only": b";a",
    "several": b";a=b;c;d=\"e\"",
    "bws-before-semicolon": b" \t;a=b",
    "bws-around-equals": b"; a = b",
    "bws-everywhere": b" ; a = \"v\" ; b",
    "token-chars": b";!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
    "obs-text-in-quoted": b';a="\x80\xff"',
    "1024-bytes": b";" + b"n" * 1023,
}


@pytest.mark.parametrize("ext", VALID_EXTENSIONS.values(), ids=VALID_EXTENSIONS.keys())
def test_chunk_extension_accepted(srv, ext):
    """RFC 9112 7.1.1: extensions are parsed and ignored."""
    body = chunk(b"hello", ext) + b"0" + ext + b"\r\n\r\n"
    with Client(srv.port) as c:
        c.send(post(headers=CHUNKED) + body + FOLLOW)
        r = c.response()
        assert (r.status, r["Connection"]) == (405, "keep-alive"), r
        expect_follow(c)


TRAILERS = {
    "plain": b"X-Checksum: 1234\r\n",
    "empty-value": b"X-Empty:\r\n",
    "several": b"A: 1\r\nB: 2\r\nC:3\r\n",
    "connection-close": b"Connection: close\r\n",
    "host": b"Host: x\r\n",
    "content-length": b"Content-Length: 500\r\n",
    "transfer-encoding": b"Transfer-Encoding: gzip\r\n",
    "expect": b"Expect: nonsense\r\n",
    "obs-text": b"X-T: \x80\xff\r\n",
    "near-the-limit": b"".join(b"X-Pad-%03d: %s\r\n" % (i, b"p" * 60) for i in range(100)),
}


@pytest.mark.parametrize("trailers", TRAILERS.values(), ids=TRAILERS.keys())
def test_trailers_accepted_never_merged(srv, trailers):
    """RFC 9112 7.1.2: trailers are parsed and dropped; none of them
    (Connection: close, Host, Content-Length...) changes anything: the
    answer says keep-alive, and the next request is answered."""
    with Client(srv.port) as c:
        c.send(post(method="GET", headers=CHUNKED) + chunked(b"data", trailers=trailers)
               + req("/c.txt"))
        expect_file(c.response(), "a.html")
        expect_file(c.response(), "c.txt")
        c.send(FOLLOW)
        expect_follow(c)


MALFORMED_CHUNKS = {
    "17-hex-digits": b"00000000000000005\r\nhello\r\n0\r\n\r\n",
    "17-digits-wrapping-to-5": b"10000000000000005\r\nhello\r\n0\r\n\r\n",
    "plus": b"+5\r\nhello\r\n0\r\n\r\n",
    "minus": b"-5\r\nhello\r\n0\r\n\r\n",
    "0x-prefix": b"0x5\r\nhello\r\n0\r\n\r\n",
    "underscore": b"5_0\r\n" + b"h" * 0x50 + b"\r\n0\r\n\r\n",
    "leading-space": b" 5\r\nhello\r\n0\r\n\r\n",
    "trailing-space": b"5 \r\nhello\r\n0\r\n\r\n",
    "trailing-tab": b"5\t\r\nhello\r\n0\r\n\r\n",
    "inner-space": b"1 0\r\n" + b"h" * 16 + b"\r\n0\r\n\r\n",
    "empty-size": b"\r\nhello\r\n0\r\n\r\n",
    "non-hex": b"g\r\nhello\r\n0\r\n\r\n",
    "nul-after-size": b"5\x00\r\nhello\r\n0\r\n\r\n",
    "bare-lf-after-size": b"5\nhello\r\n0\r\n\r\n",
    "bare-cr-after-size": b"5\rhello\r\n0\r\n\r\n",
    "no-crlf-after-data": b"5\r\nhello0\r\n\r\n",
    "lf-only-after-data": b"5\r\nhello\n0\r\n\r\n",
    "cr-only-after-data": b"5\r\nhello\r0\r\n\r\n",
    "data-longer-than-size": b"5\r\nhelloX\r\n0\r\n\r\n",
    "data-shorter-than-size": b"5\r\nhell\r\n0\r\n\r\n\r\n",
    "bare-lf-after-last-chunk": b"5\r\nhello\r\n0\n\r\n",
    "bare-lf-final": b"5\r\nhello\r\n0\r\n\n",
    "cr-then-junk-final": b"5\r\nhello\r\n0\r\n\rX\r\n\r\n",
    "ext-semicolon-only": b"5;\r\nhello\r\n0\r\n\r\n",
    "ext-no-name": b"5;=a\r\nhello\r\n0\r\n\r\n",
    "ext-no-value": b"5;a=\r\nhello\r\n0\r\n\r\n",
    "ext-unterminated-quote": b'5;a="q\r\nhello\r\n0\r\n\r\n',
    "ext-text-after-quote": b'5;a="q"x\r\nhello\r\n0\r\n\r\n',
    "ext-space-in-token": b"5;a=b c\r\nhello\r\n0\r\n\r\n",
    "ext-bad-name-char": b"5;a(b)=c\r\nhello\r\n0\r\n\r\n",
    "ext-trailing-space": b"5;a=b \r\nhello\r\n0\r\n\r\n",
    "ext-ctl-in-quoted": b'5;a="\x01"\r\nhello\r\n0\r\n\r\n',
    "ext-lf-in-quoted": b'5;a="x\nGET /b.txt HTTP/1.1"\r\nhello\r\n0\r\n\r\n',
    "ext-without-semicolon": b"5 a=b\r\nhello\r\n0\r\n\r\n",
    "ext-over-1-KiB": b"5;" + b"n" * 1100 + b"\r\nhello\r\n0\r\n\r\n",
    "ext-over-1-KiB-last-chunk": b"0;" + b"n=" + b"v" * 1100 + b"\r\n\r\n",
    "trailer-without-colon": b"0\r\nNoColon\r\n\r\n",
    "trailer-space-before-colon": b"0\r\nX-T : 1\r\n\r\n",
    "trailer-empty-name": b"0\r\n: v\r\n\r\n",
    "trailer-obs-fold": b"0\r\nX-T: 1\r\n folded\r\n\r\n",
    "trailer-bare-lf": b"0\r\nX-T: 1\n\r\n",
    "trailer-nul": b"0\r\nX-T: a\x00b\r\n\r\n",
    "trailer-cr-in-value": b"0\r\nX-T: a\rb\r\n\r\n",
    "trailers-over-8-KiB": b"0\r\n" + b"".join(b"X-Pad-%03d: %s\r\n" % (i, b"p" * 80)
                                                for i in range(100)) + b"\r\n",
}


@pytest.mark.parametrize("body", MALFORMED_CHUNKS.values(), ids=MALFORMED_CHUNKS.keys())
def test_malformed_chunked_400_and_close(srv, body):
    """RFC 9112 7.1: every violation is 400, and since the framing is lost
    the connection closes; the request sent after it is never answered."""
    with Client(srv.port) as c:
        send(c, post(headers=CHUNKED) + body + SMUGGLED + FOLLOW)
        expect_closed(c, 400)


def test_malformed_chunk_size_alone_400(srv):
    """The error is found on the size line, without waiting for data."""
    with Client(srv.port) as c:
        c.send(post(headers=CHUNKED) + b"ffffffffffffffff0\r\n")
        expect_closed(c, 400)


def wire_body(total):
    """A chunked body of exactly TOTAL bytes on the wire, final CRLF
    included: 1000-byte chunks, then one that makes up the rest."""
    pieces, left = [], total - len(b"0\r\n\r\n")
    while left > len(chunk(b"x" * 1000)) + len(chunk(b"x")):
        pieces.append(chunk(bytes(range(256)) * 3 + b"x" * 232))
        left -= len(pieces[-1])
    size = left - 4                 # "h\r\n" ... "\r\n" around SIZE bytes
    while len(chunk(b"y" * size)) > left:
        size -= 1
    last = chunk(b"y" * size)
    ext = b";" + b"p" * (left - len(last) - 1) if left > len(last) else b""
    body = b"".join(pieces) + chunk(b"y" * size, ext) + b"0\r\n\r\n"
    assert len(body) == total, (len(body), total)
    return body


@pytest.mark.parametrize("total,status", [(65536, 405), (65537, 413)])
def test_chunked_body_limit(srv, total, status):
    """64 KiB of chunked body on the wire, sizes, CRLFs and the last chunk
    included, is read and dropped; one byte more is 413 and a close."""
    with Client(srv.port) as c:
        send(c, post(headers=CHUNKED) + wire_body(total) + FOLLOW)
        if status == 413:
            expect_closed(c, 413)
        else:
            r = c.response()
            assert (r.status, r["Connection"]) == (405, "keep-alive"), r
            expect_follow(c)


def test_chunk_extensions_count_against_the_limit(srv):
    """One-byte chunks each with a 1,000-byte extension: 100 of them carry
    100 bytes of data in 100 KB on the wire, past the 64 KiB limit, so 413
    and the connection closes (it is not read to the end)."""
    one = chunk(b"x", b";e=" + b"v" * 997)
    assert len(one) == 1006
    with Client(srv.port) as c:
        send(c, post(headers=CHUNKED) + one * 100 + b"0\r\n\r\n" + FOLLOW)
        expect_closed(c, 413)


def test_chunk_extensions_under_the_limit_kept(srv):
    """The same chunks, 60 of them (60,365 bytes with the last chunk): read
    and dropped, and the connection goes on."""
    one = chunk(b"x", b";e=" + b"v" * 997)
    with Client(srv.port) as c:
        send(c, post(headers=CHUNKED) + one * 60 + b"0\r\n\r\n" + FOLLOW)
        r = c.response()
        assert (r.status, r["Connection"]) == (405, "keep-alive"), r
        expect_follow(c)


def test_trailers_count_against_the_limit(srv):
    """Trailers within their own 8 KiB limit still count: 62 KiB of data
    and 7 KiB of trailers are more than 64 KiB."""
    data = b"".join(chunk(b"t" * 1024) for _ in range(62))
    trailers = b"".join(b"X-Pad-%02d: %s\r\n" % (i, b"p" * 90) for i in range(70))
    assert len(trailers) < 8192 and len(data) < 65536 < len(data) + len(trailers)
    with Client(srv.port) as c:
        send(c, post(headers=CHUNKED) + data + b"0\r\n" + trailers + b"\r\n" + FOLLOW)
        expect_closed(c, 413)


def test_huge_chunk_size_413(srv):
    """A chunk that announces 2^64-1 bytes: 413 once more than 64 KiB of it
    has come, never a wrap-around."""
    with Client(srv.port) as c:
        send(c, post(headers=CHUNKED) + b"ffffffffffffffff\r\n" + b"d" * 70000)
        expect_closed(c, 413)


def test_content_length_64k_read(srv):
    body = b"q" * 65536
    with Client(srv.port) as c:
        c.send(post(headers={"Content-Length": "65536"}) + body + FOLLOW)
        r = c.response()
        assert (r.status, r["Connection"]) == (405, "keep-alive"), r
        expect_follow(c)


@pytest.mark.parametrize("method,status", [("POST", 405), ("GET", 200)])
def test_content_length_over_64k_answered_at_once(srv, method, status):
    """A body over 64 KiB is not waited for: the answer comes before any of
    it is sent, with Connection: close; what the client sends then (the
    body, a request) is read and dropped, and the connection closes."""
    with Client(srv.port) as c:
        c.send(post(method=method, headers={"Content-Length": "65537"}))
        r = c.response()
        assert (r.status, r["Connection"]) == (status, "close"), r
        if method == "GET":
            assert r.body == FILES["a.html"]
        send(c, b"s" * 65537 + SMUGGLED)
        assert c.expect_eof() == b""


TE_REJECTED = {
    "chunked-not-last": ("chunked, gzip", None, 400),
    "chunked-twice-one-line": ("chunked, chunked", None, 400),
    "chunked-twice-two-lines": ("chunked", "chunked", 400),
    "chunked-then-gzip-line": ("chunked", "gzip", 400),
    "chunked-with-parameter": ("chunked;q=1", None, 400),
    "empty": ("", None, 400),
    "only-commas": (", ,", None, 400),
    "gzip-alone": ("gzip", None, 501),
    "deflate-alone": ("deflate", None, 501),
    "gzip-then-chunked": ("gzip, chunked", None, 501),
    "unknown-token": ("xchunked", None, 501),
}


@pytest.mark.parametrize("te1,te2,status", TE_REJECTED.values(), ids=TE_REJECTED.keys())
def test_transfer_encoding_rejected(srv, te1, te2, status):
    """RFC 9112 6.1, 6.3: chunked not last or twice is 400; a coding the
    server does not know is 501; both close (the framing is unknown)."""
    headers = [("Transfer-Encoding", te1)] + ([("Transfer-Encoding", te2)] if te2 else [])
    rejected(srv, post(headers=headers) + chunked(SMUGGLED) + FOLLOW, status)


@pytest.mark.parametrize("te", ["chunked", "CHUNKED", "\tchunked\t", "chunked,", ", chunked"])
def test_transfer_encoding_spellings(srv, te):
    """Case-insensitive token, OWS and empty list elements (RFC 9110 5.6.1)."""
    with Client(srv.port) as c:
        c.send(post(headers={"Transfer-Encoding": te}) + chunked(SMUGGLED) + FOLLOW)
        assert c.response().status == 405
        expect_follow(c)


def test_transfer_encoding_in_http10_400(srv):
    """RFC 9112 6.1: chunked in a 1.0 request cannot be trusted: 400 and close."""
    rejected(srv, post(version="HTTP/1.0", headers=CHUNKED) + chunked(SMUGGLED) + FOLLOW)


# ======================================================= 2. Expect

def read_continue(c):
    got = c.read_exact(len(CONTINUE))
    assert got == CONTINUE, got


def first_bytes(c, n=12):
    data = c.read_exact(n)
    c.buf[:0] = data
    return data


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_expect_100_continue(srv, framing):
    """RFC 9110 10.1.1: exactly "HTTP/1.1 100 Continue" CRLF CRLF before
    the body is read; after the body, the final answer; then the
    connection goes on."""
    body = SMUGGLED if framing == "content-length" else chunked(SMUGGLED)
    headers = {"Expect": "100-continue"}
    headers.update({"Content-Length": str(len(body))} if framing == "content-length" else CHUNKED)
    with Client(srv.port) as c:
        c.send(post(headers=headers))
        read_continue(c)
        wait_read(srv)
        assert nothing_arrived(c), "a final answer before the body"
        c.send(body + FOLLOW)
        r = c.response()
        assert (r.status, r["Connection"]) == (405, "keep-alive"), r
        expect_follow(c)


def test_expect_100_continue_case_insensitive(srv):
    with Client(srv.port) as c:
        c.send(post(headers={"Expect": "100-Continue", "Content-Length": "5"}))
        read_continue(c)
        c.send(b"hello" + FOLLOW)
        assert c.response().status == 405
        expect_follow(c)


def test_expect_100_continue_body_sent_anyway(srv):
    """A client that does not wait for the 100 (RFC 9110 10.1.1 lets it):
    an optional 100 and then one final answer, nothing else."""
    with Client(srv.port) as c:
        c.send(post(method="GET", headers={"Expect": "100-continue", "Content-Length": "5"})
               + b"hello" + FOLLOW)
        if first_bytes(c) == CONTINUE[:12]:
            read_continue(c)
        expect_file(c.response(), "a.html")
        expect_follow(c)


@pytest.mark.parametrize("headers", [{}, {"Content-Length": "0"}], ids=["no-length", "length-0"])
def test_expect_without_body_no_100(srv, headers):
    """No body to read: no 100, the final status straight out."""
    with Client(srv.port) as c:
        c.send(post(method="GET", headers={"Expect": "100-continue", **headers}) + FOLLOW)
        assert first_bytes(c) == b"HTTP/1.1 200"
        expect_file(c.response(), "a.html")
        expect_follow(c)


def test_expect_with_body_over_64k_no_100(srv):
    """A body the server will not read: no 100 (RFC 9110 10.1.1: a server
    that sends a final status without reading the body), then close."""
    with Client(srv.port) as c:
        c.send(post(headers={"Expect": "100-continue", "Content-Length": "1000000"}))
        assert first_bytes(c) == b"HTTP/1.1 405"
        r = c.response()
        assert (r.status, r["Connection"]) == (405, "close"), r
        assert c.expect_eof() == b""


def test_expect_in_http10_ignored(srv):
    """RFC 9110 10.1.1: a 100-continue expectation in HTTP/1.0 is ignored."""
    with Client(srv.port) as c:
        c.send(post(version="HTTP/1.0", headers={"Expect": "100-continue",
                                                  "Content-Length": "5",
                                                  "Connection": "keep-alive"}))
        wait_read(srv)
        assert nothing_arrived(c), "an answer (a 100?) before the body of a 1.0 request"
        c.send(b"hello")
        assert first_bytes(c) == b"HTTP/1.1 405"
        assert c.response().status == 405


def test_expect_100_continue_chunked_over_64k_413(srv):
    """The body is read after the 100; once it passes 64 KiB: 413, close."""
    with Client(srv.port) as c:
        c.send(post(headers={"Expect": "100-continue", **CHUNKED}))
        read_continue(c)
        send(c, b"".join(chunk(b"e" * 4096) for _ in range(17)) + b"0\r\n\r\n" + FOLLOW)
        expect_closed(c, 413)


def test_expect_100_continue_behind_a_large_answer(srv):
    """Pipelined behind a 300 KiB answer, the 100 comes after all of it,
    never inside it."""
    with Client(srv.port) as c:
        c.send(req("/big.bin") + post(headers={"Expect": "100-continue",
                                               "Content-Length": "5"}))
        r = c.response()
        assert (r.status, r.body) == (200, BIG_DATA)
        read_continue(c)
        c.send(b"hello" + FOLLOW)
        assert c.response().status == 405
        expect_follow(c)


def test_expect_100_continue_for_a_bad_path(srv):
    """The answer is an error (400 for the path, which closes): still
    exactly one final answer, and no desync."""
    with Client(srv.port) as c:
        send(c, post(target="/%00", method="GET",
                     headers={"Expect": "100-continue", "Content-Length": "5"}))
        if first_bytes(c) == CONTINUE[:12]:
            read_continue(c)
        send(c, b"hello" + FOLLOW)
        r = c.response()
        assert r.status == 400, r
        if r["Connection"] == "close":
            assert c.expect_eof() == b""
        else:
            expect_follow(c)


@pytest.mark.parametrize("expect", ["something-else", "100-continue, foo", "200-ok",
                                    "100-continue;x=1"])
def test_other_expectation_417(srv, expect):
    with Client(srv.port) as c:
        send(c, post(method="GET", headers={"Expect": expect, "Content-Length": "5"})
             + b"hello" + FOLLOW)
        r = c.response()
        assert r.status == 417, r
        if r["Connection"] == "close":
            assert c.expect_eof() == b""
        else:
            expect_follow(c)


# ========================================================= 3. Host

def raw_get(target="/a.html", host_lines=(b"Host: t",), version=b"HTTP/1.1"):
    lines = [b"GET " + target.encode() + b" " + version, *host_lines]
    return b"\r\n".join(lines) + b"\r\n\r\n"


BAD_HOSTS = {
    "missing": [],
    "two": [b"Host: a", b"Host: a"],
    "two-different": [b"Host: a", b"Host: b"],
    "empty": [b"Host:"],
    "empty-spaces": [b"Host:   "],
    "userinfo": [b"Host: user@host"],
    "userinfo-password": [b"Host: user:pw@host"],
    "path": [b"Host: host/path"],
    "query": [b"Host: host?q"],
    "fragment": [b"Host: host#f"],
    "comma": [b"Host: a, b"],
    "space": [b"Host: a b"],
    "tab-inside": [b"Host: a\tb"],
    "bad-port": [b"Host: example.org:80a"],
    "two-ports": [b"Host: example.org:80:81"],
    "ipv6-unbracketed": [b"Host: ::1"],
    "ipv6-unclosed": [b"Host: [::1"],
    "ipv6-garbage": [b"Host: [zz::1]"],
    "ipv6-junk-after": [b"Host: [::1]x"],
    "backslash": [b"Host: a\\b"],
    "percent-bad": [b"Host: a%zz"],
    "obs-text": [b"Host: \xc3\xbc.example"],
    "two-case-variants": [b"host: a", b"HOST: a"],
    "leading-dot-only": [b"Host: :80"],
}


@pytest.mark.parametrize("lines", BAD_HOSTS.values(), ids=BAD_HOSTS.keys())
def test_bad_host_400(srv, lines):
    """RFC 9112 3.2: a missing, repeated or invalid Host is 400."""
    rejected(srv, raw_get(host_lines=lines) + FOLLOW)


GOOD_HOSTS = ["example.org", "example.org:8080", "example.org:", "[::1]:80", "[::1]",
              "127.0.0.1", "127.0.0.1:80", "EXAMPLE.org", "a-b_c~d.example",
              "xn--bcher-kva.example",
              "%41.example", "[v1.fe]", "[::ffff:127.0.0.1]"]


@pytest.mark.parametrize("host", GOOD_HOSTS)
def test_valid_host(srv, host):
    with Client(srv.port) as c:
        c.send(raw_get(host_lines=[b"Host: " + host.encode()]) + FOLLOW)
        expect_file(c.response(), "a.html")
        expect_follow(c)


@pytest.mark.parametrize("target", ["http://example.org/a.html", "HTTP://EXAMPLE.ORG/a.html",
                                    "http://example.org:8080/a.html", "http://[::1]/a.html",
                                    "http://example.org/a.html?x=1"])
def test_absolute_form_authority_is_the_host(srv, target):
    """RFC 9112 3.2.2: with an absolute-form target, its authority is the
    host and a different Host field does not matter."""
    with Client(srv.port) as c:
        c.send(raw_get(target, [b"Host: other.test"]) + FOLLOW)
        expect_file(c.response(), "a.html")
        expect_follow(c)


def test_absolute_form_without_path(srv):
    with Client(srv.port) as c:
        c.send(raw_get("http://example.org", [b"Host: example.org"]) + FOLLOW)
        expect_file(c.response(), "index.html")
        expect_follow(c)


@pytest.mark.parametrize("target,lines", [
    ("http://user@example.org/a.html", [b"Host: example.org"]),
    ("http://user:pw@example.org/a.html", [b"Host: example.org"]),
    ("http:///a.html", [b"Host: example.org"]),
    ("http://exa mple.org/a.html", [b"Host: example.org"]),
    ("http://example.org/a.html", []),                       # no Host at all
    ("http://example.org/a.html", [b"Host: a b"]),           # an invalid Host
    ("http://example.org/a.html", [b"Host: a", b"Host: b"]),
    ("http://example.org/a.html#frag", [b"Host: example.org"]),
    ("1http://example.org/a.html", [b"Host: example.org"]),
    ("http://example.org/../a.html", [b"Host: example.org"]),
    ("http://example.org/%2e%2e/a.html", [b"Host: example.org"]),
    ("http://example.org:8o/a.html", [b"Host: example.org"]),
], ids=["userinfo", "userinfo-password", "empty-authority", "space", "no-host-field",
        "invalid-host-field", "two-host-fields", "fragment", "bad-scheme", "above-root",
        "above-root-encoded", "bad-port"])
def test_absolute_form_rejected(srv, target, lines):
    rejected(srv, raw_get(target, lines) + FOLLOW)


def test_http10_without_host_served(srv):
    with Client(srv.port) as c:
        c.send(raw_get(host_lines=[], version=b"HTTP/1.0"))
        expect_file(c.response(), "a.html", keep=False)
        assert c.expect_eof() == b""


def test_http10_with_invalid_host_400(srv):
    """RFC 9112 3.2: an invalid Host value is 400 in any request."""
    rejected(srv, raw_get(host_lines=[b"Host: user@host"], version=b"HTTP/1.0"))


def test_options_asterisk_empty_host(srv):
    """RFC 9112 3.2: no authority in the target URI: an empty Host is right."""
    with Client(srv.port) as c:
        c.send(b"OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n" + FOLLOW)
        assert c.response().status == 204
        expect_follow(c)


def test_options_asterisk(srv):
    """RFC 9110 9.3.7: OPTIONS * is about the server: 204 with Allow."""
    with Client(srv.port) as c:
        c.send(b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n" + FOLLOW)
        r = c.response()
        assert r.status == 204 and r.header("Allow"), r
        assert r.header("Content-Length") in (None, "0"), r
        expect_follow(c)


def test_asterisk_for_get_400(srv):
    rejected(srv, b"GET * HTTP/1.1\r\nHost: t\r\n\r\n" + FOLLOW)


# ================================================= 4. preconditions

PAST = http_date(MTIME - 86400)
EQUAL = http_date(MTIME)
LATER = http_date(MTIME + 86400)           # after the mtime, before now
FUTURE = http_date(time.time() + 10 * 365 * 86400)   # after the server's clock
RFC850_EQUAL = "Thursday, 04-Mar-21 05:06:07 GMT"
ASCTIME_EQUAL = "Thu Mar  4 05:06:07 2021"


@pytest.fixture(scope="module")
def tag(srv):
    with Client(srv.port) as c:
        c.send(req("/range.bin", "HEAD"))
        r = c.response(head=True)
    assert r["Last-Modified"] == EQUAL
    return r["ETag"]


# (headers, status) with {etag} for the file's ETag
PRECONDITIONS = {
    "im-match": ({"If-Match": "{etag}"}, 200),
    "im-mismatch": ({"If-Match": '"nope"'}, 412),
    "im-star": ({"If-Match": "*"}, 200),
    "im-weak-own-tag": ({"If-Match": "W/{etag}"}, 412),
    "im-list-with-tag": ({"If-Match": '"x", {etag}, "y"'}, 200),
    "im-list-without-tag": ({"If-Match": '"x", "y"'}, 412),
    "im-empty-elements": ({"If-Match": ' , {etag} ,'}, 200),
    "im-malformed": ({"If-Match": "nonsense"}, 412),
    "ius-past": ({"If-Unmodified-Since": PAST}, 412),
    "ius-equal": ({"If-Unmodified-Since": EQUAL}, 200),
    "ius-later": ({"If-Unmodified-Since": LATER}, 200),
    "ius-future": ({"If-Unmodified-Since": FUTURE}, 200),
    "ius-invalid": ({"If-Unmodified-Since": "yesterday"}, 200),
    "ius-past-rfc850": ({"If-Unmodified-Since": "Wednesday, 03-Mar-21 05:06:07 GMT"}, 412),
    "ius-past-asctime": ({"If-Unmodified-Since": "Wed Mar  3 05:06:07 2021"}, 412),
    "ius-ignored-with-im": ({"If-Match": "{etag}", "If-Unmodified-Since": PAST}, 200),
    "ius-ignored-with-im-star": ({"If-Match": "*", "If-Unmodified-Since": PAST}, 200),
    "inm-match": ({"If-None-Match": "{etag}"}, 304),
    "inm-weak": ({"If-None-Match": "W/{etag}"}, 304),
    "inm-list": ({"If-None-Match": '"x", W/{etag}'}, 304),
    "inm-star": ({"If-None-Match": "*"}, 304),
    "inm-mismatch": ({"If-None-Match": '"nope"'}, 200),
    "inm-beats-ims": ({"If-None-Match": '"nope"', "If-Modified-Since": LATER}, 200),
    "inm-match-ims-earlier": ({"If-None-Match": "{etag}", "If-Modified-Since": PAST}, 304),
    "ims-equal": ({"If-Modified-Since": EQUAL}, 304),
    "ims-later": ({"If-Modified-Since": LATER}, 304),
    "ims-rfc850": ({"If-Modified-Since": RFC850_EQUAL}, 304),
    "ims-asctime": ({"If-Modified-Since": ASCTIME_EQUAL}, 304),
    "ims-earlier": ({"If-Modified-Since": PAST}, 200),
    "ims-after-the-clock": ({"If-Modified-Since": FUTURE}, 200),
    "ims-invalid": ({"If-Modified-Since": "not a date"}, 200),
    "ims-not-gmt": ({"If-Modified-Since": EQUAL.replace("GMT", "UTC")}, 200),
    # 13.2.2 order: step 1 (If-Match) before step 3 (If-None-Match)
    "im-fail-before-inm": ({"If-Match": '"nope"', "If-None-Match": "{etag}"}, 412),
    "ius-fail-before-inm": ({"If-Unmodified-Since": PAST, "If-None-Match": "{etag}"}, 412),
    "im-pass-then-inm": ({"If-Match": "{etag}", "If-None-Match": "{etag}"}, 304),
    "ius-pass-then-ims": ({"If-Unmodified-Since": LATER, "If-Modified-Since": LATER}, 304),
    # and all before Range (step 5)
    "ius-past-range": ({"If-Unmodified-Since": PAST, "Range": "bytes=0-9"}, 412),
    "im-mismatch-range": ({"If-Match": '"nope"', "Range": "bytes=0-9"}, 412),
    "im-match-range": ({"If-Match": "{etag}", "Range": "bytes=0-9"}, 206),
    "inm-match-range": ({"If-None-Match": "{etag}", "Range": "bytes=0-9"}, 304),
    "ims-range": ({"If-Modified-Since": EQUAL, "Range": "bytes=0-9"}, 304),
    "if-range-etag": ({"If-Range": "{etag}", "Range": "bytes=0-9"}, 206),
    "if-range-weak": ({"If-Range": "W/{etag}", "Range": "bytes=0-9"}, 200),
    "if-range-other": ({"If-Range": '"other"', "Range": "bytes=0-9"}, 200),
    "if-range-date-equal": ({"If-Range": EQUAL, "Range": "bytes=0-9"}, 206),
    "if-range-date-later": ({"If-Range": LATER, "Range": "bytes=0-9"}, 200),
    "if-range-date-earlier": ({"If-Range": PAST, "Range": "bytes=0-9"}, 200),
    "if-range-invalid": ({"If-Range": "garbage", "Range": "bytes=0-9"}, 200),
    "if-range-multi": ({"If-Range": "{etag}", "Range": "bytes=0-0,1000-1009"}, 206),
}


@pytest.mark.parametrize("headers,status", PRECONDITIONS.values(), ids=PRECONDITIONS.keys())
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_preconditions(srv, tag, headers, status, method):
    """RFC 9110 13.2.2 evaluation order, with exact statuses. A 304 carries
    the ETag and no body (the pipelined request after it parses); a 412
    has no ETag of the representation and is an error page; HEAD never
    gets a 206 (RFC 9110 14.2)."""
    headers = {k: v.replace("{etag}", tag) for k, v in headers.items()}
    if method == "HEAD" and status == 206:
        status = 200
    with Client(srv.port) as c:
        c.send(req("/range.bin", method, headers=headers) + FOLLOW)
        r = c.response(head=method == "HEAD")
        assert r.status == status, r
        assert r["Connection"] == "keep-alive", r
        if status == 304:
            assert r["ETag"] == tag, r
            assert r.header("Content-Range") is None, r
        elif status == 412:
            assert r["Content-Type"].startswith("text/html"), r
            assert r.header("Content-Range") is None, r
        elif status == 200:
            assert r["Content-Length"] == str(RANGE_SIZE), r
            assert r.header("Content-Range") is None, r
            if method == "GET":
                assert r.body == RANGE_DATA
        elif "," not in headers["Range"]:
            assert (r["Content-Range"], r.body) == ("bytes 0-9/2000", RANGE_DATA[:10]), r
        else:
            assert r["Content-Type"].startswith("multipart/byteranges"), r
        expect_follow(c)


@pytest.mark.parametrize("lines,status", [
    ([("If-Match", "{etag}"), ("If-Match", '"nope"')], 200),
    ([("If-Match", '"nope"'), ("If-Match", "{etag}")], 200),
    ([("If-None-Match", "{etag}"), ("If-None-Match", '"nope"')], 304),
    ([("If-None-Match", '"nope"'), ("If-None-Match", "{etag}")], 304),
], ids=["im-tag-first", "im-tag-last", "inm-tag-first", "inm-tag-last"])
def test_precondition_list_over_several_lines(srv, tag, lines, status):
    """RFC 9110 5.3: If-Match and If-None-Match are lists; several field
    lines mean the list of all their values, in order: the ETag is in it
    whichever line carries it."""
    headers = [(k, v.replace("{etag}", tag)) for k, v in lines]
    with Client(srv.port) as c:
        c.send(req("/range.bin", headers=headers) + FOLLOW)
        r = c.response()
        assert r.status == status, r
        expect_follow(c)


# Modification times an HTTP-date cannot say (RFC 9110 5.6.7: years 1 to
# 9999). ext4 keeps mtimes from 1901 to 2446 only; tmpfs keeps any.
DATE_MIN = -62135596800     # Mon, 01 Jan 0001 00:00:00 GMT
DATE_MAX = 253402300799     # Fri, 31 Dec 9999 23:59:59 GMT
FIRST_DAY = "Mon, 01 Jan 0001 00:00:00 GMT"
LAST_DAY = "Fri, 31 Dec 9999 23:59:59 GMT"
NS = 10**9
# A Last-Modified later than the response is its Date (RFC 9110 8.8.2.1).
NOW = "the response's Date"
# (mtime in ns, Last-Modified): the first two give the same 64-bit count
# of nanoseconds (0), and so do the next two (2^62 s and 2^62 + 2^55 s)
FAR_MTIMES = [
    (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
    (2**62 * NS, NOW),
    ((2**62 + 2**55) * NS, NOW),
    (2**62 * NS + 1, NOW),
    ((DATE_MAX + 1) * NS, NOW),
    (int(time.time() + 86400) * NS, NOW),
    ((DATE_MIN - 1) * NS, FIRST_DAY),
    (-(2**62) * NS, FIRST_DAY),
    (-NS, "Wed, 31 Dec 1969 23:59:59 GMT"),
]


@pytest.fixture(scope="module")
def far_root():
    """A document root on tmpfs, or a skip when mtimes there are clamped."""
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm: no file system at hand that keeps any mtime")
    root = tempfile.mkdtemp(prefix="rh-far-", dir="/dev/shm")
    probe = os.path.join(root, "probe")
    with open(probe, "wb"):
        pass
    try:
        for ns, _ in FAR_MTIMES:
            os.utime(probe, ns=(0, ns))
            if os.stat(probe).st_mtime_ns != ns:
                pytest.skip(f"/dev/shm keeps no mtime of {ns} ns")
        os.unlink(probe)
        yield root
    finally:
        shutil.rmtree(root)


@pytest.fixture(scope="module")
def far_srv(module_servers, far_root):
    return module_servers.start(far_root, {"cpu_limit": 1})     # one file cache


def head(srv, target, headers=(), method="HEAD"):
    with Client(srv.port) as c:
        c.send(req(target, method, headers=headers))
        return c.response(head=method == "HEAD")


def test_far_mtimes_clamped_and_tags_distinct(far_srv, far_root):
    """One file (same inode and size) given each mtime in turn: once the
    server has seen the change, Last-Modified is a valid IMF-fixdate,
    never before year 1 nor after the response's Date, and the ETag well-formed and new each
    time, even where the nanosecond count no longer fits 64 bits."""
    path = os.path.join(far_root, "far.txt")
    with open(path, "wb") as f:
        f.write(b"far\n")
    seen, last = set(), {}

    def new_tag():
        last["r"] = head(far_srv, "/far.txt")
        return last["r"]["ETag"] not in seen

    for i, (ns, date) in enumerate(FAR_MTIMES):
        os.utime(path, ns=(0, ns))
        # the cache looks at the file again within a second; a new ETag
        # says it has (the date alone may not change): poll for one
        wait_until(new_tag, 10, f"a new ETag for an mtime of {ns} ns (step {i})")
        r = last["r"]
        assert r.status == 200, r
        assert r["Last-Modified"] == (r["Date"] if date is NOW else date), (ns, r)
        assert IMF_FIXDATE_RE.match(r["Last-Modified"]), r
        assert STRONG_ETAG_RE.match(r["ETag"]), (ns, r)
        seen.add(r["ETag"])


@pytest.fixture(scope="module")
def far_files(far_root):
    """Files with an mtime before year 1, exactly year 1, and far after
    year 9999."""
    for name, ns in (("before.txt", -(2**62) * NS), ("first.txt", DATE_MIN * NS),
                     ("after.txt", 2**62 * NS)):
        path = os.path.join(far_root, name)
        with open(path, "wb") as f:
            f.write(name.encode())
        os.utime(path, ns=(0, ns))


@pytest.mark.parametrize("name,headers,status", [
    ("before.txt", {"If-Modified-Since": FIRST_DAY}, 200),
    ("before.txt", {"If-Unmodified-Since": FIRST_DAY}, 200),
    ("after.txt", {"If-Unmodified-Since": FIRST_DAY}, 200),
    ("after.txt", {"If-Unmodified-Since": LAST_DAY}, 200),
    ("before.txt", {"Range": "bytes=0-1", "If-Range": FIRST_DAY}, 200),
    ("after.txt", {"Range": "bytes=0-1", "If-Range": LAST_DAY}, 200),
    # year 1 itself is a date HTTP can say
    ("first.txt", {"If-Modified-Since": FIRST_DAY}, 304),
    ("first.txt", {"Range": "bytes=0-1", "If-Range": FIRST_DAY}, 206),
])
def test_far_mtimes_and_date_conditions(far_srv, far_files, name, headers, status):
    """A clamped Last-Modified is not the file's date: the date conditions
    are ignored for it (RFC 9110 13.1.3, 13.1.4), an If-Range date never
    holds; its ETag is still a validator."""
    r = head(far_srv, "/" + name, headers, "GET" if "Range" in headers else "HEAD")
    assert r.status == status, (name, headers, r)
    if status == 200:
        tag = r["ETag"]
        assert head(far_srv, "/" + name, {"If-None-Match": tag}).status == 304


# ================================================ 5. multiple ranges

def multipart_parts(r):
    """[(first, last, headers, bytes)] of a 206 multipart/byteranges
    answer, parsed strictly (RFC 9110 14.6, RFC 2046 5.1.1): an empty
    preamble or a CRLF, parts each with Content-Type and Content-Range,
    the close delimiter, and nothing after it but a CRLF."""
    assert r.status == 206, r
    assert r.header("Content-Range") is None, r
    m = re.fullmatch(r'multipart/byteranges;\s*boundary=("?)([0-9A-Za-z\'()+_,./:=?-]{1,70})\1',
                     r["Content-Type"])
    assert m, r
    boundary = m.group(2).encode()
    body = r.body
    assert len(body) == r.length
    delim = b"--" + boundary
    assert (body.startswith(delim + b"\r\n")
            or body.startswith(b"\r\n" + delim + b"\r\n")), body[:100]
    pos = body.index(delim) + len(delim) + 2
    parts = []
    while True:
        end = body.index(b"\r\n\r\n", pos)
        headers = {}
        for line in body[pos:end].split(b"\r\n"):
            name, _, value = line.partition(b":")
            assert name and name.lower().decode() not in headers, body[pos:end]
            headers[name.lower().decode()] = value.strip().decode()
        cr = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", headers.get("content-range", ""))
        assert cr, headers
        first, last = int(cr.group(1)), int(cr.group(2))
        data = body[end + 4:end + 4 + last - first + 1]
        parts.append((first, last, headers, data, int(cr.group(3))))
        pos = end + 4 + last - first + 1
        if body[pos:pos + len(delim) + 4] == b"\r\n" + delim + b"--":
            assert body[pos + len(delim) + 4:] in (b"", b"\r\n"), body[pos:]
            return boundary, parts
        assert body[pos:pos + len(delim) + 4] == b"\r\n" + delim + b"\r\n", body[pos:pos + 100]
        pos += len(delim) + 4


def get_range(srv, spec, name="range.bin", method="GET"):
    with Client(srv.port) as c:
        c.send(req("/" + name, method, headers={"Range": spec}) + FOLLOW)
        r = c.response(head=method == "HEAD")
        expect_follow(c)        # the Content-Length was exact: nothing more came
    return r


def file_type(srv, name):
    return get_range(srv, "bytes=0-0", name)["Content-Type"]


@pytest.mark.parametrize("name", ["range.bin", "range.txt", "big.bin"])
def test_two_ranges_multipart(srv, name):
    data = FILES[name]
    r = get_range(srv, "bytes=0-0,500-509", name)
    _, parts = multipart_parts(r)
    ctype = file_type(srv, name)
    assert [(p[0], p[1]) for p in parts] == [(0, 0), (500, 509)]
    for first, last, headers, got, size in parts:
        assert headers["content-type"] == ctype
        assert size == len(data)
        assert got == data[first:last + 1]


def test_multipart_of_a_large_file(srv):
    """Parts far apart in a 300 KiB file, beyond the receive buffers."""
    spec = "bytes=0-99,100000-165535,-10,250000-250000"
    r = get_range(srv, spec, "big.bin")
    _, parts = multipart_parts(r)
    want = [(0, 99), (100000, 165535), (250000, 250000), (len(BIG_DATA) - 10, len(BIG_DATA) - 1)]
    assert sorted((p[0], p[1]) for p in parts) == want
    for first, last, _, got, _ in parts:
        assert got == BIG_DATA[first:last + 1]


def test_boundary_fresh_per_response(srv):
    b1, _ = multipart_parts(get_range(srv, "bytes=0-0,500-509"))
    b2, _ = multipart_parts(get_range(srv, "bytes=0-0,500-509"))
    assert b1 != b2
    assert b1 not in RANGE_DATA and b2 not in RANGE_DATA


@pytest.mark.parametrize("spec,first,last", [
    ("bytes=0-9,50-59", 0, 59),                  # closer than 80 bytes
    ("bytes=100-199,150-249", 100, 249),         # overlapping
    ("bytes=100-199,120-130", 100, 199),         # contained
    ("bytes=50-59,0-9", 0, 59),                  # out of order and close
    ("bytes=0-0,1-1,2-2,3-3", 0, 3),             # adjacent
    ("bytes=1990-1999,-5", 1990, 1999),          # a suffix inside a range
    (",".join(["bytes=0-1999"] + ["0-1999"] * 40), 0, 1999),  # never amplified
])
def test_ranges_coalesced_to_one(srv, spec, first, last):
    r = get_range(srv, spec)
    assert r.status == 206, r
    assert r["Content-Range"] == f"bytes {first}-{last}/{RANGE_SIZE}", r
    assert r.body == RANGE_DATA[first:last + 1]


def test_out_of_order_ranges(srv):
    """RFC 9110 14.6: the parts SHOULD come in the order the range-specs
    were sent (coalesced and unsatisfiable ones excepted)."""
    r = get_range(srv, "bytes=1500-1509,0-9,700-709")
    _, parts = multipart_parts(r)
    assert [(p[0], p[1]) for p in parts] == [(1500, 1509), (0, 9), (700, 709)]
    for first, last, _, got, _ in parts:
        assert got == RANGE_DATA[first:last + 1]


def test_out_of_order_ranges_bytes(srv):
    """Whatever their order, each part is the file's bytes."""
    _, parts = multipart_parts(get_range(srv, "bytes=1500-1509,0-9,700-709"))
    assert sorted((p[0], p[1]) for p in parts) == [(0, 9), (700, 709), (1500, 1509)]
    for first, last, _, got, _ in parts:
        assert got == RANGE_DATA[first:last + 1]


def distant(n, step=100, width=5):
    return "bytes=" + ",".join(f"{i * step}-{i * step + width - 1}" for i in range(n))


def test_sixteen_parts(srv):
    _, parts = multipart_parts(get_range(srv, distant(16)))
    assert [(p[0], p[1]) for p in parts] == [(i * 100, i * 100 + 4) for i in range(16)]
    for first, last, _, got, _ in parts:
        assert got == RANGE_DATA[first:last + 1]


@pytest.mark.parametrize("spec", [distant(17), distant(19), distant(20, 90, 1)])
def test_more_than_max_ranges_whole_file(srv, spec):
    r = get_range(srv, spec)
    assert (r.status, r.body, r.header("Content-Range")) == (200, RANGE_DATA, None), r


def test_many_close_ranges_coalesced_under_the_limit(srv):
    """30 specs that coalesce into 3 parts: 206 with 3 parts."""
    specs = [f"{base + i * 10}-{base + i * 10 + 4}" for base in (0, 800, 1600) for i in range(10)]
    _, parts = multipart_parts(get_range(srv, "bytes=" + ",".join(specs)))
    assert [(p[0], p[1]) for p in parts] == [(0, 94), (800, 894), (1600, 1694)]


def test_suffix_in_a_list(srv):
    _, parts = multipart_parts(get_range(srv, "bytes=0-4,-5"))
    assert [(p[0], p[1], p[3]) for p in parts] == [(0, 4, RANGE_DATA[:5]),
                                                  (1995, 1999, RANGE_DATA[-5:])]


@pytest.mark.parametrize("spec", ["bytes=5000-5010,10-19", "bytes=10-19,2000-", "bytes=-0,10-19"])
def test_one_satisfiable_plain_206(srv, spec):
    r = get_range(srv, spec)
    assert (r.status, r["Content-Range"], r.body) == (206, "bytes 10-19/2000", RANGE_DATA[10:20])


@pytest.mark.parametrize("spec", ["bytes=5000-5010,6000-", "bytes=2000-2000,3000-3001,-0"])
def test_none_satisfiable_416(srv, spec):
    r = get_range(srv, spec)
    assert r.status == 416, r
    assert r["Content-Range"] == f"bytes */{RANGE_SIZE}", r


def test_several_ranges_of_an_empty_file_416(srv):
    r = get_range(srv, "bytes=0-0,5-9,-3", "empty.txt")
    assert (r.status, r["Content-Range"]) == (416, "bytes */0"), r


def test_suffix_larger_than_the_file_in_a_list(srv):
    r = get_range(srv, "bytes=-5000,0-0")
    assert (r.status, r["Content-Range"], r.body) == (206, "bytes 0-1999/2000", RANGE_DATA)


def test_if_range_weak_with_several_ranges_whole(srv, tag):
    with Client(srv.port) as c:
        c.send(req("/range.bin", headers={"Range": "bytes=0-0,500-509", "If-Range": "W/" + tag})
               + FOLLOW)
        r = c.response()
        assert (r.status, r.body) == (200, RANGE_DATA), r
        expect_follow(c)


@pytest.mark.parametrize("spec", ["bytes=0-4,x", "bytes=0-4,5-1", "bytes=0-4;500-509",
                                  "bytes=0-4, 500-509x", "bits=0-4,500-509"])
def test_invalid_range_list_ignored(srv, spec):
    """RFC 9110 14.2: an invalid Range is ignored: the whole file."""
    r = get_range(srv, spec)
    assert (r.status, r.body) == (200, RANGE_DATA), r


def test_range_list_whitespace_and_empty_elements(srv):
    """RFC 9110 5.6.1: OWS around commas and empty list elements."""
    _, parts = multipart_parts(get_range(srv, "bytes=0-4 , ,\t500-509,"))
    assert [(p[0], p[1]) for p in parts] == [(0, 4), (500, 509)]


def test_head_with_several_ranges(srv):
    r = get_range(srv, "bytes=0-0,500-509", method="HEAD")
    assert (r.status, r["Content-Length"], r.header("Content-Range")) == (200, "2000", None), r
    assert not r["Content-Type"].startswith("multipart"), r


@pytest.fixture(scope="module")
def srv2(module_servers, root):
    return module_servers.start(root, {"max_ranges": 2})


def test_max_ranges_config(srv2):
    r = get_range(srv2, "bytes=0-4,500-504,1000-1004")
    assert (r.status, r.body) == (200, RANGE_DATA), r
    _, parts = multipart_parts(get_range(srv2, "bytes=0-4,1000-1004"))
    assert [(p[0], p[1]) for p in parts] == [(0, 4), (1000, 1004)]
    # three specs that coalesce into two parts are within the limit
    _, parts = multipart_parts(get_range(srv2, "bytes=0-4,10-14,1000-1004"))
    assert [(p[0], p[1]) for p in parts] == [(0, 14), (1000, 1004)]


# ========================================================== 6. paths

@pytest.mark.parametrize("target,location", [
    ("/docs", "/docs/"),
    ("//docs", "/docs/"),
    ("///docs", "/docs/"),
    ("/./docs", "/docs/"),
    ("/docs/../docs", "/docs/"),
    ("/a/../docs", "/docs/"),
    ("/%2e/docs", "/docs/"),
    ("/docs/%2e%2e/docs", "/docs/"),
    ("/%64ocs", "/docs/"),
    ("//docs?x=1", "/docs/?x=1"),
    ("/docs?x=1&y=/../z", "/docs/?x=1&y=/../z"),
    ("/docs?", "/docs/?"),
    ("http://example.org//docs", "/docs/"),
    ("http://example.org/./docs?q", "/docs/?q"),
    ("/a%20b", "/a%20b/"),
    ("//a%20b", "/a%20b/"),
    ("/%C3%BC", "/%C3%BC/"),
    ("/%c3%bc", "/%C3%BC/"),
    ("/x%3Fy", "/x%3Fy/"),
    ("/50%25", "/50%25/"),
])
def test_directory_redirect_location(srv, target, location):
    """RFC 3986 5.2.4: the Location comes from the normalized path, is
    percent-encoded where needed, never begins with "//" (a network-path
    reference: an open redirect), and keeps the query."""
    with Client(srv.port) as c:
        c.send(req(target) + FOLLOW)
        r = c.response()
        assert r.status == 301, r
        assert r["Location"] == location, r
        assert not r["Location"].startswith("//")
        assert r.length == len(r.body)
        expect_follow(c)


@pytest.mark.parametrize("query_len", [3200, 3500, 8000])
def test_directory_redirect_long_location(srv, query_len):
    """A Location longer than a head usually needs still goes whole, up to
    the longest request line taken (8 KiB): never a 500 from a redirect."""
    query = "a" * query_len
    with Client(srv.port) as c:
        c.send(req(f"/docs?{query}") + FOLLOW)
        r = c.response()
        assert r.status == 301, r
        assert r["Location"] == f"/docs/?{query}"
        assert r.length == len(r.body)
        expect_follow(c)


@pytest.mark.parametrize("target,name", [
    ("//a.html", "a.html"),
    ("/./a.html", "a.html"),
    ("/x/../a.html", "a.html"),
    ("/x/y/../../a.html", "a.html"),
    ("/docs/.././a.html", "a.html"),
    ("/docs//page.txt", "docs/page.txt"),
    ("/docs/./page.txt", "docs/page.txt"),
    ("/docs/", "docs/index.html"),
    ("//docs//", "docs/index.html"),
    ("/docs/.", "docs/index.html"),
    ("/docs/x/..", "docs/index.html"),
    ("/docs/..", "index.html"),
])
def test_normalized_path_served(srv, target, name):
    with Client(srv.port) as c:
        c.send(req(target) + FOLLOW)
        expect_file(c.response(), name)
        expect_follow(c)


BAD_PATHS = {
    "above-root": b"/../a.html",
    "above-root-encoded": b"/%2e%2e/a.html",
    "above-root-mixed": b"/.%2E/a.html",
    "above-root-after-a-segment": b"/a/../../a.html",
    "above-root-from-docs": b"/docs/../../a.html",
    "just-dotdot": b"/..",
    "nul": b"/%00",
    "nul-in-name": b"/a.html%00.txt",
    "encoded-slash": b"/docs%2Findex.html",
    "encoded-slash-lower": b"/docs%2findex.html",
    "backslash": b"/docs\\index.html",
    "encoded-backslash": b"/docs%5Cindex.html",
    "encoded-ctl": b"/a%01.html",
    "encoded-del": b"/a%7F.html",
    "bad-escape": b"/a%zz",
    "truncated-escape": b"/a%2",
}
for _c in b'"{}|<>^`[]':
    BAD_PATHS[f"raw-{chr(_c)}"] = b"/a" + bytes([_c]) + b".html"
for _name, _c in (("del", b"\x7f"), ("0x80", b"\x80"), ("utf8", b"\xc3\xbc"), ("0xff", b"\xff"),
                  ("tab", b"\t"), ("nul", b"\x00")):
    BAD_PATHS[f"raw-{_name}"] = b"/a" + _c + b".html"


@pytest.mark.parametrize("target", BAD_PATHS.values(), ids=BAD_PATHS.keys())
def test_bad_path_400(srv, target):
    """A path above the root, NUL, %2F, backslash (the choice documented:
    400), and raw bytes RFC 3986 does not allow in a path: 400."""
    r = rejected(srv, b"GET " + target + b" HTTP/1.1\r\nHost: t\r\n\r\n" + FOLLOW)
    assert b"docs index" not in r.body


@pytest.mark.parametrize("target", [b"/a{b", b"/%zz", b"/../a.html"])
@pytest.mark.parametrize("method", [b"POST", b"OPTIONS"])
def test_bad_target_400_whatever_the_method(srv, method, target):
    """RFC 9112 3.2, RFC 3986: a target that is not a valid origin-form
    (a raw byte outside pchar, a broken %-escape) or that climbs above the
    root is 400 whatever the method: a 405 or a 204 would answer for a
    resource that cannot even be named."""
    rejected(srv, method + b" " + target + b" HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"
             + FOLLOW)


BAD_QUERIES = {f"raw-{chr(c)}": b"/a.html?x=" + bytes([c]) for c in b'"{}|<>^`\\[]'}
BAD_QUERIES["raw-0x80"] = b"/a.html?x=\x80"
BAD_QUERIES["raw-del"] = b"/a.html?x=\x7f"
BAD_QUERIES["bad-escape"] = b"/a.html?x=%zz"


@pytest.mark.parametrize("target", BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_bad_query_400(srv, target):
    """RFC 3986 3.4: query = *( pchar / "/" / "?" ); a raw byte outside it
    makes the request-target invalid (RFC 9112 3.2: 400). A 400 closes."""
    rejected(srv, b"GET " + target + b" HTTP/1.1\r\nHost: t\r\n\r\n" + FOLLOW)


@pytest.mark.parametrize("query", ["x=1", "a/b?c", "%20", "!$&'()*+,;=:@-._~", ""])
def test_valid_query_served(srv, query):
    with Client(srv.port) as c:
        c.send(req("/a.html?" + query) + FOLLOW)
        expect_file(c.response(), "a.html")
        expect_follow(c)


@pytest.fixture(scope="module")
def logged(module_servers, root, tmp_path_factory):
    log = tmp_path_factory.mktemp("accesslog") / "access.log"
    return module_servers.start(root, {"access_log": str(log)}), log


def test_access_log_path(logged):
    """The access log records each request with its normalized path."""
    srv, log = logged
    targets = ["//a.html", "/./a.html", "/x/../a.html", "/%61.html", "//docs"]
    for t in targets:
        with Client(srv.port) as c:
            c.send(req(t, headers={"Connection": "close"}))
            c.response()
    lines = wait_until(lambda: (s := log.read_text(errors="replace").splitlines())
                       and len(s) >= len(targets) and s, 15, "the access log lines")
    logged_targets = [re.search(r'"GET (\S+) HTTP/1\.1"', ln).group(1) for ln in lines]
    assert logged_targets == ["/a.html", "/a.html", "/a.html", "/a.html", "/docs"], \
        list(zip(targets, logged_targets))


CLF_RE = re.compile(r'^\S+ - - \[[^\]]+\] "(?:[^"\\]|\\.)*" \d{3} \d+$')


def test_access_log_lines_cannot_be_forged(logged):
    """A '"' a client puts in its request (in the query, where it is
    accepted today) must not end the quoted request field of a Common Log
    Format line early: each line still parses as one record."""
    srv, log = logged
    before = len(log.read_text(errors="replace").splitlines()) if log.exists() else 0
    with Client(srv.port) as c:
        send(c, b'GET /a.html?x="+200+1+"x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n')
        c.expect_eof()
    with Client(srv.port) as c:
        c.send(req("/c.txt", headers={"Connection": "close"}))
        c.response()
    lines = wait_until(lambda: (s := log.read_text(errors="replace").splitlines())
                       and len(s) >= before + 2 and s, 15, "the access log lines")
    for line in lines[before:]:
        assert CLF_RE.match(line), line


# ================================================== 7. request line

def test_long_method_400_not_414(srv):
    """A request line too long because of its method is no URI problem."""
    rejected(srv, b"A" * 100000 + b" / HTTP/1.1\r\nHost: t\r\n\r\n")


def test_long_method_just_over_line_limit_400(srv):
    rejected(srv, b"A" * 9000 + b" / HTTP/1.1\r\nHost: t\r\n\r\n")


def test_long_target_414(srv):
    rejected(srv, req("/" + "a" * 9000) + FOLLOW, 414)


@pytest.mark.parametrize("method", ["get", "Get", "gEt", "head", "FOO"])
def test_methods_case_sensitive(srv, method):
    """RFC 9110 9.1: method names are case-sensitive: "get" is not GET; it
    is answered 405 (a method the resource does not allow)."""
    with Client(srv.port) as c:
        c.send(req("/a.html", method) + FOLLOW)
        r = c.response()
        assert r.status == 405, r
        assert r["Allow"] == "GET, HEAD", r
        if r["Connection"] == "close":
            assert c.expect_eof() == b""
        else:
            expect_follow(c)


REQUEST_LINES = {
    "two-spaces-before-target": b"GET  / HTTP/1.1",
    "two-spaces-before-version": b"GET /  HTTP/1.1",
    "trailing-space": b"GET / HTTP/1.1 ",
    "leading-space": b" GET / HTTP/1.1",
    "tab-separator": b"GET\t/ HTTP/1.1",
    "no-version": b"GET /",
    "http-0.9": b"GET /a.html",
    "lowercase-http": b"GET / http/1.1",
    "version-1.10": b"GET / HTTP/1.10",
    "version-01.1": b"GET / HTTP/01.1",
    "version-1": b"GET / HTTP/1",
    "empty-method": b" / HTTP/1.1",
    "method-with-slash": b"GE/T / HTTP/1.1",
    "nul-in-method": b"GE\x00T / HTTP/1.1",
    "fragment": b"GET /a.html#x HTTP/1.1",
}


@pytest.mark.parametrize("line", REQUEST_LINES.values(), ids=REQUEST_LINES.keys())
def test_bad_request_line_400(srv, line):
    rejected(srv, line + b"\r\nHost: t\r\n\r\n" + FOLLOW)


@pytest.mark.parametrize("version", ["HTTP/1.2", "HTTP/1.9"])
def test_higher_minor_version_treated_as_11(srv, version):
    """RFC 9110 2.5: a message with a higher minor version of a major
    version the server implements SHOULD be processed as the highest minor
    version it conforms to: as HTTP/1.1, answered in HTTP/1.1."""
    with Client(srv.port) as c:
        c.send(req("/a.html", version=version) + FOLLOW)
        expect_file(c.response(), "a.html")
        expect_follow(c)


@pytest.mark.parametrize("version", ["HTTP/2.0", "HTTP/3.0", "HTTP/3.1", "HTTP/9.9", "HTTP/0.9"])
def test_other_major_version_505(srv, version):
    with Client(srv.port) as c:
        c.send(req("/a.html", version=version))
        r = c.response()
        assert r.status == 505, r
        assert r["Content-Type"].split(";")[0] == "text/html" and 0 < r.length == len(r.body), r


HEADER_ERRORS = {
    "obs-fold": b"X-A: 1\r\n folded",
    "obs-fold-tab": b"X-A: 1\r\n\tfolded",
    "space-before-colon": b"X-A : 1",
    "tab-before-colon": b"X-A\t: 1",
    "nul-in-value": b"X-A: a\x00b",
    "del-in-value": b"X-A: a\x7fb",
    "cr-in-value": b"X-A: a\rb",
    "no-colon": b"NoColon",
    "empty-name": b": v",
    "bad-name-char": b"X[A]: 1",
    "space-in-name": b"X A: 1",
    "bare-lf": b"X-A: 1\nX-B: 2",
}


@pytest.mark.parametrize("line", HEADER_ERRORS.values(), ids=HEADER_ERRORS.keys())
def test_bad_header_400(srv, line):
    rejected(srv, b"GET /a.html HTTP/1.1\r\nHost: t\r\n" + line + b"\r\n\r\n" + FOLLOW)


def test_leading_empty_lines_ignored(srv):
    """RFC 9112 2.2: at least one empty line before a request line is ignored."""
    with Client(srv.port) as c:
        c.send(b"\r\n\r\n" + req("/a.html") + b"\r\n" + FOLLOW)
        expect_file(c.response(), "a.html")
        expect_follow(c)


def test_header_value_whitespace_and_obs_text(srv):
    with Client(srv.port) as c:
        c.send(b"GET /a.html HTTP/1.1\r\nHost:t\r\nX-Empty:\r\nX-Obs: \x80\xff\r\n"
               b"X-Ws: \t a \t\r\n\r\n" + FOLLOW)
        expect_file(c.response(), "a.html")
        expect_follow(c)


# ====================================================== 8. smuggling

def head_with(*lines, method=b"POST", target=b"/a.html"):
    return (method + b" " + target + b" HTTP/1.1\r\nHost: t\r\n"
            + b"".join(line + b"\r\n" for line in lines) + b"\r\n")


CL_SMUGGLED = str(len(SMUGGLED)).encode()
CHUNKED_SMUGGLED = b"0\r\n\r\n" + SMUGGLED
SMUGGLING = {
    # CL.TE: a front end using Content-Length, a back end using chunked
    "cl-te": (head_with(b"Content-Length: %d" % len(CHUNKED_SMUGGLED),
                        b"Transfer-Encoding: chunked") + CHUNKED_SMUGGLED, {400}),
    # TE.CL: the other way round
    "te-cl": (head_with(b"Transfer-Encoding: chunked", b"Content-Length: 3")
              + b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n", {400}),
    "cl-zero-te": (head_with(b"Content-Length: 0", b"Transfer-Encoding: chunked")
                   + CHUNKED_SMUGGLED, {400}),
    "te-tab": (head_with(b"Content-Length: 5", b"Transfer-Encoding:\tchunked")
               + CHUNKED_SMUGGLED, {400}),
    "te-xchunked-cl": (head_with(b"Content-Length: 5", b"Transfer-Encoding: xchunked")
                       + CHUNKED_SMUGGLED, {400, 501}),
    "te-identity-cl": (head_with(b"Transfer-Encoding: identity", b"Content-Length: 5")
                       + CHUNKED_SMUGGLED, {400, 501}),
    "te-space-before-colon": (head_with(b"Transfer-Encoding : chunked", b"Content-Length: 5")
                              + CHUNKED_SMUGGLED, {400}),
    "te-obs-fold": (head_with(b"Transfer-Encoding:", b" chunked", b"Content-Length: 5")
                    + CHUNKED_SMUGGLED, {400}),
    "te-vertical-tab": (head_with(b"Transfer-Encoding: chunked\x0b")
                        + CHUNKED_SMUGGLED, {400}),
    "te-nul": (head_with(b"Transfer-Encoding: chun\x00ked") + CHUNKED_SMUGGLED, {400}),
    # not Transfer-Encoding: Content-Length frames the body, which ends in
    # what a front end that took the name for Transfer-Encoding would answer
    "te-underscore-name": (head_with(b"Transfer_Encoding: chunked",
                                     b"Content-Length: %d" % len(CHUNKED_SMUGGLED))
                           + CHUNKED_SMUGGLED, {405}),
    "te-double-chunked-cl": (head_with(b"Transfer-Encoding: chunked",
                                       b"Transfer-Encoding: chunked", b"Content-Length: 5")
                             + CHUNKED_SMUGGLED, {400}),
    "te-http10": (b"POST /a.html HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + CHUNKED_SMUGGLED, {400}),
    "cl-differing": (head_with(b"Content-Length: 5", b"Content-Length: %d" % len(SMUGGLED))
                     + SMUGGLED, {400}),
    "cl-differing-one-line": (head_with(b"Content-Length: 5, %d" % len(SMUGGLED))
                              + SMUGGLED, {400}),
    "cl-same-twice": (head_with(b"Content-Length: " + CL_SMUGGLED,
                                b"content-length: " + CL_SMUGGLED) + SMUGGLED, {405, 400}),
    "cl-same-one-line": (head_with(b"Content-Length: %s, %s" % (CL_SMUGGLED, CL_SMUGGLED))
                         + SMUGGLED, {405, 400}),
    "cl-plus": (head_with(b"Content-Length: +" + CL_SMUGGLED) + SMUGGLED, {400}),
    "cl-minus": (head_with(b"Content-Length: -" + CL_SMUGGLED) + SMUGGLED, {400}),
    "cl-hex": (head_with(b"Content-Length: 0x%x" % len(SMUGGLED)) + SMUGGLED, {400}),
    "cl-decimal-point": (head_with(b"Content-Length: %s.0" % CL_SMUGGLED) + SMUGGLED, {400}),
    "cl-exponent": (head_with(b"Content-Length: 1e1") + SMUGGLED, {400}),
    "cl-empty": (head_with(b"Content-Length:") + SMUGGLED, {400}),
    "cl-then-empty": (head_with(b"Content-Length: " + CL_SMUGGLED, b"Content-Length:")
                      + SMUGGLED, {400}),
    "cl-comma-only": (head_with(b"Content-Length: ,") + SMUGGLED, {400}),
    "cl-space-inside": (head_with(b"Content-Length: 1 0") + SMUGGLED, {400}),
    "cl-space-before-colon": (head_with(b"Content-Length : " + CL_SMUGGLED) + SMUGGLED, {400}),
    "cl-nul": (head_with(b"Content-Length: " + CL_SMUGGLED + b"\x00") + SMUGGLED, {400}),
    "cl-overflow-2^64": (head_with(b"Content-Length: 18446744073709551616") + SMUGGLED, {400, 413}),
    "cl-2^64-minus-1": (head_with(b"Content-Length: 18446744073709551615") + SMUGGLED,
                        {400, 405, 413}),
    "cl-2^64-plus-small": (head_with(b"Content-Length: 18446744073709551617") + SMUGGLED,
                           {400, 413}),
    "cl-huge": (head_with(b"Content-Length: " + b"9" * 40) + SMUGGLED, {400, 413}),
    "cl-2^32": (head_with(b"Content-Length: 4294967296") + SMUGGLED, {405, 400, 413}),
    "cl-2^32-plus-small": (head_with(b"Content-Length: %d" % (2 ** 32 + len(SMUGGLED)))
                           + SMUGGLED, {405, 400, 413}),
    "cl-leading-zeros": (head_with(b"Content-Length: 000" + CL_SMUGGLED) + SMUGGLED, {405}),
    "cl-ows": (head_with(b"Content-Length: \t" + CL_SMUGGLED + b" \t") + SMUGGLED, {405}),
    "get-with-cl-body": (head_with(b"Content-Length: " + CL_SMUGGLED, method=b"GET")
                         + SMUGGLED, {200}),
    "head-with-cl-body": (head_with(b"Content-Length: " + CL_SMUGGLED, method=b"HEAD")
                          + SMUGGLED, {200}),
    "terminator-inside-chunk-data": (head_with(b"Transfer-Encoding: chunked")
                                     + chunk(b"0\r\n\r\n" + SMUGGLED) + b"0\r\n\r\n", {405}),
    "chunk-size-wrapping": (head_with(b"Transfer-Encoding: chunked")
                            + b"10000000000000000\r\n" + SMUGGLED + b"\r\n0\r\n\r\n", {400}),
    "chunk-ext-smuggle": (head_with(b"Transfer-Encoding: chunked")
                          + b"5;a=\"\r\n0\r\n\r\n" + SMUGGLED, {400}),
    "chunk-lf-terminated": (head_with(b"Transfer-Encoding: chunked")
                            + b"%x\n" % len(SMUGGLED) + SMUGGLED + b"\n0\n\n", {400}),
    "chunk-data-overrun": (head_with(b"Transfer-Encoding: chunked")
                           + b"1\r\nAB\r\n0\r\n\r\n" + SMUGGLED, {400}),
    "expect-417-with-body": (head_with(b"Expect: nonsense", b"Content-Length: " + CL_SMUGGLED)
                             + SMUGGLED, {417}),
}


@pytest.mark.parametrize("data,statuses", SMUGGLING.values(), ids=SMUGGLING.keys())
def test_no_desync(srv, data, statuses):
    """Each answered per RFC 9112 6.3 (and RFC 9110 8.6), and without
    desync: after the answer the connection is closed, or the next
    pipelined request is answered exactly once with exact bytes; the
    request hidden in the body is never answered."""
    no_desync(srv, data, statuses, head=data.startswith(b"HEAD "))


@pytest.mark.parametrize("name", ["cl-te", "te-cl", "cl-zero-te"])
def test_both_framings_answered_then_closed(srv, name):
    """RFC 9112 6.1: whatever the answer to a request with both
    Transfer-Encoding and Content-Length, the connection closes after it."""
    rejected(srv, SMUGGLING[name][0])


def test_cl_same_values_accepted(srv):
    """RFC 9110 8.6 allows a list of identical values to be taken as one;
    if the server does, the body is what it drops."""
    r = no_desync(srv, SMUGGLING["cl-same-twice"][0], {405, 400})
    assert r.status == 405 and r["Connection"] == "keep-alive", r


def test_big_content_length_never_truncated(srv):
    """2^32 + 5 announced: a server that kept 32 bits would read 5 bytes
    and answer what follows; the answer must close instead."""
    data = head_with(b"Content-Length: %d" % (2 ** 32 + 5)) + b"hello" + SMUGGLED
    with Client(srv.port) as c:
        send(c, data)
        r = c.response()
        assert r["Connection"] == "close", r
        assert c.expect_eof() == b""
