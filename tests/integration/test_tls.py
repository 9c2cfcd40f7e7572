"""HTTPS: the server's TLS sockets over real sockets, with certificates
made here by `openssl req` (a local CA signing ECDSA P-256 and RSA-2048
leaves).

curl --cacert over TLS 1.3 and 1.2 gets the exact bytes of every body path
(memory, read and encrypted, a file not in the page cache, ranges,
multipart, precompressed, a listing, the status endpoint, HEAD, a 404);
Python's ssl module checks the decrypted stream (pipelining, a request in
many records, 100 requests on one connection). Then: the certificate by
key type and by SNI, 421 for a Host of another certificate, ALPN,
https_redirect and hsts, resumption by tickets and no 0-RTT,
tls_protocols and the cipher lists, the handshake bounded by
header_timeout, bytes that are not TLS on a TLS port, reload with new
certificate files, the -t checks of pairs, and hostile TLS peers. Every
wait polls with a deadline; what can be counted (responses, bytes,
connections, descriptors, the status endpoint's counters) is counted."""

import gzip
import os
import random
import re
import selectors
import signal
import socket
import ssl
import subprocess
import time

import pytest

from rhtest import (IO_TIMEOUT, PKI, Client, Crowd, TLSClient, client_hello,
                    curl, drop_from_page_cache, file_system_type, need_nofile,
                    open_server_conns, parse_head, plain_port, raise_nofile, render_conf_lists,
                    req, run_binary, s_client, s_client_cert, sha, tls_context, tls_fetch,
                    tls_keys, tls_port, tls_records, tls_settings, wait_until, write_files)
from test_faults import Quiet
from test_semantics import multipart_parts

raise_nofile()      # the crowds' descriptors; servers started here inherit it

STATUS = "/.ringhttpd/metrics"
HSTS = "max-age=63072000; includeSubDomains"
FILE_CACHE_MAX = 64 * 1024
VERSIONS = pytest.mark.parametrize("tls", ["1.3", "1.2"])
PY_TLS = {"1.3": ssl.TLSVersion.TLSv1_3, "1.2": ssl.TLSVersion.TLSv1_2}

_rnd = random.Random(1414)
SMALL = _rnd.randbytes(1000)                # in the memory cache
BIG = _rnd.randbytes(3 * 1000 * 1000 + 17)  # past file_cache_max_file: read, then encrypted
COLD = _rnd.randbytes(2 * 1000 * 1000 + 3)  # dropped from the page cache before it is asked for
TEN_MB = _rnd.randbytes(10 * 1000 * 1000)
PAGE = b"<!doctype html><title>page</title>\n" + b"<p>gzip me</p>\n" * 400
FILES = {
    "small.bin": SMALL, "big.bin": BIG, "cold.bin": COLD, "10mb.bin": TEN_MB,
    "page.html": PAGE, "page.html.gz": gzip.compress(PAGE, mtime=0),
    "dir/a.txt": b"a\n", "dir/b b.txt": b"b\n" * 100, "dir/sub/c.txt": b"c\n",
}


def who(name):
    return {"who.txt": f"{name}\n".encode()}


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    """The default site's FILES; the other sites' who.txt."""
    base = tmp_path_factory.mktemp("tls")
    paths = {}
    for name, files in (("main", {**FILES, **who("main")}), ("other", who("other")),
                        ("same", who("same"))):
        paths[name] = base / name
        write_files(paths[name], files)
    st = os.stat(paths["main"] / "page.html")
    os.utime(paths["main"] / "page.html.gz", (st.st_atime + 5, st.st_mtime + 5))
    return paths


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """The CA and its leaves: the default site's ECDSA and RSA pairs (for
    localhost and same.test, the site that shares the default's files),
    and other.test's own ECDSA pair."""
    p = PKI(tmp_path_factory.mktemp("pki"))
    p.ecdsa = p.leaf("ecdsa", ["localhost", "same.test", "127.0.0.1"])
    p.rsa = p.leaf("rsa", ["localhost", "same.test", "127.0.0.1"], "rsa")
    p.other = p.leaf("other", ["other.test"])
    return p


def main_settings(roots, pki, **extra):
    s = tls_settings(roots["main"], [pki.ecdsa, pki.rsa])
    s.update({"server_name": "localhost", "status_path": STATUS, "directory_listing": True,
              "precompressed": ["gzip"], "file_cache_max_file": FILE_CACHE_MAX, "hsts": HSTS,
              "sites": [{"server_name": "other.test", "document_root": str(roots["other"]),
                         **tls_keys(pki.other)},
                        {"server_name": "same.test", "document_root": str(roots["same"]),
                         **tls_keys([pki.ecdsa, pki.rsa])}]})
    s.update(extra)
    return s


def start(pool, settings):
    return pool.new(text=render_conf_lists(settings)).start()


@pytest.fixture(scope="module")
def srv(module_servers, roots, pki):
    return start(module_servers, main_settings(roots, pki))


@pytest.fixture(scope="module")
def ctx(pki):
    """A default client: the CA trusted, TLS 1.2 and 1.3 offered."""
    return tls_context(pki.ca)


def plain(srv, target, method="GET", host="localhost", **kw):
    """TARGET over the server's plain socket."""
    with Client(plain_port(srv)) as c:
        c.send(req(target, method, host=host, **kw))
        return c.response(head=(method == "HEAD"))


