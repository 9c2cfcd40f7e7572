"""HTTP/2: over TLS (ALPN h2) and over plain sockets (h2c with prior
knowledge), with certificates made here by `openssl req`.

curl --http2 and --http2-prior-knowledge get every body path (memory,
sendfile, a file not in the page cache, ranges, multipart, precompressed,
header rules, redirects, error pages, a listing, the status endpoint, HEAD,
304, 421, https_redirect) with the exact bytes and exactly the fields the
same HTTP/1.1 request gets, less the connection-specific ones. nghttp -nv
shows the server's SETTINGS and the frames of an answer. ALPN, the h2c
preface and Upgrade: h2c with http2 on and off. Raw frames (hyperframe and
hpack, rhtest.H2Client) drive every limit: rapid reset, CONTINUATION, the
header list, the HPACK table, PING/SETTINGS/PRIORITY/empty-DATA floods, a
client that never reads (also behind a download that fills the socket, so
that no GOAWAY can be sent), zero windows and the pooled buffers they may
not hold; request bodies, malformed requests, GOAWAY on SIGTERM, SIGHUP
and idleness, fairness between streams and connections, the status
endpoint's HTTP/2 counters, and crowds (h2load, 1,000 stalled downloads).
After every attack a normal client is served. Every wait polls with a deadline; what
can be counted (frames, bytes, threads, descriptors, connections, the
status endpoint's counters) is counted."""

import gzip
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter

import pytest
from hyperframe.frame import (ContinuationFrame, DataFrame, HeadersFrame,
                              PingFrame, PriorityFrame, RstStreamFrame, SettingsFrame)

from rhtest import (H2_CANCEL, H2_COMPRESSION_ERROR, H2_ENABLE_PUSH, H2_ENHANCE_YOUR_CALM,
                    H2_INITIAL_WINDOW_SIZE, H2_MAX_CONCURRENT_STREAMS, H2_MAX_HEADER_LIST_SIZE,
                    H2_MAX_WINDOW, H2_NO_ERROR, H2_PREFACE, H2_PROTOCOL_ERROR, PKI, Client,
                    Crowd, H2Client, TLSClient, check_h2_common, curl_h2,
                    descriptor_count, drop_from_page_cache, file_system_type, h2_context,
                    h2_fields, h2_fields_of, need_nofile, open_server_conns, plain_port,
                    raise_nofile, render_conf_lists, req, sha, skip_unless_ci, socket_fds,
                    thread_names, tls_context, tls_keys, tls_port, tls_settings, wait_until,
                    write_files)
from test_semantics import multipart_parts

raise_nofile()      # the crowds' descriptors; servers started here inherit it

STATUS = "/.ringhttpd/metrics"
HSTS = "max-age=63072000; includeSubDomains"
MODES = pytest.mark.parametrize("mode", ["h2", "h2c"])

_rnd = random.Random(2015)
SMALL = _rnd.randbytes(1000)                # in the memory cache
BIG = _rnd.randbytes(3 * 1000 * 1000 + 17)  # past file_cache_max_file (32 KiB): sendfile
COLD = _rnd.randbytes(2 * 1000 * 1000 + 3)  # dropped from the page cache before it is asked for
TEN_MB = _rnd.randbytes(10 * 1000 * 1000)
MID = _rnd.randbytes(40000)                 # ~10 chunks of a 4096-byte pooled buffer
PAGE = b"<!doctype html><title>page</title>\n" + b"<p>gzip me</p>\n" * 400
NOT_FOUND = b"<!doctype html><title>not here</title>\n"
CSS = b"body { color: red; }\n"
FILES = {
    "small.bin": SMALL, "big.bin": BIG, "cold.bin": COLD, "10mb.bin": TEN_MB, "mid.bin": MID,
    "page.html": PAGE, "page.html.gz": gzip.compress(PAGE, mtime=0), "style.css": CSS,
    "404.html": NOT_FOUND, "new.html": b"new\n", "empty.txt": b"",
    "dir/a.txt": b"a\n", "dir/b b.txt": b"b\n" * 100, "dir/sub/c.txt": b"c\n",
    **{f"s/{i}.bin": _rnd.randbytes(20000 + i) for i in range(100)},
}


def who(name):
    return {"who.txt": f"{name}\n".encode()}


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("h2")
    paths = {}
    for name, files in (("main", {**FILES, **who("main")}), ("other", who("other"))):
        paths[name] = base / name
        write_files(paths[name], files)
    # a minute old: a validator of this second would be clamped to Date
    # (RFC 9110 8.8.2.1), and the HTTP/1.1 twin asked a second apart would differ
    then = time.time() - 60
    for top in paths.values():
        for where, dirs, names in os.walk(top):
            for n in names + dirs + [""]:
                os.utime(os.path.join(where, n), (then, then))
    os.utime(paths["main"] / "page.html.gz", (then + 5, then + 5))
    return paths


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = PKI(tmp_path_factory.mktemp("pki"))
    p.ecdsa = p.leaf("ecdsa", ["localhost", "127.0.0.1"])
    p.other = p.leaf("other", ["other.test"])
    return p


def main_settings(roots, pki, **extra):
    """A plain and a TLS socket on every site feature; other.test has its
    own certificate (421 for it on a connection made for localhost)."""
    s = tls_settings(roots["main"], pki.ecdsa)
    s.update({"server_name": "localhost", "status_path": STATUS, "directory_listing": True,
              "precompressed": ["gzip"], "hsts": HSTS,
              "error_pages": [{"status": 404, "page": "/404.html"}],
              "headers": [{"match": "*.css", "set": ["Cache-Control: max-age=3600", "X-A: 1"]}],
              "redirects": [{"from": "/old.html", "to": "/new.html", "status": 301}],
              "sites": [{"server_name": "other.test", "document_root": str(roots["other"]),
                         **tls_keys(pki.other)}]})
    s.update(extra)
    return s


def start(pool, settings):
    return pool.new(text=render_conf_lists(settings)).start()


@pytest.fixture(scope="module")
def access_log(tmp_path_factory):
    return tmp_path_factory.mktemp("log") / "access.log"


@pytest.fixture(scope="module")
def srv(module_servers, roots, pki, access_log):
    return start(module_servers, main_settings(roots, pki, access_log=str(access_log)))


def h2c(srv, **kw):
    return H2Client(plain_port(srv), **kw)


def h2tls(srv, pki, **kw):
    return H2Client(tls_port(srv), h2_context(pki.ca), **kw)


def connect(srv, pki, mode, **kw):
    return h2tls(srv, pki, **kw) if mode == "h2" else h2c(srv, **kw)


def served(srv, pki=None, mode="h2c"):
    """A normal client gets small.bin exactly on a new connection."""
    with connect(srv, pki, mode) as c:
        r = c.get("/small.bin")
    assert (r.status, r.length, r.sha) == (200, len(SMALL), sha(SMALL)), r
    return r


# ------------------------------------------------------------ curl, every path

def curl(srv, pki, mode, target, *args):
    """curl over HTTP/2 (ALPN h2 on the TLS socket, prior knowledge on the
    plain one) to localhost; the fields every answer has are checked."""
    if mode == "h2":
        port = tls_port(srv)
        url = f"https://localhost:{port}{target}"
    else:
        port = plain_port(srv)
        url = f"http://localhost:{port}{target}"
    r = curl_h2(url, pki.ca, args, resolve=f"localhost:{port}:127.0.0.1")
    assert r.version == "2", r.version
    check_h2_common(r.headers)
    if r.status not in (204, 304) and not (100 <= r.status < 200):
        assert r.length is not None, f"no content-length: {r!r}"
    else:
        assert r.header("content-length") is None, r
    return r


def h1(srv, pki, mode, target, method="GET", host="localhost", headers=(), sni="localhost"):
    """The same request over HTTP/1.1 on the same kind of socket."""
    if mode == "h2":
        c = TLSClient(tls_port(srv), tls_context(pki.ca), sni=sni)
    else:
        c = Client(plain_port(srv))
    with c:
        c.send(req(target, method, host=host, headers=headers))
        return c.response(head=(method == "HEAD"))


def same_as_h1(r2, r1):
    """An HTTP/2 answer is its HTTP/1.1 twin: status, fields (lower-case,
    no Connection or Keep-Alive), body."""
    assert r2.status == r1.status, (r2, r1)
    assert h2_fields(r2.headers) == h2_fields_of(r1), (r2.head, r1.head)


@MODES
@pytest.mark.parametrize("name", ["small.bin", "big.bin", "10mb.bin", "empty.txt"],
                         ids=["memory", "sendfile", "10mb", "empty"])
def test_curl_whole_file(srv, pki, mode, name):
    r = curl(srv, pki, mode, "/" + name)
    assert (r.status, r.length, sha(r.body)) == (200, len(FILES[name]), sha(FILES[name])), r
    same_as_h1(r, h1(srv, pki, mode, "/" + name))


def resident_bytes(path):
    p = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                       capture_output=True, text=True, check=True)
    return int(p.stdout.strip())


