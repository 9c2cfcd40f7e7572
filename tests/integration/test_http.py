"""HTTP/1.1 behaviour: methods, keep-alive, pipelining, headers, media types,
paths, validators and conditional requests, byte ranges, error bodies."""

import os

import pytest

from rhtest import IMF_FIXDATE_RE, STRONG_ETAG_RE, http_date, req, unread_by_server, wait_until

MTIME = 1614834367          # Thu, 04 Mar 2021 05:06:07 GMT
RANGE_DATA = bytes((i * 7 + 3) % 256 for i in range(1000))
FILES = {
    "index.html": b"<!doctype html><title>root index</title>\n",
    "a.html": b"<!doctype html><title>a</title><p>page a</p>\n",
    "b.txt": b"the b file\n",
    "c.txt": b"the c file, a bit longer than b\n",
    "empty.txt": b"",
    "range.bin": RANGE_DATA,
    "sub/index.html": b"<!doctype html><title>sub index</title>\n",
    "sub/page.txt": b"a page in sub\n",
    "noindex/file.txt": b"a directory without an index\n",
    "my dir/index.html": b"index of a directory with a space\n",
    "my file.v1.2.html": b"<p>a name with spaces and dots</p>\n",
    "archive.tar.gz": b"\x1f\x8b\x08\x00not really gzip\n",
    "mutable.txt": b"first version\n",
}
MIME = [  # file name, expected Content-Type (a set: any of them), exact or media type only
    ("t.html", {"text/html"}, True),
    ("t.css", {"text/css"}, True),
    ("t.js", {"text/javascript"}, True),
    ("t.mjs", {"text/javascript"}, False),
    ("t.json", {"application/json"}, False),
    ("t.txt", {"text/plain"}, False),
    ("t.xml", {"application/xml", "text/xml"}, False),
    ("t.jpg", {"image/jpeg"}, True),
    ("t.jpeg", {"image/jpeg"}, True),
    ("t.png", {"image/png"}, True),
    ("t.gif", {"image/gif"}, True),
    ("t.svg", {"image/svg+xml"}, False),
    ("t.ico", {"image/vnd.microsoft.icon", "image/x-icon"}, True),
    ("t.webp", {"image/webp"}, True),
    ("t.avif", {"image/avif"}, True),
    ("t.woff", {"font/woff"}, True),
    ("t.woff2", {"font/woff2"}, True),
    ("t.wasm", {"application/wasm"}, True),
    ("t.pdf", {"application/pdf"}, True),
    ("t.mp4", {"video/mp4"}, True),
    ("t.webm", {"video/webm"}, True),
    ("t.mp3", {"audio/mpeg"}, True),
    ("t.swf", {"application/x-shockwave-flash"}, True),
    # not in the built-in table: answered by /etc/mime.types
    ("t.odt", {"application/vnd.oasis.opendocument.text"}, True),
    ("archive.tar.gz", {"application/gzip"}, True),
    ("my file.v1.2.html", {"text/html"}, True),
    # unknown
    ("t.unknownext", {"application/octet-stream"}, True),
    ("noextension", {"application/octet-stream"}, True),
]
for _name, _, _ in MIME:
    FILES.setdefault(_name, f"content of {_name}\n".encode())


def get(srv, target, method="GET", headers=()):
    return srv.fetch(target, method, headers=headers)


def check_error_body(resp, status):
    """An error response: the status, and a short HTML body of Content-Length bytes."""
    assert resp.status == status, resp
    assert resp["Content-Type"].split(";")[0] == "text/html", resp
    assert 0 < len(resp.body) == resp.length <= 4096, resp
    assert str(status).encode() in resp.body, resp.body


# ------------------------------------------------------------ GET and HEAD