def metric(srv, name):
    text = plain(srv, STATUS).body.decode()
    m = re.search(rf"^{re.escape(name)} (\d+)$", text, re.M)
    assert m, f"no {name} in {text}"
    return int(m.group(1))


def resident_bytes(path):
    """Bytes of PATH in the page cache (fincore, util-linux)."""
    p = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
                       capture_output=True, text=True, check=True)
    return int(p.stdout.strip())


# ------------------------------------------------------- every body, by curl

def https(srv, pki, target, tls, *args, sni="localhost"):
    r = curl(tls_port(srv), target, pki.ca, tls, args, sni=sni)
    assert r.tls and r.tls.startswith(f"TLSv{tls} "), r.tls
    assert r.alpn == "http/1.1", r.alpn
    assert r["Strict-Transport-Security"] == HSTS, r
    return r


@VERSIONS
@pytest.mark.parametrize("name", ["small.bin", "big.bin"], ids=["memory", "read"])
def test_curl_whole_file(srv, pki, tls, name):
    r = https(srv, pki, "/" + name, tls)
    assert (r.status, r.length, sha(r.body)) == (200, len(FILES[name]), sha(FILES[name])), r


@VERSIONS
def test_curl_file_not_in_page_cache(srv, pki, roots, tls):
    path = roots["main"] / "cold.bin"
    if file_system_type(path) in ("tmpfs", "ramfs"):
        pytest.skip(f"{path} is on {file_system_type(path)}: its pages cannot be dropped")
    drop_from_page_cache([path])
    assert resident_bytes(path) == 0, "cold.bin is still in the page cache"
    r = https(srv, pki, "/cold.bin", tls)
    assert (r.status, r.length, sha(r.body)) == (200, len(COLD), sha(COLD)), r


@VERSIONS
@pytest.mark.parametrize("name,spec,first,last", [
    ("small.bin", "bytes=-100", len(SMALL) - 100, len(SMALL) - 1),
    ("big.bin", "bytes=1000-299999", 1000, 299999),
    ("big.bin", f"bytes={len(BIG) - 70000}-", len(BIG) - 70000, len(BIG) - 1),
], ids=["memory", "read", "read-to-end"])
def test_curl_range(srv, pki, tls, name, spec, first, last):
    r = https(srv, pki, "/" + name, tls, "-H", f"Range: {spec}")
    data = FILES[name]
    assert r.status == 206, r
    assert r["Content-Range"] == f"bytes {first}-{last}/{len(data)}", r
    assert sha(r.body) == sha(data[first:last + 1]), r


@VERSIONS
@pytest.mark.parametrize("name", ["small.bin", "big.bin"], ids=["memory", "read"])
def test_curl_multipart(srv, pki, tls, name):
    data = FILES[name]
    spans = [(0, 99), (500, 899), (len(data) - 10, len(data) - 1)]
    spec = "bytes=" + ",".join(f"{a}-{b}" for a, b in spans)
    r = https(srv, pki, "/" + name, tls, "-H", f"Range: {spec}")
    _, parts = multipart_parts(r)
    assert [(a, b, body, total) for a, b, _, body, total in parts] == \
        [(a, b, data[a:b + 1], len(data)) for a, b in spans], r


@VERSIONS
def test_curl_precompressed(srv, pki, tls):
    r = https(srv, pki, "/page.html", tls, "-H", "Accept-Encoding: gzip")
    assert r.status == 200 and r["Content-Encoding"] == "gzip", r
    assert r.body == FILES["page.html.gz"], r
    assert gzip.decompress(r.body) == PAGE


@VERSIONS
@pytest.mark.parametrize("target", ["/dir/", "/"])
def test_curl_listing(srv, pki, tls, target):
    """The listing's bytes are those the plain socket answers."""
    want = plain(srv, target)
    assert want.status == 200 and want["Content-Type"].startswith("text/html"), want
    r = https(srv, pki, target, tls)
    assert (r.status, r["Content-Type"], r.body) == (200, want["Content-Type"], want.body), r


@VERSIONS
def test_curl_status_endpoint(srv, pki, tls):
    r = https(srv, pki, STATUS, tls)
    assert r.status == 200 and r.length == len(r.body), r
    text = r.body.decode()
    for name in ("ringhttpd_tls_handshakes_total", "ringhttpd_tls_handshake_failures_total",
                 "ringhttpd_tls_not_tls_total", "ringhttpd_ktls_connections_total",
                 "ringhttpd_accepts_total"):
        assert re.search(rf"^{name} \d+$", text, re.M), (name, text)
    assert int(re.search(r"^ringhttpd_tls_handshakes_total (\d+)$", text, re.M).group(1)) >= 1


@VERSIONS
def test_curl_head(srv, pki, tls):
    """curl --head writes the head as its output; Python then checks that
    no body follows a HEAD answer on the connection."""
    get = https(srv, pki, "/big.bin", tls)
    r = https(srv, pki, "/big.bin", tls, "--head")
    assert (r.status, r.length, r.body) == (200, len(BIG), r.head), r
    assert (r["ETag"], r["Content-Type"]) == (get["ETag"], get["Content-Type"]), (r, get)
    with TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS[tls])) as c:
        c.send(req("/big.bin", "HEAD", host="localhost") + req("/small.bin", host="localhost"))
        head = c.response(head=True)
        assert (head.status, head.length) == (200, len(BIG)), head
        assert c.response().body == SMALL       # no body bytes came between


