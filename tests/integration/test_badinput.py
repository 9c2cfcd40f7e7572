"""Bad input: malformed requests, size limits, and bodies that must never
be taken for requests. (Versions and Transfer-Encoding, with the rest of
request smuggling, are test_semantics.py's.)"""


import pytest

from rhtest import Client, req, unread_by_server, wait_until, write_files

FILES = {
    "a.html": b"<p>a</p>\n",
    "b.txt": b"B: must never be served by a smuggled request\n",
    "c.txt": b"C: the second real request\n",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("badinput") / "root"
    write_files(root, FILES)
    return root


@pytest.fixture(scope="module")
def srv(module_servers, root):
    return module_servers.start(root)


def rejected(srv, data, statuses=(400,)):
    """Send DATA; expect one error response with a status in STATUSES,
    Connection: close, and then the end of the connection."""
    with Client(srv.port) as c:
        c.send(data)
        r = c.response()
        assert r.status in statuses, r
        assert r["Content-Type"].split(";")[0] == "text/html" and 0 < r.length == len(r.body)
        assert r["Connection"] == "close", r
        assert c.expect_eof() == b""
    return r


H = b"Host: t\r\n"
# Malformed requests that have no twin among test_semantics.py's cases of
# the request line, header syntax and Host.
MALFORMED = {
    "extra-word": b"GET /a.html HTTP/1.1 x\r\n" + H + b"\r\n",
    "bad-version": b"GET /a.html HTTP/1.x\r\n" + H + b"\r\n",
    "version-without-dot": b"GET /a.html HTTP/11\r\n" + H + b"\r\n",
    "binary": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    "relative-target": b"GET a.html HTTP/1.1\r\n" + H + b"\r\n",
    "control-in-target": b"GET /a\x01.html HTTP/1.1\r\n" + H + b"\r\n",
    "space-in-target": b"GET /a b.html HTTP/1.1\r\n" + H + b"\r\n",
    "cl-not-a-number": b"GET /a.html HTTP/1.1\r\n" + H + b"Content-Length: abc\r\n\r\n",
    "cl-negative": b"GET /a.html HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n",
    "cl-plus": b"GET /a.html HTTP/1.1\r\n" + H + b"Content-Length: +1\r\n\r\n",
    "cl-list": b"GET /a.html HTTP/1.1\r\n" + H + b"Content-Length: 1, 2\r\n\r\nxy",
    "cl-twice-differing": b"GET /a.html HTTP/1.1\r\n" + H
                          + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_400_and_close(srv, data):
    rejected(srv, data)


def test_content_length_too_large(srv):
    rejected(srv, req("/a.html", headers={"Content-Length": "9" * 30}), (400, 413))


def test_malformed_after_a_good_request(srv):
    with Client(srv.port) as c:
        c.send(req("/a.html") + b"GET /a.html HTTP/1.1\r\n" + H + b"NoColonHere\r\n\r\n"
               + req("/c.txt"))
        assert c.response().body == FILES["a.html"]
        r = c.response()
        assert (r.status, r["Connection"]) == (400, "close")
        assert c.expect_eof() == b""


# ------------------------------------------------------------------ limits

def test_long_request_line_414(srv):
    rejected(srv, req("/" + "a" * 9000), (414,))


def test_long_request_line_without_end_414(srv):
    rejected(srv, b"GET /" + b"a" * 20000, (414,))


def test_request_line_under_the_limit(srv):
    r = srv.fetch("/" + "a" * 8000)
    assert r.status == 404


def test_many_headers_431(srv):
    rejected(srv, req("/a.html", headers=[(f"X-Pad-{i}", "x" * 100) for i in range(200)]), (431,))


def test_one_huge_header_431(srv):
    rejected(srv, req("/a.html", headers={"X-Big": "x" * 17000}), (431,))


def test_headers_under_the_limit(srv):
    r = srv.fetch("/a.html", headers=[(f"X-Pad-{i}", "x" * 100) for i in range(100)])
    assert r.body == FILES["a.html"]


# ------------------------------------------------------- framing, smuggling

SMUGGLED = req("/b.txt")


@pytest.mark.parametrize("te", ["chunked", " chunked", "Chunked"])
def test_chunked_body_is_never_a_request(srv, te):
    """A chunked body (itself a request for b.txt) is read and dropped:
    only the request around it and the one after it are answered."""
    body = b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n"
    with Client(srv.port) as c:
        c.send(req("/a.html", headers={"Transfer-Encoding": te}) + body + req("/c.txt"))
        r = c.response()
        assert (r.status, r.body) == (200, FILES["a.html"])
        r = c.response()
        assert (r.status, r.body) == (200, FILES["c.txt"]), r


def body_then_request(method):
    """A request whose Content-Length body is itself a request for b.txt,
    followed by a real request for c.txt, all in one send."""
    head = req("/a.html", method, headers={"Content-Length": str(len(SMUGGLED))})
    return head + SMUGGLED + req("/c.txt")


@pytest.mark.parametrize("method,status,body", [
    ("GET", 200, FILES["a.html"]),
    ("POST", 405, None),
])
def test_body_is_never_a_request(srv, method, status, body):
    """ringhttpd reads a small request body and drops it: the body (itself
    a request for b.txt) is never answered, the request after it is."""
    with Client(srv.port) as c:
        c.send(body_then_request(method))
        r = c.response()
        assert r.status == status, r
        if body is not None:
            assert r.body == body
        assert r["Connection"] == "keep-alive", r
        r = c.response()
        assert (r.status, r.body) == (200, FILES["c.txt"]), r


def test_announced_body_sent_later(srv):
    """Also when the body arrives in pieces after the head: the answer goes
    out once the whole body has been read."""
    with Client(srv.port) as c:
        c.send(req("/a.html", headers={"Content-Length": str(len(SMUGGLED) + 10)}) + SMUGGLED[:20])
        wait_until(lambda: unread_by_server(srv.port) == 0, 10, "the server to read the head")
        c.send(SMUGGLED[20:])
        wait_until(lambda: unread_by_server(srv.port) == 0, 10, "the server to read that piece")
        c.send(b"0123456789" + req("/c.txt"))
        r = c.response()
        assert (r.status, r.body) == (200, FILES["a.html"])
        r = c.response()
        assert (r.status, r.body) == (200, FILES["c.txt"]), r


def test_large_body_closes(srv):
    """A large body is not read: the response says Connection: close and
    nothing after the head is answered."""
    body = SMUGGLED * (1 + (1 << 20) // len(SMUGGLED))
    with Client(srv.port) as c:
        c.send(req("/a.html", headers={"Content-Length": str(len(body))}))
        r = c.response()
        assert (r.status, r.body, r["Connection"]) == (200, FILES["a.html"], "close")
        try:
            c.send(body + req("/c.txt"))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert c.expect_eof() == b""


def test_zero_content_length_keeps_the_connection(srv):
    """Content-Length: 0 announces no body: nothing to confuse."""
    with Client(srv.port) as c:
        c.send(req("/a.html", headers={"Content-Length": "0"}) + req("/c.txt"))
        assert c.response().body == FILES["a.html"]
        assert c.response().body == FILES["c.txt"]