def test_get_file(srv):
    r = get(srv, "/a.html")
    assert r.status == 200 and r.reason == "OK"
    assert r.body == FILES["a.html"]
    assert r["Content-Length"] == str(len(FILES["a.html"]))
    assert r["Content-Type"] == "text/html"
    assert r["Accept-Ranges"] == "bytes"
    assert r["Last-Modified"] == "Thu, 04 Mar 2021 05:06:07 GMT"
    assert STRONG_ETAG_RE.match(r["ETag"]), r
    assert r["Connection"] == "keep-alive"


def test_get_empty_file(srv):
    r = get(srv, "/empty.txt")
    assert (r.status, r["Content-Length"], r.body) == (200, "0", b"")


def test_head_has_headers_but_no_body(srv):
    with srv.client() as c:
        # the GET after the HEAD only parses if the HEAD response had no body
        c.send(req("/a.html") + req("/a.html", "HEAD") + req("/b.txt"))
        g, h, b = c.response(), c.response(head=True), c.response()
    assert h.status == 200
    for name in ("Content-Length", "Content-Type", "Last-Modified", "ETag", "Accept-Ranges"):
        assert h[name] == g[name], name
    assert h["Content-Length"] == str(len(FILES["a.html"]))
    assert b.body == FILES["b.txt"]


def test_etag_is_stable(srv):
    assert get(srv, "/a.html")["ETag"] == get(srv, "/a.html")["ETag"]
    assert get(srv, "/a.html")["ETag"] != get(srv, "/b.txt")["ETag"]


def test_changed_file_is_served_fresh(srv, root):
    first = get(srv, "/mutable.txt")
    assert first.body == FILES["mutable.txt"]
    new = b"second version, longer than the first\n"
    (root / "mutable.txt").write_bytes(new)
    os.utime(root / "mutable.txt", (MTIME + 3600, MTIME + 3600))
    r = wait_until(lambda: (r := get(srv, "/mutable.txt")).body == new and r, 10,
                   "the new content of a changed file")
    assert r["Content-Length"] == str(len(new))
    assert r["Last-Modified"] == http_date(MTIME + 3600)
    assert r["ETag"] != first["ETag"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "TRACE", "BREW", "get"])
def test_other_methods_405(srv, method):
    with srv.client() as c:
        c.send(req("/a.html", method, headers={"Content-Length": "0"}))
        r = c.response()
    check_error_body(r, 405)
    assert r["Allow"] == "GET, HEAD"


def test_options(srv):
    with srv.client() as c:
        c.send(req("/a.html", "OPTIONS") + req("/b.txt"))
        r = c.response()
        assert r.status in (204, 405), r
        assert r["Allow"] == "GET, HEAD"
        if r.status == 204:
            assert r.header("Content-Length") in (None, "0"), r
        else:
            check_error_body(r, 405)
        assert c.response().body == FILES["b.txt"]


def test_absolute_form_target(srv):
    """RFC 9112, 3.2.2: a server accepts the absolute form."""
    r = get(srv, "http://test/a.html?q=1")
    assert (r.status, r.body) == (200, FILES["a.html"])


# ------------------------------------------------------------- keep-alive

@pytest.mark.parametrize("version,connection,keep", [
    ("HTTP/1.1", None, True),
    ("HTTP/1.1", "keep-alive", True),
    ("HTTP/1.1", "close", False),
    ("HTTP/1.1", "Close", False),
    ("HTTP/1.1", "foo, close", False),
    ("HTTP/1.0", None, False),
    ("HTTP/1.0", "keep-alive", True),
    ("HTTP/1.0", "Keep-Alive", True),
    ("HTTP/1.0", "close", False),
])
def test_keep_alive_rules(srv, version, connection, keep):
    headers = {"Connection": connection} if connection else {}
    with srv.client() as c:
        c.send(req("/a.html", version=version, headers=headers))
        r = c.response()
        assert r.body == FILES["a.html"]
        assert r["Connection"] == ("keep-alive" if keep else "close")
        if keep:
            c.send(req("/b.txt", version=version, headers=headers))
            assert c.response().body == FILES["b.txt"]
        else:
            assert c.expect_eof() == b""