@VERSIONS
def test_curl_404_with_its_body(srv, pki, tls):
    want = plain(srv, "/no-such-file")
    assert want.status == 404 and want.body, want
    assert want.header("Strict-Transport-Security") is None, want
    r = https(srv, pki, "/no-such-file", tls)
    assert (r.status, r.length, r.body) == (404, len(want.body), want.body), r


# ------------------------------------------- the decrypted stream, by Python

@VERSIONS
def test_pipelined_over_one_tls_connection(srv, pki, tls):
    names = ["small.bin", "big.bin", "small.bin", "no-such", "big.bin", "page.html"]
    with TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS[tls])) as c:
        c.send(b"".join(req("/" + n, host="localhost") for n in names))
        for i, n in enumerate(names):
            r = c.response()
            if n in FILES:
                assert (r.status, sha(r.body)) == (200, sha(FILES[n])), f"response {i} ({n}): {r}"
            else:
                assert r.status == 404, f"response {i}: {r}"


@VERSIONS
def test_request_split_across_many_records(srv, pki, tls):
    """Every byte of two heads in a TLS record of its own (one SSL_write
    each); a range answered exactly, then a whole file."""
    with TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS[tls])) as c:
        for target, headers, want in (("/big.bin", {"Range": "bytes=10-20009"}, BIG[10:20010]),
                                      ("/small.bin", {}, SMALL)):
            for byte in req(target, host="localhost", headers=headers):
                assert c.sock.send(bytes([byte])) == 1
            r = c.response()
            assert r.status in (200, 206) and sha(r.body) == sha(want), r


@VERSIONS
def test_keep_alive_100_requests(srv, pki, tls):
    """100 requests one after the other on one connection, one handshake."""
    before = metric(srv, "ringhttpd_tls_handshakes_total")
    with TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS[tls])) as c:
        for i in range(100):
            first = (i * 7919) % (len(BIG) - 5000)
            target, headers, want = ((f"/small.bin?{i}", {}, SMALL) if i % 2 else
                                     ("/big.bin", {"Range": f"bytes={first}-{first + 4999}"},
                                      BIG[first:first + 5000]))
            c.send(req(target, host="localhost", headers=headers))
            r = c.response()
            assert r["Connection"] == "keep-alive" and sha(r.body) == sha(want), f"request {i}: {r}"
    assert metric(srv, "ringhttpd_tls_handshakes_total") == before + 1


# ------------------------------------------------ certificates: key type, SNI

@VERSIONS
def test_default_client_gets_the_ecdsa_certificate(srv, pki, tls):
    with TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS[tls])) as c:
        assert c.sock.version() == f"TLSv{tls}"
        assert c.peer_der == pki.ecdsa.der
        assert c.peer_cn() == "localhost"


def test_rsa_only_client_tls12_gets_the_rsa_certificate(srv, pki):
    cipher = "ECDHE-RSA-AES128-GCM-SHA256"
    with TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS["1.2"], cipher)) as c:
        assert c.sock.cipher()[0] == cipher
        assert c.peer_der == pki.rsa.der
        c.send(req("/small.bin", host="localhost"))
        assert c.response().body == SMALL


@pytest.mark.parametrize("sigalgs,kind", [
    ("rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pkcs1_sha256", "rsa"),
    ("ecdsa_secp256r1_sha256", "ecdsa"),
])
def test_tls13_signature_algorithms_pick_the_certificate(srv, pki, sigalgs, kind):
    rc, out = s_client(tls_port(srv), "-tls1_3", "-sigalgs", sigalgs, "-CAfile", pki.ca,
                       request=req("/small.bin", host="localhost", headers={"Connection": "close"}))
    assert rc == 0 and "Verify return code: 0 (ok)" in out, out
    assert s_client_cert(out) == getattr(pki, kind).der, out


def test_default_tls12_ciphers_refuse_cbc_and_rsa_key_exchange(srv, pki):
    """The default tls_ciphers: forward-secret AEAD only."""
    for cipher in ("ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA", "AES128-GCM-SHA256",
                   "AES256-SHA256"):
        with pytest.raises(ssl.SSLError):
            TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS["1.2"], cipher)).close()
    assert metric(srv, "ringhttpd_tls_handshake_failures_total") >= 4


@pytest.mark.parametrize("sni,tag,cn,host,body", [
    ("localhost", "ecdsa", "localhost", "localhost", b"main\n"),
    ("other.test", "other", "other.test", "other.test", b"other\n"),
    ("OTHER.test", "other", "other.test", "other.test", b"other\n"),
    ("same.test", "ecdsa", "localhost", "same.test", b"same\n"),
    ("unknown.test", "ecdsa", "localhost", "localhost", b"main\n"),
    (None, "ecdsa", "localhost", "localhost", b"main\n"),
], ids=["default", "other", "other-case", "same-files", "unknown", "no-sni"])
def test_sni_picks_the_certificate(srv, pki, sni, tag, cn, host, body):
    with TLSClient(tls_port(srv), tls_context(pki.ca), sni=sni) as c:
        assert c.peer_cn() == cn
        assert c.peer_der == getattr(pki, tag).der
        c.send(req("/who.txt", host=host))
        r = c.response()
    assert (r.status, r.body) == (200, body), r


@pytest.mark.parametrize("sni,host,status,body", [
    ("localhost", "other.test", 421, None),
    ("other.test", "localhost", 421, None),
    ("unknown.test", "other.test", 421, None),
    ("same.test", "localhost", 200, b"main\n"),
    ("localhost", "same.test", 200, b"same\n"),
    ("unknown.test", "localhost", 200, b"main\n"),
])
def test_host_of_another_certificate_is_421(srv, ctx, sni, host, status, body):
    r = tls_fetch(tls_port(srv), ctx, "/who.txt", sni=sni, host=host)
    assert r.status == status, r
    if body is not None:
        assert r.body == body, r