@MODES
def test_curl_file_not_in_page_cache(srv, pki, roots, mode):
    path = roots["main"] / "cold.bin"
    if file_system_type(path) in ("tmpfs", "ramfs"):
        pytest.skip(f"{path} is on {file_system_type(path)}: its pages cannot be dropped")
    drop_from_page_cache([path])
    assert resident_bytes(path) == 0, "cold.bin is still in the page cache"
    r = curl(srv, pki, mode, "/cold.bin")
    assert (r.status, r.length, sha(r.body)) == (200, len(COLD), sha(COLD)), r


@MODES
@pytest.mark.parametrize("name,spec,first,last", [
    ("small.bin", "bytes=-100", len(SMALL) - 100, len(SMALL) - 1),
    ("big.bin", "bytes=1000-299999", 1000, 299999),
    ("big.bin", f"bytes={len(BIG) - 70000}-", len(BIG) - 70000, len(BIG) - 1),
], ids=["memory", "sendfile", "sendfile-to-end"])
def test_curl_range(srv, pki, mode, name, spec, first, last):
    r = curl(srv, pki, mode, "/" + name, "-H", f"Range: {spec}")
    data = FILES[name]
    assert (r.status, r["content-range"]) == (206, f"bytes {first}-{last}/{len(data)}"), r
    assert (r.length, sha(r.body)) == (last + 1 - first, sha(data[first:last + 1])), r
    same_as_h1(r, h1(srv, pki, mode, "/" + name, headers={"Range": spec}))


@MODES
@pytest.mark.parametrize("name", ["small.bin", "big.bin"], ids=["memory", "sendfile"])
def test_curl_multipart(srv, pki, mode, name):
    data = FILES[name]
    spans = [(0, 99), (500, 899), (len(data) - 10, len(data) - 1)]
    spec = "bytes=" + ",".join(f"{a}-{b}" for a, b in spans)
    r = curl(srv, pki, mode, "/" + name, "-H", f"Range: {spec}")
    _, parts = multipart_parts(r)
    assert [(a, b, body, total) for a, b, _, body, total in parts] == \
        [(a, b, data[a:b + 1], len(data)) for a, b in spans], r
    # the boundary may differ from one answer to the next; nothing else may
    want = h1(srv, pki, mode, "/" + name, headers={"Range": spec})
    drop = ("content-type", "content-length")
    assert [f for f in h2_fields(r.headers) if f[0] not in drop] == \
        [f for f in h2_fields_of(want) if f[0] not in drop], (r.head, want.head)


@MODES
def test_curl_precompressed(srv, pki, mode):
    r = curl(srv, pki, mode, "/page.html", "-H", "Accept-Encoding: gzip")
    assert (r.status, r["content-encoding"], r["vary"]) == (200, "gzip", "Accept-Encoding"), r
    assert r.body == FILES["page.html.gz"] and gzip.decompress(r.body) == PAGE
    same_as_h1(r, h1(srv, pki, mode, "/page.html", headers={"Accept-Encoding": "gzip"}))


@MODES
def test_curl_header_rules(srv, pki, mode):
    r = curl(srv, pki, mode, "/style.css")
    assert (r.status, r.body, r["cache-control"], r["x-a"]) == (200, CSS, "max-age=3600", "1"), r
    same_as_h1(r, h1(srv, pki, mode, "/style.css"))


@MODES
def test_curl_redirect(srv, pki, mode):
    r = curl(srv, pki, mode, "/old.html")
    assert (r.status, r["location"]) == (301, "/new.html"), r
    want = h1(srv, pki, mode, "/old.html")
    same_as_h1(r, want)
    assert r.body == want.body


@MODES
def test_curl_error_page(srv, pki, mode):
    r = curl(srv, pki, mode, "/no-such-file")
    assert (r.status, r.length, r.body) == (404, len(NOT_FOUND), NOT_FOUND), r
    same_as_h1(r, h1(srv, pki, mode, "/no-such-file"))


@MODES
@pytest.mark.parametrize("target", ["/dir/", "/"])
def test_curl_listing(srv, pki, mode, target):
    want = h1(srv, pki, mode, target)
    assert want.status == 200 and want["Content-Type"].startswith("text/html"), want
    r = curl(srv, pki, mode, target)
    assert (r.status, r.body) == (200, want.body), r
    same_as_h1(r, want)


@MODES
def test_curl_status_endpoint(srv, pki, mode):
    r = curl(srv, pki, mode, STATUS)
    assert r.status == 200 and r.length == len(r.body), r
    text = r.body.decode()
    for name in ("ringhttpd_accepts_total", "ringhttpd_buffer_waits_total",
                 "ringhttpd_tls_handshakes_total"):
        assert re.search(rf"^{name} \d+$", text, re.M), (name, text)
    assert re.search(r'^ringhttpd_requests_total\{class="2xx"\} [1-9]\d*$', text, re.M), text
    want = h1(srv, pki, mode, STATUS)
    assert [f for f in h2_fields(r.headers) if f[0] != "content-length"] == \
        [f for f in h2_fields_of(want) if f[0] != "content-length"], (r.head, want.head)


@MODES
@pytest.mark.parametrize("name", ["small.bin", "big.bin"], ids=["memory", "sendfile"])
def test_curl_head(srv, pki, mode, name):
    r = curl(srv, pki, mode, "/" + name, "--head")
    assert (r.status, r.length) == (200, len(FILES[name])), r
    same_as_h1(r, h1(srv, pki, mode, "/" + name, "HEAD"))


@MODES
def test_head_ends_the_stream_on_headers(srv, pki, mode):
    """HEAD: END_STREAM on the HEADERS frame, no DATA frame; the next
    stream on the connection is whole."""
    with connect(srv, pki, mode) as c:
        r = c.get("/big.bin", "HEAD")
        assert (r.status, r["content-length"], r.head_ended, r.data_frames) == \
            (200, str(len(BIG)), True, 0), r
        r = c.get("/small.bin")
        assert (r.status, bytes(r.body)) == (200, SMALL), r
        assert not [f for f in c.frames if isinstance(f, tuple) and f[1] == 1], c.frames


@MODES
def test_curl_304(srv, pki, mode):
    etag = h1(srv, pki, mode, "/big.bin")["ETag"]
    r = curl(srv, pki, mode, "/big.bin", "-H", f"If-None-Match: {etag}")
    assert (r.status, r.body, r["etag"]) == (304, b"", etag), r
    same_as_h1(r, h1(srv, pki, mode, "/big.bin", headers={"If-None-Match": etag}))
    with connect(srv, pki, mode) as c:
        r = c.get("/big.bin", headers={"if-none-match": etag})
    assert (r.status, r.head_ended, r.data_frames, r.header("content-length")) == \
        (304, True, 0, None), r


def test_curl_421_for_a_site_of_another_certificate(srv, pki):
    r = curl(srv, pki, "h2", "/who.txt", "-H", "Host: other.test")
    assert r.status == 421, r
    same_as_h1(r, h1(srv, pki, "h2", "/who.txt", host="other.test"))
    # the same connection, its own site: served
    with h2tls(srv, pki) as c:
        r = c.get("/who.txt", authority="other.test")
        assert r.status == 421, r
        r = c.get("/who.txt")
        assert (r.status, bytes(r.body)) == (200, b"main\n"), r


def test_other_site_by_authority_on_h2c(srv, pki):
    with h2c(srv) as c:
        for authority, body in (("other.test", b"other\n"), ("localhost", b"main\n"),
                                ("OTHER.test:80", b"other\n")):
            r = c.get("/who.txt", authority=authority)
            assert (r.status, bytes(r.body)) == (200, body), (authority, r)


@pytest.fixture(scope="module")
def redirecting(module_servers, roots, pki):
    s = tls_settings(roots["main"], pki.ecdsa)
    s.update({"server_name": "localhost", "https_redirect": True})
    return start(module_servers, s)


@pytest.mark.parametrize("method,status", [("GET", 301), ("HEAD", 301), ("DELETE", 308)])
def test_https_redirect_on_h2c(redirecting, pki, method, status):
    target = "/a/b%20c.txt?x=1"
    want = f"https://localhost:{tls_port(redirecting)}{target}"
    r = curl(redirecting, pki, "h2c", target, "-X", method) if method != "HEAD" else \
        curl(redirecting, pki, "h2c", target, "--head")
    assert (r.status, r["location"]) == (status, want), r
    same_as_h1(r, h1(redirecting, pki, "h2c", target, method))
    # and over TLS the file itself
    r = curl(redirecting, pki, "h2", "/small.bin")
    assert (r.status, r.body) == (200, SMALL), r


@MODES
@pytest.mark.parametrize("target,method,headers", [
    ("/dir/", "HEAD", {}), (STATUS, "HEAD", {}), ("/no-such", "HEAD", {}),
    ("/big.bin", "GET", {"range": "bytes=9999999-"}), ("*", "OPTIONS", {}),
    ("/small.bin", "OPTIONS", {}), ("/small.bin", "DELETE", {}),
], ids=["listing-head", "status-head", "404-head", "416", "options-star", "options",
        "delete"])