def test_keep_alive_many_requests(srv):
    with srv.client() as c:
        for i in range(50):
            c.send(req("/c.txt" if i % 2 else "/b.txt"))
            assert c.response().body == FILES["c.txt" if i % 2 else "b.txt"]


# ------------------------------------------------------------- pipelining

def test_pipelined_in_order(srv):
    with srv.client() as c:
        c.send(req("/a.html") + req("/b.txt", "HEAD") + req("/missing") +
               req("/c.txt?q=1") + req("/sub") + req("/range.bin", headers={"Range": "bytes=1-3"}) +
               req("/b.txt", headers={"Connection": "close"}))
        r = c.response()
        assert (r.status, r.body) == (200, FILES["a.html"])
        r = c.response(head=True)
        assert (r.status, r["Content-Length"]) == (200, str(len(FILES["b.txt"])))
        assert c.response().status == 404
        assert c.response().body == FILES["c.txt"]
        assert c.response()["Location"].endswith("/sub/")
        r = c.response()
        assert (r.status, r.body) == (206, RANGE_DATA[1:4])
        r = c.response()
        assert (r.status, r.body, r["Connection"]) == (200, FILES["b.txt"], "close")
        assert c.expect_eof() == b""


def test_many_pipelined_requests_across_buffers(srv):
    """600 requests (about 30 KiB) in one send, so requests straddle the
    server's receive buffers."""
    names = ["a.html", "b.txt", "c.txt", "sub/page.txt"]
    order = [names[i % 4] for i in range(600)]
    with srv.client() as c:
        c.send(b"".join(req("/" + n, headers={"X-Seq": str(i)}) for i, n in enumerate(order)))
        for i, n in enumerate(order):
            r = c.response()
            assert (r.status, r.body) == (200, FILES[n]), f"response {i}"


@pytest.mark.parametrize("cuts", [(1,), (3, 20), (12, 30, 33)], ids=str)
def test_request_in_pieces(srv, cuts):
    """A request head that arrives in several segments is put together:
    each piece is sent once the server has read the one before, so each
    is a receive of its own."""
    data = req("/a.html", headers={"X-Long": "v" * 40})
    pieces = [data[i:j] for i, j in zip((0,) + cuts, cuts + (len(data),))]
    with srv.client() as c:
        for p in pieces[:-1]:
            c.send(p)
            wait_until(lambda: unread_by_server(srv.port) == 0, 10, "the server to read a piece")
        c.send(pieces[-1])
        assert c.response().body == FILES["a.html"]


# ------------------------------------------------------------------- Host

def test_http11_without_host_400(srv):
    with srv.client() as c:
        c.send(req("/a.html", host=None))
        r = c.response()
        check_error_body(r, 400)
        assert r["Connection"] == "close"
        assert c.expect_eof() == b""


def test_http10_without_host_ok(srv):
    with srv.client() as c:
        c.send(req("/a.html", version="HTTP/1.0", host=None))
        assert c.response().body == FILES["a.html"]


def test_two_host_headers_400(srv):
    with srv.client() as c:
        c.send(req("/a.html", headers={"Host": "other"}))
        check_error_body(c.response(), 400)
        assert c.expect_eof() == b""


def test_header_names_case_insensitive(srv):
    with srv.client() as c:
        c.send(b"GET /a.html HTTP/1.1\r\nhOsT: t\r\nCONNECTION: CLOSE\r\n\r\n")
        r = c.response()
        assert (r.body, r["Connection"]) == (FILES["a.html"], "close")


# ------------------------------------------------------------- media types

@pytest.mark.parametrize("name,types,exact", MIME, ids=[m[0] for m in MIME])
def test_content_type(srv, name, types, exact):
    r = get(srv, "/" + name.replace(" ", "%20"))
    assert r.body == FILES[name]
    ctype = r["Content-Type"]
    assert (ctype if exact else ctype.split(";")[0].strip()) in types, ctype


# ------------------------------------------------------------------ paths