# ----------------------------------------------------------------------- ALPN

def test_alpn_prefers_h2_then_http11(srv, pki):
    with TLSClient(tls_port(srv), tls_context(pki.ca, alpn=["http/1.1", "h2"])) as c:
        assert c.sock.selected_alpn_protocol() == "h2"
    with TLSClient(tls_port(srv), tls_context(pki.ca, alpn=["http/1.1"])) as c:
        assert c.sock.selected_alpn_protocol() == "http/1.1"
    with TLSClient(tls_port(srv), tls_context(pki.ca)) as c:
        assert c.sock.selected_alpn_protocol() is None
        c.send(req("/small.bin", host="localhost"))
        assert c.response().body == SMALL


def test_alpn_nothing_in_common_is_refused_with_no_application_protocol(srv, pki):
    """RFC 7301 3.2: no protocol in common is a fatal no_application_protocol
    alert, not a connection that goes on in a protocol the client did not offer."""
    with pytest.raises(ssl.SSLError, match="(?i)no.application.protocol"):
        TLSClient(tls_port(srv), tls_context(pki.ca, alpn=["spdy/3.1", "http/1.0"])).close()


# ------------------------------------------------------ https_redirect, hsts

@pytest.fixture(scope="module")
def redirecting(module_servers, roots, pki):
    s = tls_settings(roots["main"], pki.ecdsa)
    s.update({"server_name": "localhost", "https_redirect": True, "hsts": HSTS,
              "sites": [{"server_name": "other.test", "document_root": str(roots["other"]),
                         **tls_keys(pki.other)}]})
    return start(module_servers, s)


@pytest.mark.parametrize("method,status", [("GET", 301), ("HEAD", 301), ("POST", 308),
                                           ("PUT", 308), ("DELETE", 308)])
@pytest.mark.parametrize("host", ["localhost", "localhost:8080"])
def test_https_redirect(redirecting, method, status, host):
    target = "/a/b%20c.txt?x=1&y=%2F"
    headers = {"Content-Length": "0"} if method in ("POST", "PUT") else {}
    r = plain(redirecting, target, method, host=host, headers=headers)
    assert r.status == status, r
    assert r["Location"] == f"https://localhost:{tls_port(redirecting)}{target}", r
    assert r.header("Strict-Transport-Security") is None, r


def test_https_redirect_ipv6_host(redirecting):
    r = plain(redirecting, "/x?q", host="[::1]:8080")
    assert (r.status, r["Location"]) == (301, f"https://[::1]:{tls_port(redirecting)}/x?q"), r


def test_https_redirect_is_per_site(redirecting):
    r = plain(redirecting, "/who.txt", host="other.test")
    assert (r.status, r.body) == (200, b"other\n"), r


def test_hsts_on_tls_responses_only(redirecting, pki):
    ctx = tls_context(pki.ca)
    for target, status in (("/small.bin", 200), ("/no-such", 404)):
        r = tls_fetch(tls_port(redirecting), ctx, target, host="localhost")
        assert (r.status, r["Strict-Transport-Security"]) == (status, HSTS), r
    r = tls_fetch(tls_port(redirecting), ctx, "/who.txt", sni="other.test", host="other.test")
    assert r.status == 200 and r.header("Strict-Transport-Security") is None, r


def test_https_redirect_to_port_443_names_no_port(servers, roots, pki):
    if os.geteuid() != 0:
        pytest.skip("binding port 443 needs root")
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 443))
    except OSError as e:
        pytest.skip(f"127.0.0.1:443 cannot be bound here: {e}")
    s = tls_settings(roots["main"], pki.ecdsa)
    s.update({"tls_listen": ["127.0.0.1:443"], "https_redirect": True})
    srv = start(servers, s)
    assert tls_port(srv) == 443
    r = plain(srv, "/a?b=c")
    assert (r.status, r["Location"]) == (301, "https://localhost/a?b=c"), r
    assert tls_fetch(443, tls_context(pki.ca), "/small.bin", host="localhost").body == SMALL


# ------------------------------------------------------------- resumption

def session_run(port, pki, version, tmp_path, sess_in=None):
    """An s_client run that asks for /small.bin, saving its session to a
    new file; returns (the output, the session file)."""
    out_file = tmp_path / f"session-{len(os.listdir(tmp_path))}"
    args = [version, "-CAfile", pki.ca, "-sess_out", str(out_file)]
    if sess_in:
        args += ["-sess_in", str(sess_in)]
    rc, out = s_client(port, *args, request=req("/small.bin", host="localhost",
                                                headers={"Connection": "close"}))
    assert rc == 0 and "HTTP/1.1 200 OK" in out, out
    return out, out_file