def test_more_answers_like_http11(srv, pki, mode, target, method, headers):
    """Answers with no body or an error: the same status and fields as
    HTTP/1.1; a HEAD's HEADERS ends the stream."""
    want = h1(srv, pki, mode, target, method, headers=headers)
    with connect(srv, pki, mode) as c:
        r = c.get(target, method, headers=headers)
    check_h2_common(r.fields)
    assert r.status == want.status and bytes(r.body) == want.body, (r, want)
    drop = ("content-length",) if target == STATUS else ()
    assert [f for f in h2_fields(r.fields) if f[0] not in drop] == \
        [f for f in h2_fields_of(want) if f[0] not in drop], (r.fields, want.head)
    if method == "HEAD":
        assert (r.head_ended, r.data_frames) == (True, 0), r


@MODES
def test_reset_in_the_middle_of_a_frame_keeps_the_framing(srv, pki, mode):
    """Streams of the 10 MB file reset by the client after some bytes
    (sendfile or pread may be in the middle of a DATA frame), five times on
    one connection: every later answer on it is exact."""
    with connect(srv, pki, mode, keep_body=False) as c:
        for i in range(5):
            sid = c.request("/10mb.bin")
            c.read_until(lambda: c.streams[sid].length >= 100000 * (i + 1), what="some bytes")
            c.send_frames(RstStreamFrame(sid, error_code=H2_CANCEL))
            r = c.get("/big.bin")
            assert (r.status, r.length, r.sha) == (200, len(BIG), sha(BIG)), r
            r = c.get("/small.bin")
            assert (r.status, r.sha) == (200, sha(SMALL)), r
        assert not c.goaways, c.goaways


@MODES
def test_small_windows_exact_bytes(srv, pki, mode):
    """Stream windows of 1,000 bytes given back after each DATA frame: the
    40 KB and the 3 MB files in frames no larger than the window, exact."""
    from hyperframe.frame import WindowUpdateFrame
    with connect(srv, pki, mode, settings={H2_INITIAL_WINDOW_SIZE: 1000}) as c:
        for name, data in (("mid.bin", MID), ("small.bin", SMALL), ("big.bin", BIG[:300000])):
            headers = {"range": "bytes=0-299999"} if name == "big.bin" else {}
            sid = c.request("/" + name, headers=headers)
            s = c.streams[sid]
            seen = 0
            while not s.done:
                c.read_until(lambda: s.done or s.data_frames > seen, what="a DATA frame")
                if s.data_frames > seen:
                    seen = s.data_frames
                    got = [f for f in c.frames if isinstance(f, tuple) and f[1] == sid][-1][2]
                    assert got <= 1000, got
                    if got and not s.ended:
                        c.send_frames(WindowUpdateFrame(sid, window_increment=got))
            assert (s.status, s.length, s.sha) == (200 if not headers else 206, len(data),
                                                   sha(data)), s


def test_access_log_says_http2(srv, pki, access_log):
    for mode in ("h2", "h2c"):
        curl(srv, pki, mode, f"/small.bin?log-{mode}")
    h1(srv, pki, "h2c", "/small.bin?log-h1")
    wait_until(lambda: access_log.exists() and "log-h1 " in access_log.read_text(), 10,
               "the access log's lines")
    text = access_log.read_text()
    for tag in ("log-h2", "log-h2c"):
        assert re.search(rf'"GET /small\.bin\?{tag} HTTP/2\.0" 200 {len(SMALL)} ', text), text
    assert re.search(r'"GET /small\.bin\?log-h1 HTTP/1\.1" 200 ', text), text


# ------------------------------------------------------------------- nghttp