@pytest.mark.parametrize("target,status,name", [
    ("/", 200, "index.html"),
    ("/%61.html", 200, "a.html"),
    ("/a%2Ehtml", 200, "a.html"),
    ("/a%2ehtml", 200, "a.html"),
    ("/a.html?x=1&y=/../../etc/passwd", 200, "a.html"),
    ("/a.html?", 200, "a.html"),
    ("/sub/", 200, "sub/index.html"),
    ("/sub/?q=1", 200, "sub/index.html"),
    ("/sub/page.txt", 200, "sub/page.txt"),
    ("/my%20dir/", 200, "my dir/index.html"),
    ("/my%20file.v1.2.html", 200, "my file.v1.2.html"),
    ("/archive.tar.gz", 200, "archive.tar.gz"),
    ("/noindex/", 403, None),
    ("/a.html/", 404, None),
    ("/b.txt/", 404, None),
    ("/missing.html", 404, None),
    ("/sub/missing", 404, None),
    ("/missing/", 404, None),
    ("/%00", 400, None),
    ("/a.html%00", 400, None),
    ("/a.html%00.txt", 400, None),
    ("/%zz", 400, None),
    ("/a%2", 400, None),
    ("/a.html%", 400, None),
])
def test_paths(srv, target, status, name):
    r = get(srv, target)
    if name:
        assert (r.status, r.body) == (status, FILES[name])
    else:
        check_error_body(r, status)


@pytest.mark.parametrize("target,location", [
    ("/sub", "/sub/"),
    ("/sub?x=1&y=2", "/sub/?x=1&y=2"),
    ("/my%20dir", "/my%20dir/"),
])
def test_directory_without_slash_301(srv, target, location):
    r = get(srv, target)
    assert r.status == 301, r
    assert r["Location"] in (location, "http://test" + location), r
    assert r.length == len(r.body)


# ------------------------------------------------------------ error bodies

@pytest.mark.parametrize("target,method,status", [
    ("/missing", "GET", 404),
    ("/noindex/", "GET", 403),
    ("/a.html", "DELETE", 405),
    ("/%zz", "GET", 400),
    ("/range.bin", "GET", 416),
])
def test_error_bodies_and_head(srv, target, method, status):
    headers = {"Range": "bytes=5000-"} if status == 416 else {}
    check_error_body(get(srv, target, method, headers), status)
    if method != "GET" or headers:
        return      # HEAD ignores Range
    with srv.client() as c:
        c.send(req(target, "HEAD", headers=headers) + req("/b.txt"))
        h = c.response(head=True)
        assert h.status == status and h.length is not None and h.length > 0, h
        if h["Connection"] == "close":
            assert c.expect_eof() == b""    # nothing after the head
        else:
            assert c.response().body == FILES["b.txt"]


def test_head_of_301_and_404_has_no_body(srv):
    with srv.client() as c:
        c.send(req("/sub", "HEAD") + req("/nothing", "HEAD") + req("/b.txt"))
        assert c.response(head=True).status == 301
        assert c.response(head=True).status == 404
        assert c.response().body == FILES["b.txt"]


# ------------------------------------------------- conditional requests

def etag(srv, name="a.html"):
    return get(srv, "/" + name)["ETag"]


@pytest.mark.parametrize("headers,status", [
    ({"If-None-Match": "{etag}"}, 304),
    ({"If-None-Match": '"nope", {etag}'}, 304),
    ({"If-None-Match": "*"}, 304),
    ({"If-None-Match": '"nope"'}, 200),
    ({"If-Modified-Since": "Thu, 04 Mar 2021 05:06:07 GMT"}, 304),
    ({"If-Modified-Since": "Fri, 05 Mar 2021 00:00:00 GMT"}, 304),
    ({"If-Modified-Since": "Wed, 03 Mar 2021 00:00:00 GMT"}, 200),
    ({"If-Modified-Since": "not a date"}, 200),
    # If-None-Match wins over If-Modified-Since
    ({"If-None-Match": '"nope"', "If-Modified-Since": "Thu, 04 Mar 2021 05:06:07 GMT"}, 200),
], ids=["inm", "inm-list", "inm-star", "inm-other", "ims-equal", "ims-later", "ims-earlier",
        "ims-bad", "inm-beats-ims"])