@pytest.mark.parametrize("version,name", [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")])
def test_resumption_with_tickets(srv, pki, tmp_path, version, name):
    out, sess = session_run(tls_port(srv), pki, version, tmp_path)
    assert f"New, {name}" in out, out
    out, _ = session_run(tls_port(srv), pki, version, tmp_path, sess)
    assert f"Reused, {name}" in out, out


@pytest.mark.parametrize("version,name", [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")])
def test_no_resumption_without_tickets(servers, roots, pki, tmp_path, version, name):
    """No ticket is sent; a session s_client kept anyway (a TLS 1.2
    session id) is not resumed either."""
    srv = start(servers, main_settings(roots, pki, tls_session_tickets=False))
    out, sess = session_run(tls_port(srv), pki, version, tmp_path)
    assert "New Session Ticket" not in out and "TLS session ticket:" not in out, out
    if sess.exists():
        out, _ = session_run(tls_port(srv), pki, version, tmp_path, sess)
        assert f"New, {name}" in out and "Reused" not in out, out


def test_no_early_data(srv, pki, tmp_path):
    """0-RTT is off: the tickets allow no early data, and early data a
    client sends anyway is not accepted."""
    _, sess = session_run(tls_port(srv), pki, "-tls1_3", tmp_path)
    text = subprocess.run(["openssl", "sess_id", "-in", str(sess), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert re.search(r"^\s*Max Early Data: 0$", text, re.M), text
    early = tmp_path / "early"
    early.write_bytes(req("/small.bin", host="localhost", headers={"Connection": "close"}))
    rc, out = s_client(tls_port(srv), "-tls1_3", "-CAfile", pki.ca, "-sess_in", str(sess),
                       "-early_data", str(early))
    assert "Early data was accepted" not in out, out


# ------------------------------------------------- protocols and cipher lists

def test_tls13_only_refuses_a_tls12_client(servers, roots, pki):
    srv = start(servers, main_settings(roots, pki, tls_protocols=["TLSv1.3"]))
    with pytest.raises(ssl.SSLError):
        TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS["1.2"])).close()
    assert tls_fetch(tls_port(srv), tls_context(pki.ca, PY_TLS["1.3"]), "/small.bin",
                     host="localhost").body == SMALL


def test_tls12_only_refuses_a_tls13_client(servers, roots, pki):
    srv = start(servers, main_settings(roots, pki, tls_protocols=["TLSv1.2"]))
    with pytest.raises(ssl.SSLError):
        TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS["1.3"])).close()
    with TLSClient(tls_port(srv), tls_context(pki.ca)) as c:
        assert c.sock.version() == "TLSv1.2"


def test_tls_ciphers_restrict(servers, roots, pki):
    chosen = "ECDHE-ECDSA-CHACHA20-POLY1305"
    srv = start(servers, main_settings(roots, pki, tls_ciphers=chosen))
    with TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS["1.2"])) as c:
        assert c.sock.cipher()[0] == chosen
    for other in ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305"):
        with pytest.raises(ssl.SSLError):
            TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS["1.2"], other)).close()


def test_tls_ciphersuites_restrict(servers, roots, pki):
    chosen = "TLS_CHACHA20_POLY1305_SHA256"
    srv = start(servers, main_settings(roots, pki, tls_ciphersuites=chosen))
    with TLSClient(tls_port(srv), tls_context(pki.ca, PY_TLS["1.3"])) as c:
        assert c.sock.cipher()[0] == chosen
    rc, out = s_client(tls_port(srv), "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256")
    assert rc != 0 and "Cipher is (NONE)" in out, out


# ------------------------------------------- a handshake is a request head

def test_trickled_client_hellos_closed_by_header_timeout(servers, roots, pki, ctx):
    """header_timeout = 3; 2,000 connections each send one byte of a real
    ClientHello a second (a timeout reset by each byte would never fire).
    Each is closed within 3 s of the crowd being connected plus a generous
    6 s, having received nothing or an alert. With a pool of 32 buffers, a
    normal TLS client is answered while all 2,000 are still waiting: a
    connection in its handshake holds no pooled buffer. The descriptors
    are back at their quiet count at the end."""
    need_nofile(2000 + 200)
    srv = start(servers, main_settings(roots, pki, header_timeout=3, cpu_limit=2,
                                       buffer_count=32))
    port = tls_port(srv)
    assert tls_fetch(port, ctx, "/small.bin", host="localhost").body == SMALL
    quiet = Quiet(srv, roots["main"], [port, plain_port(srv)])
    hello = client_hello()
    n, limit = 2000, 3 + 6
    with Crowd(port, n) as crowd:
        opened = time.monotonic()
        closed_at, first_bytes, sent = {}, {}, [0] * n
        normal = open_then = None
        sel = selectors.DefaultSelector()
        for i, sock in enumerate(crowd.socks):
            sel.register(sock, selectors.EVENT_READ, i)
        next_tick, ticks = opened, 0
        while len(closed_at) < n and time.monotonic() < opened + limit + 6:
            if time.monotonic() >= next_tick:
                for i in range(n):
                    if i not in closed_at:
                        try:
                            crowd.socks[i].send(hello[sent[i]:sent[i] + 1], socket.MSG_NOSIGNAL)
                            sent[i] += 1
                        except OSError:
                            pass        # closed: the read side sees it
                next_tick += 1.0
                ticks += 1
                if ticks == 2:          # the crowd has sent its first bytes
                    open_then = n - len(closed_at)
                    normal = tls_fetch(port, ctx, "/small.bin", host="localhost")
            for key, _ in sel.select(0.05):
                i = key.data
                try:
                    chunk = crowd.socks[i].recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if chunk:
                    first_bytes.setdefault(i, chunk[:1])
                else:
                    closed_at[i] = time.monotonic()
                    sel.unregister(crowd.socks[i])
        sel.close()
    assert normal is not None and (normal.status, normal.body) == (200, SMALL), normal
    assert open_then == n, f"only {open_then} of {n} were still open when the normal client came"
    assert len(closed_at) == n, f"{n - len(closed_at)} of {n} trickling handshakes still open"
    late = [t - opened for t in closed_at.values() if t - opened > limit]
    assert not late, f"{len(late)} closed later than {limit} s: {sorted(late)[-3:]}"
    assert set(first_bytes.values()) <= {b"\x15"}, set(first_bytes.values())
    assert max(sent) < len(hello), "a whole ClientHello was sent"
    quiet.check()
    assert tls_fetch(port, ctx, "/small.bin", host="localhost").body == SMALL