def nghttp(url, *args):
    if not shutil.which("nghttp"):
        skip_unless_ci("nghttp is not installed", "nghttp2-client")
    p = subprocess.run(["nghttp", "-nv", "--no-dep", *args, url], capture_output=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out[-3000:] + p.stderr.decode(errors="replace")
    return out


FRAME_RE = re.compile(r"^\[\s*[0-9.]+\] recv (\w+) frame <length=(\d+), flags=0x([0-9a-f]+), "
                      r"stream_id=(\d+)>", re.M)


def server_settings_in(out):
    m = re.search(r"recv SETTINGS frame <length=\d+, flags=0x00, stream_id=0>\n"
                  r"\s+\(niv=\d+\)\n((?:\s+\[SETTINGS_\w+\(0x[0-9a-f]+\):\d+\]\n)*)", out)
    assert m, out
    return {int(k, 16): int(v) for k, v in re.findall(r"\(0x([0-9a-f]+)\):(\d+)\]", m.group(1))}


@pytest.mark.parametrize("mode", ["h2", "h2c"])
@pytest.mark.parametrize("name", ["small.bin", "big.bin"])
def test_nghttp_settings_and_frames(srv, mode, name):
    port = tls_port(srv) if mode == "h2" else plain_port(srv)
    scheme = "https" if mode == "h2" else "http"
    out = nghttp(f"{scheme}://127.0.0.1:{port}/{name}")
    got = server_settings_in(out)
    assert {k: got.get(k) for k in (H2_MAX_CONCURRENT_STREAMS, H2_MAX_HEADER_LIST_SIZE,
                                    H2_ENABLE_PUSH)} == \
        {H2_MAX_CONCURRENT_STREAMS: 128, H2_MAX_HEADER_LIST_SIZE: 16384, H2_ENABLE_PUSH: 0}, out
    frames = [(t, int(n), int(f, 16), int(s)) for t, n, f, s in FRAME_RE.findall(out)]
    mine = [f for f in frames if f[3] == 1]
    assert mine and mine[0][0] == "HEADERS" and not mine[0][2] & 0x1, out    # no END_STREAM
    data = mine[1:]
    assert data and all(t == "DATA" for t, *_ in data), out
    assert sum(n for _, n, _, _ in data) == len(FILES[name]), out
    assert all(n <= 16384 for _, n, _, _ in data), out
    assert [f & 0x1 for _, _, f, _ in data] == [0] * (len(data) - 1) + [1], out
    assert re.search(r"recv \(stream_id=1\) :status: 200$", out, re.M), out
    assert re.search(r"recv \(stream_id=1\) server: ringhttpd$", out, re.M), out
    assert re.search(rf"recv \(stream_id=1\) content-length: {len(FILES[name])}$", out, re.M), out


def test_settings_follow_the_configuration(servers, roots):
    s = {"document_root": str(roots["main"]), "listen": ["127.0.0.1:0"], "user": "",
         "http2_max_streams": 7, "buffer_size": 32768}
    srv = servers.new(text=render_conf_lists(s)).start()
    out = nghttp(f"http://127.0.0.1:{srv.port}/small.bin")
    got = server_settings_in(out)
    assert (got.get(H2_MAX_CONCURRENT_STREAMS), got.get(H2_MAX_HEADER_LIST_SIZE),
            got.get(H2_ENABLE_PUSH)) == (7, 32768, 0), out
    with h2c(srv) as c:
        c.read_until(lambda: c.server_settings is not None, what="the server's SETTINGS")
        assert c.server_settings[H2_MAX_CONCURRENT_STREAMS] == 7, c.server_settings


# --------------------------------------------------------------------- ALPN

@pytest.fixture(scope="module")
def no_h2(module_servers, roots, pki):
    return start(module_servers, main_settings(roots, pki, http2=False))


@pytest.mark.parametrize("offer,want", [
    (["h2", "http/1.1"], "h2"), (["http/1.1", "h2"], "h2"), (["h2"], "h2"),
    (["http/1.1"], "http/1.1"), (None, None),
])
def test_alpn_selection(srv, pki, offer, want):
    with TLSClient(tls_port(srv), tls_context(pki.ca, alpn=offer)) as c:
        assert c.sock.selected_alpn_protocol() == want
        if want == "h2":
            c.send(H2Client.preface({}, window=False))
            data = c.sock.recv(9)
            assert len(data) == 9 and data[3] == 0x4, data      # the server's SETTINGS
        else:
            c.send(req("/small.bin", host="localhost"))
            assert c.response().body == SMALL


def test_alpn_h2_then_the_file(srv, pki):
    with h2tls(srv, pki) as c:
        assert c.sock.selected_alpn_protocol() == "h2" and c.sock.version() == "TLSv1.3"
        r = c.get("/big.bin")
    assert (r.status, r.length, r.sha) == (200, len(BIG), sha(BIG)), r


@pytest.mark.parametrize("offer,want", [(["h2", "http/1.1"], "http/1.1"),
                                        (["http/1.1"], "http/1.1"), (None, None)])
def test_alpn_with_http2_off(no_h2, pki, offer, want):
    with TLSClient(tls_port(no_h2), tls_context(pki.ca, alpn=offer)) as c:
        assert c.sock.selected_alpn_protocol() == want
        c.send(req("/small.bin", host="localhost"))
        assert c.response().body == SMALL


def test_alpn_h2_only_with_http2_off_is_refused(no_h2, pki):
    with pytest.raises(ssl.SSLError, match="(?i)no.application.protocol"):
        TLSClient(tls_port(no_h2), tls_context(pki.ca, alpn=["h2"])).close()


def test_h2c_preface_with_http2_off_is_505(no_h2):
    with Client(plain_port(no_h2)) as c:
        c.send(H2Client.preface({}))
        r = c.response()
    assert r.status == 505, r


def test_h2c_preface_starts_http2(srv):
    with h2c(srv) as c:
        c.read_until(lambda: c.server_settings is not None, what="the server's SETTINGS")
        assert isinstance(c.frames[0], SettingsFrame) and "ACK" not in c.frames[0].flags
        r = c.get("/small.bin")
    assert (r.status, bytes(r.body)) == (200, SMALL), r


@pytest.mark.parametrize("cut", [1, 5, 16, 18, 23])
def test_h2c_preface_in_pieces(srv, cut):
    """The preface's first CUT bytes, then the rest once the server has
    read them: still HTTP/2."""
    from test_crowd import wait_read_or_settled
    with H2Client(plain_port(srv), preface=False) as c:
        first = H2Client.preface(c.settings)
        c.send(first[:cut])
        assert wait_read_or_settled(plain_port(srv)) == 0
        c.send(first[cut:])
        r = c.get("/small.bin")
        assert (r.status, bytes(r.body)) == (200, SMALL), r


def test_sni_of_another_site_over_h2(srv, pki):
    with H2Client(tls_port(srv), h2_context(pki.ca), sni="other.test") as c:
        r = c.get("/who.txt", authority="other.test")
        assert (r.status, bytes(r.body)) == (200, b"other\n"), r
        r = c.get("/who.txt", authority="localhost")
        assert r.status == 421, r


@pytest.mark.parametrize("which", ["srv", "no_h2"])
def test_upgrade_h2c_is_answered_as_http11(request, which):
    s = request.getfixturevalue(which)
    with Client(plain_port(s)) as c:
        c.send(req("/small.bin", host="localhost",
                   headers={"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c",
                            "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"}))
        r = c.response()
        assert (r.status, r.body, r.header("Upgrade")) == (200, SMALL, None), r
        c.send(req("/who.txt", host="localhost"))         # still HTTP/1.1 on it
        assert c.response().body == b"main\n"


def test_reload_changes_max_streams(servers, roots):
    s = {"document_root": str(roots["main"]), "listen": ["127.0.0.1:0"], "user": "",
         "http2_max_streams": 7}
    srv = servers.new(text=render_conf_lists(s)).start()
    for n in (7, 300):
        if n != 7:
            mark = srv.line_count()
            srv.write_conf(text=render_conf_lists({**s, "http2_max_streams": n}))
            srv.signal(signal.SIGHUP)
            srv.wait_line(r"configuration reloaded", start=mark)
        with h2c(srv) as c:
            c.read_until(lambda: c.server_settings is not None, what="the server's SETTINGS")
            assert c.server_settings[H2_MAX_CONCURRENT_STREAMS] == n, c.server_settings
            assert c.get("/small.bin").status == 200


def test_reload_turns_http2_off_and_on(servers, roots, pki):
    s = main_settings(roots, pki)
    srv = start(servers, s)
    served(srv, pki, "h2")
    with h2c(srv) as before:
        assert before.get("/small.bin").status == 200
        for on in (False, True):
            mark = srv.line_count()
            srv.write_conf(text=render_conf_lists({**s, "http2": on}))
            srv.signal(signal.SIGHUP)
            srv.wait_line(r"configuration reloaded", start=mark)
            with TLSClient(tls_port(srv), tls_context(pki.ca, alpn=["h2", "http/1.1"])) as c:
                assert c.sock.selected_alpn_protocol() == ("h2" if on else "http/1.1")
            with Client(plain_port(srv)) as c:
                c.send(H2_PREFACE)
                if on:
                    assert c.sock.recv(9)[3:4] == b"\x04"
                else:
                    assert c.response().status == 505


# ------------------------------------------------------------- item 5 and 6

@MODES
def test_post_is_405_and_its_body_dropped(srv, pki, mode):
    want = h1(srv, pki, mode, "/small.bin", "POST", headers={"Content-Length": "0"})
    assert want.status == 405, want
    with connect(srv, pki, mode) as c:
        sid = c.request("/small.bin", "POST", end_stream=False,
                        headers={"content-length": "100000"})
        c.send_frames(DataFrame(sid, data=b"x" * 1000))
        r = c.response(sid)
        assert r.status == 405, r
        # the answer is whole, then the rest of the body is refused
        c.read_until(lambda: r.ended, what="the end of the 405")
        c.read_until(lambda: r.reset is not None, what="RST_STREAM after the 405")
        assert r.reset == H2_NO_ERROR, r
        assert bytes(r.body) == want.body and r["content-length"] == str(len(want.body)), r
        assert h2_fields(r.fields) == h2_fields_of(want), (r.fields, want.head)
        r = c.get("/small.bin")
        assert (r.status, bytes(r.body)) == (200, SMALL), r


def test_post_with_a_whole_body_is_405(srv):
    with h2c(srv) as c:
        sid = c.request("/small.bin", "POST", end_stream=False, headers={"content-length": "5"})
        c.send_frames(DataFrame(sid, data=b"hello", flags=["END_STREAM"]))
        r = c.response(sid)
        assert (r.status, r.reset in (None, H2_NO_ERROR)) == (405, True), r
        assert c.get("/small.bin").status == 200


def test_dropped_bodies_give_the_connection_window_back(srv):
    """Three POSTs of 60,000 body bytes each, 180,000 in all, past the
    connection's initial window of 65,535: the dropped bytes are given back
    (this client sends regardless of windows, so a window not given back
    would be a FLOW_CONTROL_ERROR), each POST is a 405, and a GET follows."""
    with h2c(srv) as c:
        for _ in range(3):
            sid = c.request("/small.bin", "POST", end_stream=False,
                            headers={"content-length": "60000"})
            c.send_frames(*[DataFrame(sid, data=b"y" * 15000) for _ in range(3)],
                          DataFrame(sid, data=b"y" * 15000, flags=["END_STREAM"]))
            r = c.response(sid)
            assert r.status == 405, r
            c.ping()
        r = c.get("/small.bin")
        assert (r.status, bytes(r.body), c.goaways) == (200, SMALL, []), (r, c.goaways)


def test_streams_past_max_concurrent_are_refused(servers, roots):
    """http2_max_streams = 7: seven streams that cannot finish (windows of
    0) are answered; an eighth is refused, by RST_STREAM (REFUSED_STREAM or
    PROTOCOL_ERROR) on it, or, as nghttp2 does once its SETTINGS are
    acknowledged, by GOAWAY PROTOCOL_ERROR naming the seventh. A normal
    client is served."""
    s = {"document_root": str(roots["main"]), "listen": ["127.0.0.1:0"], "user": "",
         "http2_max_streams": 7}
    srv = servers.new(text=render_conf_lists(s)).start()
    with h2c(srv, settings=stalled_settings()) as c:
        c.read_until(lambda: c.server_settings is not None, what="the server's SETTINGS")
        ids = [c.request("/10mb.bin") for _ in range(7)]
        c.read_until(lambda: all(c.streams[i].fields for i in ids), what="seven answers")
        eighth = c.request("/10mb.bin")
        try:
            c.read_until(lambda: c.streams[eighth].done, what="the eighth stream's end")
            assert c.streams[eighth].reset in (0x7, H2_PROTOCOL_ERROR), c.streams[eighth]
        except AssertionError:
            if not c.closed:
                raise
            assert c.goaways[-1][:2] == (ids[-1], H2_PROTOCOL_ERROR), c.goaways
        assert c.streams[eighth].fields is None, c.streams[eighth]
    served(srv)


def test_http1_bytes_after_alpn_h2_are_a_protocol_error(srv, pki):
    with h2tls(srv, pki, preface=False) as c:
        c.send(req("/small.bin", host="localhost"))
        c.read_to_close(20)
        assert [g[1] for g in c.goaways] in ([], [H2_PROTOCOL_ERROR]), c.goaways
        assert not any(isinstance(f, HeadersFrame) for f in c.frames), c.frames
    served(srv, pki, "h2")


MALFORMED = {
    "upper-case-name": [(":method", "GET"), (":scheme", "http"), (":authority", "localhost"),
                        (":path", "/small.bin"), ("X-Upper", "1")],
    "connection-field": [(":method", "GET"), (":scheme", "http"), (":authority", "localhost"),
                         (":path", "/small.bin"), ("connection", "keep-alive")],
    "transfer-encoding": [(":method", "GET"), (":scheme", "http"), (":authority", "localhost"),
                          (":path", "/small.bin"), ("transfer-encoding", "chunked")],
    "no-path": [(":method", "GET"), (":scheme", "http"), (":authority", "localhost")],
    "no-method": [(":scheme", "http"), (":authority", "localhost"), (":path", "/small.bin")],
    "two-methods": [(":method", "GET"), (":method", "GET"), (":scheme", "http"),
                    (":authority", "localhost"), (":path", "/small.bin")],
    "two-paths": [(":method", "GET"), (":scheme", "http"), (":authority", "localhost"),
                  (":path", "/small.bin"), (":path", "/small.bin")],
    "pseudo-after-regular": [(":method", "GET"), (":scheme", "http"), ("accept", "*/*"),
                             (":authority", "localhost"), (":path", "/small.bin")],
    "unknown-pseudo": [(":method", "GET"), (":scheme", "http"), (":authority", "localhost"),
                       (":path", "/small.bin"), (":status", "200")],
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_is_rst_protocol_error(srv, name):
    with h2c(srv) as c:
        sid = c.request(None, pseudo=MALFORMED[name])
        c.read_until(lambda: c.streams[sid].done, what=f"stream {sid}'s end")
        assert (c.streams[sid].reset, c.streams[sid].fields) == (H2_PROTOCOL_ERROR, None), \
            c.streams[sid]
        r = c.get("/small.bin")
        assert (r.status, bytes(r.body)) == (200, SMALL), r
        assert not c.goaways, c.goaways


@pytest.mark.parametrize("authority,headers", [
    ("localhost", [("host", "other.test")]),
    ("localhost:8a", []),
    ("local host", []),
    ("", []),
], ids=["host-differs", "bad-port", "space", "empty"])
def test_bad_authority_is_400(srv, authority, headers):
    """Host differing from :authority, an :authority our checks refuse: 400
    on that stream, the connection stays. (One nghttp2 refuses itself, a
    space, may be a RST_STREAM PROTOCOL_ERROR instead.)"""
    with h2c(srv) as c:
        sid = c.request("/who.txt", authority=authority, headers=headers)
        r = c.response(sid)
        if authority in ("local host", ""):
            assert r.status == 400 or (r.reset, r.fields) == (H2_PROTOCOL_ERROR, None), r
        else:
            assert (r.status, r.ended) == (400, True), r
        r = c.get("/small.bin")
        assert (r.status, bytes(r.body)) == (200, SMALL), r


@pytest.mark.parametrize("path", ["/x?%zz", "/a?b c", "x.bin"], ids=["bad-escape", "space",
                                                                       "relative"])
def test_bad_path_is_400(srv, path):
    with h2c(srv) as c:
        r = c.get(path)
        if path == "/x?%zz":
            assert (r.status, r.ended) == (400, True), r
        else:       # nghttp2 may refuse these before our checks see them
            assert r.status == 400 or (r.reset, r.fields) == (H2_PROTOCOL_ERROR, None), r
        r = c.get("/small.bin")
        assert (r.status, bytes(r.body)) == (200, SMALL), r


@pytest.mark.parametrize("value", ["abc", "1, 2", "-1"])
def test_bad_content_length_fails_the_stream_only(srv, value):
    with h2c(srv) as c:
        r = c.get("/small.bin", headers={"content-length": value})
        assert r.status == 400 or (r.reset, r.fields) == (H2_PROTOCOL_ERROR, None), r
        r = c.get("/small.bin")
        assert (r.status, bytes(r.body)) == (200, SMALL), r


# -------------------------------------------------------------------- limits

def stalled_settings():
    """Streams whose window is 0: no answer with a body can complete."""
    return {H2_INITIAL_WINDOW_SIZE: 0}


def resets(c, n, target="/small.bin"):
    """N requests each reset by the client right after its HEADERS, in one
    write."""
    frames = []
    for _ in range(n):
        sid, h = c.request_frames(target)
        frames += [h, RstStreamFrame(sid, error_code=H2_CANCEL)]
    c.send_frames(*frames)


def test_rapid_reset_past_the_budget_is_goaway_enhance_your_calm(srv):
    with h2c(srv, settings=stalled_settings()) as c:
        resets(c, 300)
        c.expect_goaway_and_close(H2_ENHANCE_YOUR_CALM)
    served(srv)


def test_rapid_reset_within_the_budget_is_fine(srv):
    with h2c(srv, settings=stalled_settings()) as c:
        resets(c, 200)
        c.ping()
        r = c.get("/small.bin", "HEAD")
        assert (r.status, r.head_ended) == (200, True), r
        assert not c.goaways, c.goaways


def test_rapid_reset_budget_is_given_back_by_completed_streams(srv):
    """200 resets, 100 streams that complete (HEAD: no window needed),
    then 140 resets more: 340 in all, past the budget of 256 unless the
    completed streams gave tokens back."""
    with h2c(srv, settings=stalled_settings()) as c:
        resets(c, 200)
        for i in range(100):
            r = c.get(f"/small.bin?{i}", "HEAD")
            assert r.status == 200, r
        resets(c, 140)
        c.ping()
        r = c.get("/small.bin", "HEAD")
        assert r.status == 200, r
        assert not c.goaways, c.goaways


def continued(c, n_continuations, headers=()):
    """A request whose header block is cut into a HEADERS frame and
    N_CONTINUATIONS CONTINUATION frames."""
    sid = c.new_stream()
    block = c.head_block("/small.bin", headers=headers)
    n = n_continuations + 1
    assert len(block) >= n, block
    cut = [len(block) * i // n for i in range(n + 1)]
    pieces = [block[cut[i]:cut[i + 1]] for i in range(n)]
    frames = [HeadersFrame(sid, data=pieces[0], flags=["END_STREAM"])]
    frames += [ContinuationFrame(sid, data=p) for p in pieces[1:]]
    frames[-1].flags.add("END_HEADERS")
    c.send_frames(*frames)
    return sid


def test_eight_continuations_are_served(srv):
    with h2c(srv) as c:
        r = c.response(continued(c, 8, [("x-pad", "p" * 100)]))
        assert (r.status, bytes(r.body)) == (200, SMALL), r


def test_nine_continuations_end_the_connection(srv):
    with h2c(srv) as c:
        continued(c, 9, [("x-pad", "p" * 100)])
        c.expect_goaway_and_close(H2_ENHANCE_YOUR_CALM)
    served(srv)


def test_header_block_left_unfinished_ends_after_header_timeout(servers, roots):
    """HEADERS without END_HEADERS, then nothing: the half-decoded block
    holds the connection's HPACK state, so the connection ends once
    header_timeout has passed."""
    srv = servers.start(roots["main"], {"header_timeout": 2})
    with h2c(srv) as c:
        sid = c.new_stream()
        block = c.head_block("/small.bin")
        c.send_frames(HeadersFrame(sid, data=block[:len(block) // 2], flags=["END_STREAM"]))
        c.read_to_close(30)
        assert c.streams[sid].fields is None, c.streams[sid]
    served(srv)


def test_header_list_within_buffer_size_is_served(srv):
    with h2c(srv) as c:
        r = c.get("/small.bin", headers=[("x-big", "v" * 8000)])
        assert (r.status, bytes(r.body)) == (200, SMALL), r


@pytest.mark.parametrize("fields", [
    [("x-big", "v" * 17000)],
    [(f"x-{i}", "v" * 200) for i in range(80)],         # 80 * (4 + 200 + 32) > 16384
], ids=["one-field", "many-fields"])
def test_header_list_over_buffer_size_ends_the_connection(srv, fields):
    with h2c(srv) as c:
        sid = c.new_stream()
        block = c.head_block("/small.bin", headers=fields)
        frames = [HeadersFrame(sid, data=block[:16000], flags=["END_STREAM"])]
        rest = block[16000:]
        frames += [ContinuationFrame(sid, data=rest)] if rest else []
        frames[-1].flags.add("END_HEADERS")
        c.send_frames(*frames)
        c.expect_goaway_and_close(H2_ENHANCE_YOUR_CALM)
        assert c.streams[sid].fields is None, c.streams[sid]
    served(srv)


def test_hpack_bomb_is_bounded_by_the_header_list_limit(srv):
    """One 4,000-byte entry inserted once, then referenced by index: a
    block of about 4 KiB that decodes to 10 x 4 KiB."""
    with h2c(srv) as c:
        sid = c.new_stream()
        block = c.head_block("/small.bin", headers=[("x-bomb", "b" * 4000)] * 10)
        assert len(block) < 5000, len(block)
        c.send_frames(HeadersFrame(sid, data=block, flags=["END_STREAM", "END_HEADERS"]))
        c.expect_goaway_and_close(H2_ENHANCE_YOUR_CALM)
        assert c.streams[sid].fields is None, c.streams[sid]
    served(srv)


def test_hpack_table_size_past_the_setting_is_compression_error(srv):
    """A dynamic table size update to 8,192, past SETTINGS_HEADER_TABLE_SIZE 4,096."""
    with h2c(srv) as c:
        c.enc.header_table_size = 8192
        c.request("/small.bin")
        c.expect_goaway_and_close(H2_COMPRESSION_ERROR)
    served(srv)


def test_hpack_index_past_the_table_is_compression_error(srv):
    """An encoder that believes its table larger: a reference to entry
    62 + 100, which no table of 4,096 bytes this connection filled holds."""
    with h2c(srv) as c:
        sid = c.new_stream()
        block = c.head_block("/small.bin") + bytes([0xff, 162 - 127])
        c.send_frames(HeadersFrame(sid, data=block, flags=["END_STREAM", "END_HEADERS"]))
        c.expect_goaway_and_close(H2_COMPRESSION_ERROR)
    served(srv)


def flood(kind, c, n):
    if kind == "ping":
        return [PingFrame(0, opaque_data=i.to_bytes(8, "big")) for i in range(n)]
    if kind == "settings":
        return [SettingsFrame(0) for _ in range(n)]
    if kind == "priority":
        return [PriorityFrame(2 * i + 1, depends_on=0, stream_weight=15) for i in range(n)]
    # empty DATA frames on a stream the server still reads (its answer,
    # the 405 with a body, waits for a window that never opens)
    sid = c.request("/small.bin", "POST", end_stream=False)
    return [DataFrame(sid, data=b"") for _ in range(n)]


@pytest.mark.parametrize("kind", ["ping", "settings", "priority", "empty-data"])
def test_flood_is_goaway_enhance_your_calm(srv, kind):
    with h2c(srv, settings=stalled_settings()) as c:
        c.read_until(lambda: c.server_settings is not None, what="the server's SETTINGS")
        c.send_frames(*flood(kind, c, 2500))    # over 1,000 in one second even if cut by a second
        c.expect_goaway_and_close(H2_ENHANCE_YOUR_CALM)
    served(srv)


@pytest.mark.parametrize("kind", ["ping", "settings", "priority", "empty-data"])
def test_below_the_flood_limit_is_fine(srv, kind):
    with h2c(srv, settings=stalled_settings()) as c:
        c.read_until(lambda: c.server_settings is not None, what="the server's SETTINGS")
        c.send_frames(*flood(kind, c, 500))
        c.ping()
        r = c.get("/small.bin", "HEAD")
        assert r.status == 200 and not c.goaways, (r, c.goaways)
        if kind == "ping":
            acks = [f for f in c.frames if isinstance(f, PingFrame) and "ACK" in f.flags]
            assert len(acks) == 501, len(acks)


def pings(n, first=0):
    return b"".join(PingFrame(0, opaque_data=(first + i).to_bytes(8, "big")).serialize()
                    for i in range(n))


def test_ping_flood_without_reading_is_closed(srv):
    """PINGs as fast as the server takes them, nothing read: the server
    closes the connection."""
    c = h2c(srv, rcvbuf=4096)
    try:
        c.sock.settimeout(0.5)
        sent = 0
        while sent < 100000:
            try:
                c.sock.sendall(pings(1000, sent))
            except (socket.timeout, OSError):
                break
            sent += 1000
        wait_until(lambda: open_server_conns(plain_port(srv)) == 0, 30,
                   f"the server to close the connection ({sent} PINGs sent, none read)")
    finally:
        c.reset()
    served(srv)


def test_paced_pings_without_reading_are_closed(servers, roots):
    """A download nobody reads fills the socket; then PINGs, 900 a batch
    with more than a second between batches (below the flood limit), and
    nothing read: their ACKs can only queue, and past nghttp2's 1,000
    queued ACKs the server closes the connection, long before send_timeout
    (120 s here) would."""
    srv = servers.start(roots["main"], {"send_timeout": 120})
    c = h2c(srv, rcvbuf=4096)
    try:
        c.request("/10mb.bin")
        wait_socket_full(plain_port(srv))
        c.sock.settimeout(0.5)
        sent, last = 0, time.monotonic()
        deadline = last + 20
        while time.monotonic() < deadline and open_server_conns(plain_port(srv)):
            time.sleep(max(0.0, last + 1.1 - time.monotonic()))    # the pace, not a wait
            last = time.monotonic()
            try:
                sent += c.sock.send(pings(900, sent)) // 17
            except socket.timeout:
                pass        # the server reads no more
            except OSError:
                break
        assert open_server_conns(plain_port(srv)) == 0, \
            f"the connection is still open after {sent} PINGs, none of their ACKs read"
    finally:
        c.reset()
    served(srv)


@pytest.mark.parametrize("attack", ["continuations", "rapid-reset", "header-list", "flood"])
def test_attack_behind_an_unread_download_is_closed(servers, roots, attack):
    """The attacks that end a connection, from a client whose download
    fills the socket (it reads nothing): the GOAWAY cannot be sent, and
    the connection is closed all the same, long before send_timeout or
    header_timeout (120 s and 60 s here) would close it."""
    srv = servers.start(roots["main"], {"send_timeout": 120, "header_timeout": 60})
    c = h2c(srv, rcvbuf=4096)
    try:
        c.request("/10mb.bin")
        wait_socket_full(plain_port(srv))
        if attack == "continuations":
            continued(c, 9, [("x-pad", "p" * 100)])
        elif attack == "rapid-reset":
            resets(c, 300)
        elif attack == "header-list":
            c.request("/small.bin", headers=[("x-big", "v" * 15000), ("x-more", "w" * 2000)])
        else:
            c.send_frames(*flood("priority", c, 2500))
        wait_until(lambda: open_server_conns(plain_port(srv)) == 0, 15,
                   f"the server to close the connection after the attack ({attack})")
    finally:
        c.reset()
    served(srv)


def unsent_by_server(port):
    """Bytes the server's sockets on PORT hold that the peer has not taken."""
    total = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            local, _, state, queues = line.split()[1:5]
            if int(local.rsplit(":", 1)[1], 16) == port and state == "01":
                total += int(queues.split(":")[0], 16)
    return total


def wait_socket_full(port):
    """Until what the server's socket holds unsent stops growing: the
    socket is full (the client reads nothing)."""
    seen = []

    def settled():
        seen.append(unsent_by_server(port))
        return len(seen) > 10 and seen[-1] > 0 and len(set(seen[-10:])) == 1
    wait_until(settled, 20, "the server's socket to fill")


def c_queued(c):
    import fcntl
    import struct
    import termios
    raw = fcntl.ioctl(c.sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
    return struct.unpack("i", raw)[0]


def test_resets_and_closes_while_chunks_are_read(servers, roots):
    """Streams of a file out of the page cache (its chunks read into pooled
    buffers), reset by the client right away or after some bytes, and
    connections reset (TCP RST) in the middle of downloads: afterwards
    every answer is exact and no connection is left open."""
    path = roots["main"] / "cold.bin"
    srv = servers.start(roots["main"], {**ZERO_WINDOW_POOL, "send_timeout": 60})
    with h2c(srv, keep_body=False) as c:
        for i in range(10):
            drop_from_page_cache([path])
            sid = c.request("/cold.bin")
            if i % 2:
                c.read_until(lambda: c.streams[sid].length > 0, what="some bytes")
            c.send_frames(RstStreamFrame(sid, error_code=H2_CANCEL))
        r = c.get("/cold.bin")
        assert (r.status, r.length, r.sha) == (200, len(COLD), sha(COLD)), r
    for i in range(10):
        drop_from_page_cache([path])
        c = connect(srv, None, "h2c", keep_body=False)
        for _ in range(3):
            c.request("/cold.bin" if i % 2 else "/10mb.bin")
        c.read_until(lambda: sum(s.length for s in c.streams.values()) > 10000, what="bytes")
        c.reset()
    wait_until(lambda: open_server_conns(srv.port) == 0, 30, "every connection closed")
    with h2c(srv, keep_body=False) as c:
        ids = [c.request(t) for t in ("/cold.bin", "/10mb.bin", "/mid.bin")]
        for sid, data in zip(ids, (COLD, TEN_MB, MID)):
            r = c.response(sid, 60)
            assert (r.status, r.length, r.sha) == (200, len(data), sha(data)), r


ZERO_WINDOW_POOL = {"cpu_limit": 1, "buffer_size": 4096, "buffer_count": 8,
                    "file_cache_size": 0, "splice_threshold": 1048576, "send_timeout": 3,
                    "status_path": STATUS}


def metric(port, name):
    with Client(port) as c:
        c.send(req(STATUS))
        text = c.response().body.decode()
    m = re.search(rf"^{re.escape(name)} (\d+)$", text, re.M)
    assert m, f"no {name} in {text}"
    return int(m.group(1))


WINDOW = 2000      # less than one 4096-byte chunk


def test_zero_window_stream_is_cancelled_after_send_timeout(servers, roots):
    """Streams that stop on a window of 2,000 bytes: each gets RST_STREAM
    CANCEL after send_timeout, and while they wait they hold no pooled
    buffer. mid.bin is out of the page cache, so its first chunk is read
    into a pooled buffer (4 of the 8 are free for that); 8 streams stall in
    the middle of that chunk, one after the other, then a normal client
    gets its 40 KB without waiting for a buffer
    (ringhttpd_buffer_waits_total unchanged)."""
    path = roots["main"] / "mid.bin"
    if file_system_type(path) in ("tmpfs", "ramfs"):
        pytest.skip(f"{path} is on {file_system_type(path)}: its pages cannot be dropped")
    srv = servers.start(roots["main"], {**ZERO_WINDOW_POOL, "send_timeout": 6})
    stalled = []
    try:
        for _ in range(8):
            drop_from_page_cache([path])    # the read of one chunk reads ahead for the next
            c = h2c(srv, settings={H2_INITIAL_WINDOW_SIZE: WINDOW})
            stalled.append((c, c.request("/mid.bin")))
            c.read_until(lambda: c.streams[stalled[-1][1]].length == WINDOW,
                         what=f"{WINDOW} body bytes")
        # counted once every stream waits for its window (getting there may wait for buffers)
        waits = metric(srv.port, "ringhttpd_buffer_waits_total")
        drop_from_page_cache([path])
        with h2c(srv) as fresh:
            r = fresh.get("/mid.bin")
        assert (r.status, r.length, r.sha) == (200, len(MID), sha(MID)), r
        still_waiting = [sid for c, sid in stalled if c.streams[sid].reset is None]
        assert metric(srv.port, "ringhttpd_buffer_waits_total") == waits, \
            (f"the normal client waited for a pooled buffer beside {len(still_waiting)} "
             f"streams stalled on their window")
        for c, sid in stalled:
            c.read_until(lambda: c.streams[sid].reset is not None, 30, "the stream's reset")
            s = c.streams[sid]
            assert (s.reset, s.length, s.ended) == (H2_CANCEL, WINDOW, False), s
    finally:
        for c, _ in stalled:
            c.close()
    served(srv)


def test_status_endpoint_counts_http2(servers, roots):
    """ringhttpd_http2_connections_total, _streams_total and
    _misbehaving_total: one connection of three streams, then one that
    sends nine CONTINUATION frames."""
    srv = servers.start(roots["main"], {"status_path": STATUS})
    names = ("ringhttpd_http2_connections_total", "ringhttpd_http2_streams_total",
             "ringhttpd_http2_misbehaving_total")
    before = [metric(srv.port, n) for n in names]
    with h2c(srv) as c:
        for _ in range(3):
            assert c.get("/small.bin").status == 200
    assert [metric(srv.port, n) for n in names] == [before[0] + 1, before[1] + 3, before[2]]
    with h2c(srv) as c:
        continued(c, 9, [("x-pad", "p" * 100)])
        c.expect_goaway_and_close(H2_ENHANCE_YOUR_CALM)
    after = [metric(srv.port, n) for n in names]
    assert (after[0], after[2]) == (before[0] + 2, before[2] + 1), (before, after)


def test_zero_window_connection_is_cancelled(servers, roots):
    """The connection window at 0 (the stream's is large): the same."""
    srv = servers.start(roots["main"], ZERO_WINDOW_POOL)
    with h2c(srv, auto_window=False) as c:
        sid = c.request("/big.bin")
        c.read_until(lambda: c.streams[sid].length == 65535, what="65,535 body bytes")
        c.read_until(lambda: c.streams[sid].done or c.closed, 30, "the stream's reset")
        assert (c.streams[sid].reset, c.streams[sid].length) == (H2_CANCEL, 65535), \
            c.streams[sid]
    served(srv)


def test_unread_connection_is_closed_after_send_timeout(servers, roots):
    srv = servers.start(roots["main"], {"send_timeout": 2})
    c = h2c(srv, rcvbuf=4096)
    try:
        c.request("/10mb.bin")
        wait_until(lambda: open_server_conns(plain_port(srv)) == 0, 30,
                   "the server to close the unread connection")
    finally:
        c.reset()
    served(srv)


# ------------------------------------------------------------ GOAWAY, graceful

def start_download(srv, mode="h2c", pki=None):
    c = connect(srv, pki, mode, keep_body=False, rcvbuf=65536)
    sid = c.request("/10mb.bin")
    c.read_until(lambda: c.streams[sid].length > 0, what="the first body bytes")
    return c, sid


def test_sigterm_goaway_lets_the_stream_finish(servers, roots):
    srv = servers.start(roots["main"])
    c, sid = start_download(srv)
    with c:
        srv.signal(signal.SIGTERM)
        c.read_to_close(60)
        s = c.streams[sid]
        assert (s.ended, s.reset, s.length, s.sha) == (True, None, len(TEN_MB), sha(TEN_MB)), s
        assert c.goaways and all(code == H2_NO_ERROR for _, code, _ in c.goaways), c.goaways
        assert c.goaways[-1][0] == sid, c.goaways
    srv.expect_exit(0)


def test_sigterm_with_an_idle_and_an_unread_connection(servers, roots):
    """SIGTERM: an idle h2 connection gets GOAWAY NO_ERROR naming its last
    stream and is closed; one whose download nobody reads is closed after
    send_timeout; then the server exits 0."""
    srv = servers.start(roots["main"], {"send_timeout": 2})
    idle = h2c(srv)
    assert idle.get("/small.bin").status == 200
    unread = h2c(srv, rcvbuf=4096)
    try:
        unread.request("/10mb.bin")
        wait_until(lambda: c_queued(unread) > 0, 10, "the first bytes of the download")
        srv.signal(signal.SIGTERM)
        with idle:
            idle.read_to_close(30)
            assert idle.goaways and idle.goaways[-1][:2] == (1, H2_NO_ERROR), idle.goaways
        srv.expect_exit(0)
    finally:
        unread.reset()


def test_sighup_goaway_lets_the_stream_finish(servers, roots, pki):
    srv = start(servers, main_settings(roots, pki))
    conns = [start_download(srv, mode, pki) for mode in ("h2c", "h2")]
    idle = h2c(srv)
    assert (idle.get("/small.bin").status, idle.get("/small.bin").status) == (200, 200)
    mark = srv.line_count()
    srv.signal(signal.SIGHUP)
    srv.wait_line(r"configuration reloaded", start=mark)
    with idle:      # an idle connection: GOAWAY naming its last stream, 3, then the close
        idle.read_to_close(30)
        assert idle.goaways and idle.goaways[-1][:2] == (3, H2_NO_ERROR), idle.goaways
    for c, sid in conns:
        with c:
            c.read_to_close(60)
            s = c.streams[sid]
            assert (s.ended, s.reset, s.length, s.sha) == \
                (True, None, len(TEN_MB), sha(TEN_MB)), s
            assert c.goaways and all(code == H2_NO_ERROR for _, code, _ in c.goaways), c.goaways
            assert c.goaways[-1][0] == sid, c.goaways
    served(srv, pki, "h2")
    served(srv)


def test_sighup_goaway_last_stream_id_is_the_last_taken(servers, roots):
    """Three streams answered, a fourth in flight: the GOAWAY names 7."""
    srv = servers.start(roots["main"])
    with h2c(srv, keep_body=False, rcvbuf=65536) as c:
        for _ in range(3):
            assert c.get("/small.bin").status == 200
        sid = c.request("/10mb.bin")
        assert sid == 7
        c.read_until(lambda: c.streams[sid].length > 0, what="the first body bytes")
        srv.signal(signal.SIGHUP)
        c.read_to_close(60)
        assert c.goaways[-1][:2] == (7, H2_NO_ERROR), c.goaways
        assert c.streams[sid].sha == sha(TEN_MB)
    served(srv)


def test_stream_sent_before_the_shutdown_notice_arrived_is_answered(servers, roots):
    """SIGHUP's first GOAWAY is the shutdown notice (2^31-1): a stream the
    client sent before it had read it, as one racing the reload does, is
    still answered; the GOAWAY that follows names that stream."""
    srv = servers.start(roots["main"])
    c, sid = start_download(srv)
    with c:
        srv.signal(signal.SIGHUP)
        c.read_until(lambda: c.goaways, 30, "the shutdown notice")
        assert c.goaways[0][:2] == (2 ** 31 - 1, H2_NO_ERROR), c.goaways
        late = c.request("/small.bin")
        c.read_to_close(60)
        assert c.streams[sid].sha == sha(TEN_MB), c.streams[sid]
        assert (c.streams[late].status, c.streams[late].sha) == (200, sha(SMALL)), \
            c.streams[late]
        assert c.goaways[-1][:2] == (late, H2_NO_ERROR), c.goaways
    served(srv)


def test_streams_opened_after_goaway_are_not_answered(servers, roots):
    """After SIGHUP's GOAWAY naming stream 1, a new stream 3 on the same
    connection is not answered; stream 1 still ends exactly."""
    srv = servers.start(roots["main"])
    c, sid = start_download(srv)
    with c:
        srv.signal(signal.SIGHUP)
        c.read_until(lambda: any(g[0] == sid for g in c.goaways), 30, "the GOAWAY")
        late = c.request("/small.bin")
        c.read_to_close(60)
        assert c.streams[sid].sha == sha(TEN_MB), c.streams[sid]
        assert c.streams[late].fields is None and c.streams[late].length == 0, c.streams[late]
    served(srv)


def test_idle_connection_goaway_after_keepalive_timeout(servers, roots):
    srv = servers.start(roots["main"], {"keepalive_timeout": 2})
    with h2c(srv) as c:
        r = c.get("/small.bin")
        assert r.status == 200
        c.read_to_close(30)
        assert c.goaways and c.goaways[-1][:2] == (1, H2_NO_ERROR), c.goaways
    served(srv)


# ------------------------------------------------------------------ fairness

BIG_SPARSE = 256 << 20


@pytest.fixture(scope="module")
def sparse_root(roots):
    path = roots["main"] / "256m.bin"
    with open(path, "wb") as f:
        f.truncate(BIG_SPARSE)
    return path


def zeros_sha(n):
    import hashlib
    h, block = hashlib.sha256(), bytes(1 << 20)
    for _ in range(n >> 20):
        h.update(block)
    h.update(bytes(n & ((1 << 20) - 1)))
    return h.hexdigest()


def test_fairness_small_streams_before_the_big_one(srv, sparse_root):
    """One connection: stream 1 asks for 256 MiB, 99 others for 20 KB each;
    all 99 end before stream 1 does. Meanwhile a second connection is
    served, while stream 1 still goes on."""
    c = h2c(srv, keep_body=False)
    small = {f"/s/{i}.bin": FILES[f"s/{i}.bin"] for i in range(99)}
    ended, errors = [], []
    try:
        frames = [c.request_frames("/256m.bin")]
        frames += [c.request_frames(t) for t in small]
        ids = {sid: t for (sid, _), t in zip(frames[1:], small)}
        big = frames[0][0]
        c.send_frames(*(f for _, f in frames))
        c.read_until(lambda: all(c.streams[s].done for s in ids), 60, "the 99 small streams")
        big_at_small_end = c.streams[big].length
        assert not c.streams[big].done, c.streams[big]

        def reader():
            try:
                c.read_until(lambda: c.streams[big].done, 120, "the big stream")
            except AssertionError as e:
                errors.append(e)
            ended.append(True)
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        with h2c(srv) as other:
            for _ in range(3):
                r = other.get("/big.bin")
                assert (r.status, r.sha) == (200, sha(BIG)), r
        big_at_other = c.streams[big].length
        still_going = not ended
        t.join(180)
        assert not errors, errors
        for sid, t_ in ids.items():
            s = c.streams[sid]
            assert (s.status, s.sha, s.ended) == (200, sha(small[t_]), True), s
        s = c.streams[big]
        assert (s.status, s.ended, s.length) == (200, True, BIG_SPARSE), s
        assert s.sha == zeros_sha(BIG_SPARSE)
        assert still_going, (f"the second connection was served only after the 256 MiB stream "
                             f"ended ({big_at_small_end} bytes when the small ones ended, "
                             f"{big_at_other} when the second connection was done)")
    finally:
        c.close()


# -------------------------------------------------------------------- crowds

def h2load(url, *args):
    if not shutil.which("h2load"):
        skip_unless_ci("h2load is not installed", "nghttp2-client")
    p = subprocess.run(["h2load", *args, url], capture_output=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out[-3000:] + p.stderr.decode(errors="replace")
    return out


def non_worker_threads(pid):
    """Threads other than io_uring's io-wq workers (which come and go)."""
    return sum(1 for n in thread_names(pid) if not n.startswith("iou-wrk"))


class ThreadWatch:
    """The most threads of /proc/PID/task other than io-wq workers (.most)
    and the most io-wq workers (.most_wrk, which come and go with file
    reads), seen while in the with block."""

    def __init__(self, pid):
        self.pid, self.most, self.most_wrk = pid, 0, 0
        self.done = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while True:
            try:
                names = thread_names(self.pid)
                wrk = sum(n.startswith("iou-wrk") for n in names)
                self.most = max(self.most, len(names) - wrk)
                self.most_wrk = max(self.most_wrk, wrk)
            except OSError:
                pass
            if self.done.wait(0.05):
                return

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.t.join()


def quiet_counts(srv, ports):
    for port in ports:
        wait_until(lambda: open_server_conns(port) == 0, 30, f"no connection open on {port}")
    return descriptor_count(srv.pid), socket_fds(srv.pid)


def wait_quiet(srv, ports, fds, sockets, timeout=30):
    for port in ports:
        wait_until(lambda: open_server_conns(port) == 0, timeout,
                   f"the server to close every connection on port {port}")
    wait_until(lambda: socket_fds(srv.pid) == sockets, timeout,
               f"the socket count back at {sockets} (it is {socket_fds(srv.pid)})")
    wait_until(lambda: descriptor_count(srv.pid) == fds, timeout,
               f"the descriptor count back at {fds} (it is {descriptor_count(srv.pid)})")


@pytest.mark.parametrize("mode", ["h2c", "h2"])
def test_h2load_1000_connections(servers, roots, pki, mode):
    need_nofile(1000 + 200)
    srv = start(servers, main_settings(roots, pki, cpu_limit=1))
    ports = [plain_port(srv), tls_port(srv)]
    served(srv, pki, mode)
    fds, sockets = quiet_counts(srv, ports)
    quiet_threads = non_worker_threads(srv.pid)
    url = (f"https://127.0.0.1:{tls_port(srv)}/small.bin" if mode == "h2"
           else f"http://127.0.0.1:{plain_port(srv)}/small.bin")
    with ThreadWatch(srv.pid) as watch:
        out = h2load(url, "-c", "1000", "-m", "10", "-n", "20000")
    m = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout$", out, re.M)
    assert m and [int(x) for x in m.groups()] == [20000, 20000, 20000, 20000, 0, 0, 0], out
    m = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx$", out, re.M)
    assert m and [int(x) for x in m.groups()] == [20000, 0, 0, 0], out
    assert re.search(rf"^Application protocol: {mode}$", out, re.M), out
    assert watch.most == quiet_threads and watch.most_wrk <= 4 * srv.rings, \
        (f"{watch.most} threads at the most ({watch.most_wrk} io-wq workers); "
         f"{quiet_threads} when quiet")
    wait_quiet(srv, ports, fds, sockets)
    served(srv, pki, mode)


def stalled_request(settings):
    """A connection's first bytes: the preface, SETTINGS (windows open
    wide: only the unread socket stops the server) and GET /10mb.bin."""
    import hpack
    block = hpack.Encoder().encode([(":method", "GET"), (":scheme", "http"),
                                    (":authority", "localhost"), (":path", "/10mb.bin")])
    return H2Client.preface(settings) + \
        HeadersFrame(1, data=block, flags=["END_HEADERS", "END_STREAM"]).serialize()


def first_status(data):
    """The :status of stream 1's HEADERS among the first frames DATA holds."""
    import hpack
    dec = hpack.Decoder()
    from hyperframe.frame import Frame
    while len(data) >= 9:
        frame, n = Frame.parse_frame_header(memoryview(data[:9]))
        if len(data) < 9 + n:
            return None
        frame.parse_body(memoryview(data[9:9 + n]))
        data = data[9 + n:]
        if isinstance(frame, HeadersFrame) and frame.stream_id == 1:
            return dict((k if isinstance(k, str) else k.decode(),
                         v if isinstance(v, str) else v.decode())
                        for k, v in dec.decode(frame.data)).get(":status")
    return None


def test_1000_stalled_h2_downloads(servers, roots):
    """1,000 connections ask for the 10 MB file with their windows open
    and never read: the server's threads stay what they were, each got a
    200, a normal client is served meanwhile, all are closed after
    send_timeout, and the descriptors come back to the quiet count."""
    need_nofile(1000 + 200)
    srv = servers.start(roots["main"], {"cpu_limit": 1, "send_timeout": 5})
    served(srv)
    with h2c(srv, keep_body=False) as c:
        assert c.get("/10mb.bin").sha == sha(TEN_MB)
    fds, sockets = quiet_counts(srv, [srv.port])
    quiet = non_worker_threads(srv.pid)
    crowd = Crowd(srv.port, 1000, rcvbuf=4096)
    try:
        with ThreadWatch(srv.pid) as watch:
            errors = crowd.send(stalled_request({H2_INITIAL_WINDOW_SIZE: H2_MAX_WINDOW}))
            assert not errors, list(errors.items())[:3]
            statuses = Counter()

            def all_heads():
                statuses.clear()
                for i in range(len(crowd)):
                    statuses[first_status(crowd.peek(i, 4096))] += 1
                return statuses == Counter({"200": 1000})
            wait_until(all_heads, 30, "a 200 on every stalled connection")
            served(srv)
        assert watch.most == quiet and watch.most_wrk <= 4 * srv.rings, \
            (f"{watch.most} threads at the most ({watch.most_wrk} io-wq workers); "
             f"{quiet} others when quiet")
        wait_until(lambda: open_server_conns(srv.port) == 0, 60,
                   "send_timeout to close every stalled connection")
    finally:
        crowd.close()
    wait_quiet(srv, [srv.port], fds, sockets)
    served(srv)