def test_conditional(srv, headers, status):
    tag = etag(srv)
    headers = {k: v.replace("{etag}", tag) for k, v in headers.items()}
    with srv.client() as c:
        c.send(req("/a.html", headers=headers) + req("/b.txt"))
        r = c.response()
        assert r.status == status, r
        if status == 304:
            assert r["ETag"] == tag
            assert r.header("Content-Type") in (None, "text/html")
        else:
            assert r.body == FILES["a.html"]
        assert c.response().body == FILES["b.txt"]    # a 304 has no body


def test_last_modified_format(srv):
    assert IMF_FIXDATE_RE.match(get(srv, "/b.txt")["Last-Modified"])


# ------------------------------------------------------------------ ranges

@pytest.mark.parametrize("spec,first,last", [
    ("bytes=0-99", 0, 99),
    ("bytes=0-0", 0, 0),
    ("bytes=990-", 990, 999),
    ("bytes=-10", 990, 999),
    ("bytes=995-5000", 995, 999),
    ("bytes=-5000", 0, 999),
    ("bytes=500-500", 500, 500),
])
def test_range(srv, spec, first, last):
    r = get(srv, "/range.bin", headers={"Range": spec})
    assert r.status == 206, r
    assert r["Content-Range"] == f"bytes {first}-{last}/1000"
    assert r["Content-Length"] == str(last - first + 1)
    assert r.body == RANGE_DATA[first:last + 1]
    assert r["ETag"] and r["Content-Type"]


@pytest.mark.parametrize("name,spec,size", [
    ("range.bin", "bytes=1000-", 1000),
    ("range.bin", "bytes=1500-1600", 1000),
    ("range.bin", "bytes=-0", 1000),
    ("empty.txt", "bytes=0-", 0),
])
def test_range_unsatisfiable(srv, name, spec, size):
    r = get(srv, "/" + name, headers={"Range": spec})
    check_error_body(r, 416)
    assert r["Content-Range"] == f"bytes */{size}"


def test_range_unknown_unit(srv):
    r = get(srv, "/range.bin", headers={"Range": "items=0-5"})
    assert (r.status, r.body) == (200, RANGE_DATA)


def test_close_ranges_are_one_part(srv):
    """Ranges fewer than 80 bytes apart are coalesced: one plain 206."""
    r = get(srv, "/range.bin", headers={"Range": "bytes=0-1,5-6"})
    assert (r.status, r["Content-Range"], r.body) == (206, "bytes 0-6/1000", RANGE_DATA[:7])


def test_head_ignores_range(srv):
    """Range handling is defined for GET only (RFC 9110, 14.2): HEAD gets
    the head of the whole file."""
    with srv.client() as c:
        c.send(req("/range.bin", "HEAD", headers={"Range": "bytes=10-19"}) + req("/b.txt"))
        r = c.response(head=True)
        assert (r.status, r["Content-Length"], r.header("Content-Range")) == (200, "1000", None)
        assert c.response().body == FILES["b.txt"]


@pytest.mark.parametrize("if_range,status", [
    ("{etag}", 206),
    ('"not-the-etag"', 200),
    ("W/{etag}", 200),       # a weak validator never matches If-Range
])
def test_if_range(srv, if_range, status):
    tag = etag(srv, "range.bin")
    r = get(srv, "/range.bin", headers={"Range": "bytes=100-199",
                                        "If-Range": if_range.replace("{etag}", tag)})
    assert r.status == status, r
    if status == 206:
        assert (r["Content-Range"], r.body) == ("bytes 100-199/1000", RANGE_DATA[100:200])
    else:
        assert r.body == RANGE_DATA and r.header("Content-Range") is None