# ------------------------------------------------ bytes that are not TLS

def test_random_bytes_get_an_alert_and_are_counted(srv, ctx):
    before = metric(srv, "ringhttpd_tls_not_tls_total")
    garbage = b"\x00\x01" + random.Random(5).randbytes(200)
    with Client(tls_port(srv)) as c:
        c.send(garbage)
        data = c.expect_eof()
    records, rest = tls_records(data)
    assert rest == b"" and len(records) == 1, data
    content_type, _, payload = records[0]
    assert content_type == 21 and len(payload) == 2 and payload[0] == 2, data   # a fatal alert
    wait_until(lambda: metric(srv, "ringhttpd_tls_not_tls_total") == before + 1, 10,
               "ringhttpd_tls_not_tls_total to count the connection")
    assert tls_fetch(tls_port(srv), ctx, "/small.bin", host="localhost").body == SMALL


# what nginx says too, in the server's error page
PLAIN_ON_TLS_BODY = (b"<!DOCTYPE html>\n<html><head><title>400 Bad Request</title></head><body>"
                     b"<h1>400 Bad Request</h1><p>The plain HTTP request was sent to an HTTPS "
                     b"port.</p><hr>ringhttpd</body></html>\n")


def test_plain_http_on_a_tls_port_gets_400_saying_so(srv):
    before = metric(srv, "ringhttpd_tls_not_tls_total")
    with Client(tls_port(srv)) as c:
        c.send(req("/small.bin", host="localhost"))
        r = c.response()
        assert c.expect_eof() == b""
    assert (r.status, r["Connection"], r["Content-Type"]) == (400, "close", "text/html"), r
    assert r.header("Strict-Transport-Security") is None, r
    assert r.body == PLAIN_ON_TLS_BODY, r.body
    wait_until(lambda: metric(srv, "ringhttpd_tls_not_tls_total") == before + 1, 10,
               "ringhttpd_tls_not_tls_total to count the connection")


# ---------------------------------------------------------------- reload

@pytest.fixture
def renewable(servers, roots, pki, tmp_path):
    """A server whose default pair lives at paths of its own (live.pem,
    live.key), installed from pki.ecdsa; the test installs others there."""
    live = pki.ecdsa.copy_to(tmp_path / "live.pem", tmp_path / "live.key")
    s = tls_settings(roots["main"], live)
    s.update({"server_name": "localhost", "send_timeout": 60})
    srv = start(servers, s)
    srv.live = live
    return srv


def reload(srv, expect=r"^notice: configuration reloaded"):
    mark = srv.line_count()
    srv.signal(signal.SIGHUP)
    return srv.wait_line(expect, 10, mark)[1]


def test_reload_new_certificate_keeps_connections(renewable, pki, tmp_path):
    """A download in flight across the reload gets every byte and then one
    more request on its connection; new handshakes get the new certificate."""
    port, ctx = tls_port(renewable), tls_context(pki.ca)
    renewed = pki.leaf("renewed", ["localhost", "127.0.0.1"])
    with TLSClient(port, ctx, rcvbuf=65536) as slow:
        assert slow.peer_der == pki.ecdsa.der
        slow.send(req("/10mb.bin", host="localhost"))
        head = slow.response(max_body=1 << 20)
        assert head.status == 200 and head.length == len(TEN_MB), head
        renewed.copy_to(renewable.live.cert, renewable.live.key)
        reload(renewable)
        with TLSClient(port, ctx) as fresh:
            assert fresh.peer_der == renewed.der
            fresh.send(req("/small.bin", host="localhost"))
            assert fresh.response().body == SMALL
        rest = slow.read_exact(len(TEN_MB) - len(head.body), timeout=60)
        assert sha(head.body + rest) == sha(TEN_MB)
        slow.send(req("/small.bin", host="localhost"))
        assert slow.response().body == SMALL


def test_reload_with_mismatched_pair_is_refused(renewable, pki):
    """A certificate installed without its key: the reload is refused, the
    log names the file, and the old certificate is still served."""
    port, ctx = tls_port(renewable), tls_context(pki.ca)
    pki.other.copy_to(renewable.live.cert, renewable.live.key + ".unused")
    m = reload(renewable, r"^error: reload failed, keeping the running configuration: .*")
    line = m.group(0)
    assert renewable.live.key in line or renewable.live.cert in line, line
    with TLSClient(port, ctx) as c:
        assert c.peer_der == pki.ecdsa.der
        c.send(req("/small.bin", host="localhost"))
        assert c.response().body == SMALL


def conf_line(path, key):
    """The line number of KEY's setting in the configuration file PATH."""
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.startswith(f"{key} ="):
                return n
    raise AssertionError(f"no {key} in {path}")


def check_conf(binary, tmp_path, settings):
    conf = tmp_path / "check.conf"
    conf.write_text(render_conf_lists(settings))
    rc, _, err = run_binary(binary, ["-t", "-c", str(conf)])
    return conf, rc, err


def test_check_mismatched_pair_names_file_and_line(binary, roots, pki, tmp_path):
    s = tls_settings(roots["main"], pki.ecdsa)
    s["tls_key"] = pki.rsa.key
    conf, rc, err = check_conf(binary, tmp_path, s)
    assert rc != 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and re.match(rf"^{re.escape(str(conf))}:{conf_line(conf, 'tls_key')}: "
                                        r"tls_key: \S", lines[0]), err
    assert pki.rsa.key in lines[0] or pki.ecdsa.cert in lines[0], err


def test_check_warns_of_names_not_covered(binary, roots, pki, tmp_path):
    s = tls_settings(roots["main"], pki.other)
    s["server_name"] = "localhost"
    conf, rc, err = check_conf(binary, tmp_path, s)
    assert rc == 0, err
    assert re.search(r"warning: .*localhost", err) and pki.other.cert in err, err


def test_check_warns_of_a_key_others_can_read(binary, roots, pki, tmp_path):
    key = tmp_path / "open.key"
    key.write_bytes(open(pki.ecdsa.key, "rb").read())
    os.chmod(key, 0o644)
    s = tls_settings(roots["main"], pki.ecdsa)
    s.update({"server_name": "localhost", "tls_key": str(key)})
    conf, rc, err = check_conf(binary, tmp_path, s)
    assert rc == 0, err
    assert re.search(rf"warning: .*{re.escape(str(key))}", err), err
    os.chmod(key, 0o600)
    conf, rc, err = check_conf(binary, tmp_path, s)
    assert rc == 0 and "warning" not in err, err


# ------------------------------------------------------------ hostile peers

def with_extension(hello, ext_type, payload, claimed=None):
    """HELLO (one record holding a ClientHello) with one more extension at
    the end; CLAIMED: the length the extension says it has, if not its own."""
    records, rest = tls_records(hello)
    assert len(records) == 1 and rest == b"" and records[0][2][0] == 1, hello
    body = records[0][2][4:]
    pos = 2 + 32                                    # legacy_version, random
    pos += 1 + body[pos]                            # session id
    pos += 2 + int.from_bytes(body[pos:pos + 2], "big")     # cipher suites
    pos += 1 + body[pos]                            # compression methods
    ext_len = int.from_bytes(body[pos:pos + 2], "big")
    ext = ext_type.to_bytes(2, "big") + (len(payload) if claimed is None else claimed) \
        .to_bytes(2, "big") + payload
    body = body[:pos] + (ext_len + len(ext)).to_bytes(2, "big") + body[pos + 2:] + ext
    msg = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + len(msg).to_bytes(2, "big") + msg


def first_records(port, data):
    """Send DATA on a new connection; the records the server answers with,
    up to its ServerHello or an alert (or until it closes)."""
    with Client(port) as c:
        c.send(data)
        got = b""
        while True:
            records, _ = tls_records(got)
            if records and (records[0][0] == 21 or records[0][2][:1] == b"\x02"):
                return records
            chunk = c.sock.recv(1 << 16)
            if not chunk:
                return records
            got += chunk


def test_client_hello_with_a_large_unknown_extension(srv, ctx):
    """12,000 bytes of an extension the server does not know: ignored (RFC
    8446 4.1.2), the ServerHello comes."""
    hello = with_extension(client_hello(), 0xfe77, random.Random(1).randbytes(12000))
    records = first_records(tls_port(srv), hello)
    assert records and records[0][0] == 22 and records[0][2][0] == 2, records[:1]
    assert tls_fetch(tls_port(srv), ctx, "/small.bin", host="localhost").body == SMALL


@pytest.mark.parametrize("case", ["overrunning-extension", "huge-message"])
def test_malformed_client_hello_gets_a_fatal_alert(srv, ctx, case):
    if case == "overrunning-extension":
        data = with_extension(client_hello(), 0xfe77, b"garbage", claimed=5000)
    else:       # a handshake message that says it is 16 MiB long
        data = b"\x16\x03\x01\x10\x00" + b"\x01\xff\xff\xf0" + bytes(4092)
    with Client(tls_port(srv)) as c:
        c.send(data)
        got = c.expect_eof()
    records, _ = tls_records(got)
    assert records and records[-1][0] == 21 and records[-1][2][0] == 2, got[:100]
    assert tls_fetch(tls_port(srv), ctx, "/small.bin", host="localhost").body == SMALL


def test_clients_that_reset_mid_handshake(srv, roots, ctx):
    port = tls_port(srv)
    quiet = Quiet(srv, roots["main"], [port, plain_port(srv)])
    hello = client_hello()
    for i in range(200):
        with Client(port) as c:
            c.send(hello)
            if i % 2:
                c.read_exact(1)         # the ServerHello has begun
            c.reset()
    quiet.check()
    assert tls_fetch(port, ctx, "/small.bin", host="localhost").body == SMALL


class RecordClient:
    """A TLS client over memory BIOs on a plain socket: the test chooses
    which records go out and in what order."""

    def __init__(self, port, context):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.sock.sendall(self.outgoing.read())
                self.receive()
        self.sock.sendall(self.outgoing.read())

    def receive(self):
        chunk = self.sock.recv(1 << 16)
        if chunk:
            self.incoming.write(chunk)
        else:
            self.incoming.write_eof()
        return chunk

    def records(self, plain):
        """The records of PLAIN, not sent."""
        self.obj.write(plain)
        return self.outgoing.read()

    def close_notify(self):
        """Our close_notify record, not sent."""
        try:
            self.obj.unwrap()
        except ssl.SSLWantReadError:
            pass
        return self.outgoing.read()

    def read_to_close(self):
        """The plain bytes until the server's close_notify, and whether the
        socket then reached EOF."""
        data = bytearray()
        while True:
            try:
                data += self.obj.read(1 << 16)
            except ssl.SSLWantReadError:
                try:
                    more = self.receive()
                except socket.timeout:
                    raise AssertionError(f"neither close_notify nor EOF within {IO_TIMEOUT} s "
                                         f"after {bytes(data[:300])!r}") from None
                assert more, f"EOF without close_notify after {bytes(data[:300])!r}"
            except ssl.SSLZeroReturnError:
                break
        return bytes(data), self.sock.recv(1) == b""


# records no key made: what follows a close_notify cannot be a valid record
AFTER_CLOSE = b"\x17\x03\x03\x00\x20" + bytes(32) + b"\x16\x03\x03\x00\x04\x01\x00\x00\x00"


def test_close_notify_is_answered_with_close_notify(srv, pki):
    """After a response, our close_notify: the server's own close_notify
    before it closes (RFC 8446 6.1), then EOF."""
    c = RecordClient(tls_port(srv), tls_context(pki.ca, PY_TLS["1.3"]))
    try:
        c.sock.sendall(c.records(req("/small.bin", host="localhost")))
        end = -1
        data = bytearray()
        while end < 0 or len(data) < end + len(SMALL):
            try:
                data += c.obj.read(1 << 16)
            except ssl.SSLWantReadError:
                assert c.receive(), bytes(data[:300])
            end = data.find(b"\r\n\r\n") + 4 if b"\r\n\r\n" in data else -1
        c.sock.sendall(c.close_notify())
        rest, eof = c.read_to_close()
    finally:
        c.sock.close()
    assert (bytes(data[end:]), rest, eof) == (SMALL, b"", True)


@VERSIONS
def test_records_after_close_notify_are_ignored(srv, pki, tls):
    """A request, our close_notify and records after it, in one send: the
    request is answered in full (the client closed only its side, as a TCP
    half-close; TLS 1.2's peer may drop what it has not sent yet, RFC 5246
    7.2.1), then the server's close_notify and EOF. What came after ours is
    not read (RFC 8446 6.1): no alert for it."""
    c = RecordClient(tls_port(srv), tls_context(pki.ca, PY_TLS[tls]))
    try:
        c.sock.sendall(c.records(req("/small.bin", host="localhost")) + c.close_notify()
                       + AFTER_CLOSE)
        data, eof = c.read_to_close()
    finally:
        c.sock.close()
    if tls == "1.2" and not data:
        return
    end = data.index(b"\r\n\r\n") + 4
    r = parse_head(data[:end])
    assert (r.status, data[end:]) == (200, SMALL), data[:300]
    assert eof


def test_client_initiated_renegotiation_is_refused(srv, pki):
    """TLS 1.2 renegotiation asked by the client (s_client's R command),
    twenty times: refused each time, never a second handshake, and the
    request after it is not answered on that connection."""
    before = metric(srv, "ringhttpd_tls_handshakes_total")
    for _ in range(20):
        p = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{tls_port(srv)}",
                              "-servername", "localhost", "-tls1_2", "-CAfile", pki.ca],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        # stdin stays open: s_client ends when the connection does
        p.stdin.write(b"R\n" + req("/small.bin", host="localhost",
                                   headers={"Connection": "close"}))
        p.stdin.flush()
        try:
            out = p.stdout.read().decode(errors="replace")
            p.wait(30)
        finally:
            p.kill()
            p.stdin.close()
            p.stdout.close()
        assert "RENEGOTIATING" in out, out
        assert "HTTP/1.1 200" not in out, out
    assert metric(srv, "ringhttpd_tls_handshakes_total") == before + 20
    assert tls_fetch(tls_port(srv), tls_context(pki.ca), "/small.bin",
                     host="localhost").body == SMALL


def test_tls_downloads_never_read_time_out(servers, roots, pki, ctx):
    """send_timeout = 2: 100 TLS clients ask for the 10 MB file and never
    read. A fresh client is served meanwhile; each stalled one is closed by
    the server; its descriptors come back to the quiet count and the
    status endpoint counts no open connection but the scrape's own."""
    srv = start(servers, main_settings(roots, pki, send_timeout=2, cpu_limit=1))
    port = tls_port(srv)
    assert tls_fetch(port, ctx, "/10mb.bin", host="localhost").body == TEN_MB
    quiet = Quiet(srv, roots["main"], [port, plain_port(srv)])
    stalled = []
    try:
        for _ in range(100):
            c = TLSClient(port, ctx, rcvbuf=4096)
            stalled.append(c)
            c.send(req("/10mb.bin", host="localhost"))
        fresh = tls_fetch(port, ctx, "/small.bin", host="localhost")
        assert (fresh.status, fresh.body) == (200, SMALL), fresh
        wait_until(lambda: open_server_conns(port) == 0, 30,
                   "the server to close every client that stopped reading")
    finally:
        for c in stalled:
            c.reset()
    quiet.check()
    text = plain(srv, STATUS).body.decode()
    assert re.findall(r'^ringhttpd_open_connections\{ring="0"\} (\d+)$', text, re.M) == ["1"], text
    assert tls_fetch(port, ctx, "/small.bin", host="localhost").body == SMALL
