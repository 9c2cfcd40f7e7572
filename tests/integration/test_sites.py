"""Sites: the Host selecting a site, and each per-site key (index, charset,
precompressed, dotfiles, directory_listing, error_pages, fallback, headers,
redirects), the status endpoint, reload of sites on SIGHUP, the -t checks
of sites, and a browser loading a precompressed UTF-8 page."""

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

import pytest

from rhtest import (PKI, Client, skip_unless_ci, STRONG_ETAG_RE, IMF_FIXDATE_RE, Journal, base_settings,
                    ipv6_loopback, one_error, render_conf_lists, req, run_binary, tls_port,
                    tls_settings, wait_until, write_files)

MTIME = 1614834367          # Thu, 04 Mar 2021 05:06:07 GMT
STATUS_PATH = "/.ringhttpd/metrics"

# One body per coding, so that the bytes tell which file was sent.
PRE = {
    "app.js": b"console.log('identity');\n" * 4,
    "app.js.br": b"BR-ENCODED-BYTES:app.js" + bytes(range(256)),
    "app.js.zst": b"ZSTD-ENCODED-BYTES:app.js\x28\xb5\x2f\xfd",
    "app.js.gz": b"\x1f\x8bGZIP-ENCODED-BYTES:app.js",
    "style.css": b"body { color: red }\n" * 3,
    "style.css.gz": b"\x1f\x8bGZIP-ENCODED-BYTES:style.css",
    "plain.txt": b"no sidecar beside me\n",
    "stale.txt": b"the identity of stale.txt, newer than its sidecar\n",
    "stale.txt.br": b"STALE-BR-BYTES",
    "data.json": b'{"a": 1}\n',
    "data.json.zst": b"ZSTD:data.json",
    "dir/index.html": b"<p>index</p>\n",
    "dir/index.html.br": b"BR:dir/index.html",
    "only-sidecar.js.br": b"BR:no identity file",
    "dirside.js": b"a sidecar that is a directory\n",
    "dirside.js.br/x": b"not a file\n",
}
LISTED = {
    "a<b>&\"c'.txt": b"twelve bytes",
    "with space%.txt": b"x" * 1234,
    "B.txt": b"capital\n",
    "z.txt": b"",
    ".hidden": b"a dotfile\n",
    "sub/inner.txt": b"inner\n",
    "sub/.secret": b"hidden in sub\n",
    ".dotdir/x.txt": b"in a dot directory\n",
}
CHARSET = {
    "index.txt": "Grüße aus dem Index\n".encode(),
    "t.txt": "Grüße\n".encode(),
    "t.html": "<p>Grüße</p>\n".encode(),
    "t.js": b"let a = 1;\n",
    "t.json": b"{}\n",
    "t.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    "t.xml": b"<a/>\n",
    "t.css": b"p {}\n",
    "t.png": b"\x89PNG\r\n\x1a\nnot really\n",
    "t.md": b"# markdown\n",
    "noindex/file.txt": b"x\n",
    "big.txt": "".join(f"Zeile {i}: Grüße\n" for i in range(100)).encode(),
}
ERRORS = {
    "404.html": b"<!doctype html><title>custom 404</title><p>not here</p>\n",
    "gone.html": b"<!doctype html><title>gone</title>\n",
    "forbidden/file.txt": b"the directory has no index\n",
    "a.txt": b"a\n",
}
SPA = {
    "index.html": b"<!doctype html><title>spa</title><div id=app></div>\n",
    "real.txt": b"a real file\n",
    "assets/app.js": b"app();\n",
    "noindex/file.txt": b"x\n",
    ".hidden/x": b"a dotfile in a dot directory\n",
}
HDR = {
    "style.css": b"p { margin: 0 }\n" * 8,
    "deep/nested.css": b"nested\n",
    "assets/app.css": b"assets css\n",
    "assets/x/y.js": b"y();\n",
    "page.html": b"<p>page</p>\n",
    "cors/data.json": b'{"cors": true}\n',
    "links.html": b"<p>links</p>\n",
    "index.html": b"<p>hdr index</p>\n",
}
DOTS = {
    ".git/config": b"[core]\n\trepositoryformatversion = 0\n",
    ".env": b"SECRET=1\n",
    "a/.hidden": b"hidden in a\n",
    ".well-known/acme-challenge/x": b"acme token\n",
    ".well-known/.secret": b"below well-known but a dotfile\n",
    "visible.txt": b"visible\n",
    "index.html": b"<p>dots index</p>\n",
}


def who(name):
    return {"who.txt": f"{name}\n".encode()}


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("sites")
    trees = {
        "default": {**who("default"), **DOTS, "noindex/file.txt": b"no index\n",
                    "t.html": b"<p>default</p>\n"},
        "example": {**who("example"), "index.html": b"<p>example</p>\n"},
        "deep": who("deep"),
        "exact": who("exact"),
        "other": {**who("other"), "x": b"other's x\n"},
        "charset": {**who("charset"), **CHARSET},
        "idx": {**who("idx"), "index.txt": b"<b>not html</b>\n",
                "two/home.htm": b"home.htm\n", "two/index.txt": b"index.txt\n"},
        "pre": {**who("pre"), **PRE},
        "list": {**who("list"), **LISTED},
        "errors": {**who("errors"), **ERRORS},
        "spa": {**who("spa"), **SPA},
        "hdr": {**who("hdr"), **HDR},
        "redir": {**who("redir"), "new.html": b"new\n"},
        "dots": {**who("dots"), **DOTS, **LISTED},
    }
    paths = {}
    for name, files in trees.items():
        root = base / name
        write_files(root, files)
        paths[name] = root
    pre = paths["pre"]
    for name in PRE:        # FILE at MTIME, its sidecars later, the stale one earlier
        t = MTIME + 10 if name.endswith((".br", ".zst", ".gz")) else MTIME
        os.utime(pre / name, (t, t))
    os.utime(pre / "stale.txt.br", (MTIME - 10, MTIME - 10))
    for rel in LISTED:
        os.utime(paths["list"] / rel, (MTIME, MTIME))
    return paths


def main_settings(roots):
    s = base_settings(roots["default"])
    s.update({
        "cpu_limit": 1,
        "status_path": STATUS_PATH,
        "types": {"md": "text/markdown; charset=iso-8859-1"},
        "sites": [
            {"server_name": ["example.org", "*.example.org"],
             "document_root": str(roots["example"])},
            {"server_name": ["*.deep.example.org"], "document_root": str(roots["deep"])},
            {"server_name": "exact.example.org", "document_root": str(roots["exact"])},
            {"server_name": ["other.test"], "document_root": str(roots["other"])},
            {"server_name": ["charset.test"], "document_root": str(roots["charset"]),
             "charset": "utf-8", "index": ["index.txt"]},
            {"server_name": ["idx.test"], "document_root": str(roots["idx"]),
             "index": ["home.htm", "index.txt"]},
            {"server_name": ["pre.test"], "document_root": str(roots["pre"]),
             "precompressed": ["br", "zstd", "gzip"]},
            {"server_name": ["list.test"], "document_root": str(roots["list"]),
             "directory_listing": True},
            {"server_name": ["errors.test"], "document_root": str(roots["errors"]),
             "error_pages": [{"status": 404, "page": "/404.html"},
                             {"status": [403, 410], "page": "/gone.html"},
                             {"status": 405, "page": "/missing-page.html"}]},
            {"server_name": ["spa.test"], "document_root": str(roots["spa"]),
             "fallback": "/index.html"},
            {"server_name": ["hdr.test"], "document_root": str(roots["hdr"]),
             "headers": [
                 {"match": "*.css", "set": ["Cache-Control: max-age=3600"]},
                 {"match": "/assets/*", "set": ["Cache-Control: no-cache", "X-A: 1"]},
                 {"match": "/*", "set": ["X-Frame-Options: DENY"], "always": True},
                 {"match": "/cors/*", "set": ["Access-Control-Allow-Origin: *",
                                              "Access-Control-Allow-Methods: GET, HEAD"]},
                 {"match": "links.html", "set": ["Link: </a.css>; rel=preload",
                                                 "Link: </b.js>; rel=preload",
                                                 "X-Frame-Options: SAMEORIGIN"]},
             ]},
            {"server_name": ["redir.test"], "document_root": str(roots["redir"]),
             "redirects": [
                 {"from": "/old.html", "to": "/new.html", "status": 301},
                 {"from": "/old/*", "to": "/new/", "status": 308},
                 {"from": "/ext", "to": "https://example.org/x", "status": 302},
                 {"from": "/temp", "to": "/t", "status": 307},
                 {"from": "/dflt", "to": "/new.html"},
                 {"from": "/q", "to": "/search?lang=en", "status": 301},
                 {"from": "/blog/*", "to": "https://blog.example.org/*", "status": 308},
                 {"from": "/frag", "to": "/new.html#top", "status": 301},
                 {"from": "/fragq", "to": "/search?x=1#f", "status": 301},
                 {"from": "/\u00e4/*", "to": "/new/", "status": 301},
                 {"from": "/%/*", "to": "/pct/", "status": 301},
                 {"from": "/v2/*", "to": "https://docs.example.org/v2", "status": 301},
             ]},
            {"server_name": ["dots.test"], "document_root": str(roots["dots"]),
             "dotfiles": "allow", "directory_listing": True, "fallback": "/index.html"},
        ],
    })
    return s


@pytest.fixture(scope="module")
def srv(module_servers, roots):
    return module_servers.new(text=render_conf_lists(main_settings(roots))).start()


def get(srv, target, host="test", method="GET", headers=(), version="HTTP/1.1"):
    with Client(srv.port) as c:
        c.send(req(target, method, version=version, host=host, headers=headers))
        return c.response(head=(method == "HEAD"))


def extra_names(resp, names):
    """The header lines of RESP whose names are in NAMES, in order."""
    low = {n.lower() for n in names}
    return [(k, v) for k, v in resp.headers if k.lower() in low]


# ------------------------------------------------------------ host selection

@pytest.mark.parametrize("host,site", [
    ("example.org", "example"),
    ("EXAMPLE.ORG", "example"),
    ("Example.Org", "example"),
    ("example.org:8080", "example"),
    ("example.org.", "example"),
    ("example.org.:80", "example"),
    ("a.example.org", "example"),
    ("a.b.example.org", "example"),
    ("A.B.Example.ORG.:8443", "example"),
    ("x.deep.example.org", "deep"),        # the longer wildcard wins
    ("a.b.deep.example.org", "deep"),
    ("deep.example.org", "example"),       # *.deep... is not deep... itself
    ("exact.example.org", "exact"),        # an exact name wins over a wildcard
    ("EXACT.example.org:1", "exact"),
    ("other.test", "other"),
    ("notexample.org", "default"),         # a suffix, but not at a dot
    ("org", "default"),
    ("unknown.test", "default"),
    ("127.0.0.1", "default"),
    ("[::1]:80", "default"),
    ("other.test.example", "default"),
])
def test_host_selects_site(srv, host, site):
    r = get(srv, "/who.txt", host=host)
    assert r.status == 200 and r.body == f"{site}\n".encode(), (host, r, r.body)


def test_host_absolute_form_target_wins(srv):
    """The host of an absolute-form target selects the site, not Host."""
    r = get(srv, "http://other.test/who.txt", host="example.org")
    assert r.status == 200 and r.body == b"other\n", r
    r = get(srv, "http://A.EXAMPLE.ORG:81/who.txt", host="other.test")
    assert r.status == 200 and r.body == b"example\n", r
    r = get(srv, "http://unknown.test/who.txt", host="other.test")
    assert r.status == 200 and r.body == b"default\n", r


def test_http10_without_host_is_default_site(srv):
    r = get(srv, "/who.txt", host=None, version="HTTP/1.0")
    assert r.status == 200 and r.body == b"default\n", r


def test_http10_with_host_selects(srv):
    r = get(srv, "/who.txt", host="other.test", version="HTTP/1.0")
    assert r.status == 200 and r.body == b"other\n", r


def test_keepalive_switches_sites(srv):
    """Each request on one connection is for the site of its own Host."""
    with Client(srv.port) as c:
        for host, site in [("other.test", "other"), ("example.org", "example"),
                           ("nobody", "default"), ("other.test", "other")]:
            c.send(req("/who.txt", host=host))
            r = c.response()
            assert r.status == 200 and r.body == f"{site}\n".encode(), (host, r)


def test_site_has_own_root(srv):
    """other.test's /x exists only there; the default site answers 404."""
    assert get(srv, "/x", host="other.test").body == b"other's x\n"
    assert get(srv, "/x", host="unknown.test").status == 404


# -------------------------------------------------------------- index, charset

@pytest.mark.parametrize("name,ctype", [
    ("t.txt", "text/plain; charset=utf-8"),
    ("t.html", "text/html; charset=utf-8"),
    ("t.js", "text/javascript; charset=utf-8"),
    ("t.json", "application/json; charset=utf-8"),
    ("t.svg", "image/svg+xml; charset=utf-8"),
    ("t.css", "text/css; charset=utf-8"),
    ("t.png", "image/png"),
    ("t.md", "text/markdown; charset=iso-8859-1"),   # has one already
])
def test_charset_appended(srv, roots, name, ctype):
    r = get(srv, "/" + name, host="charset.test")
    assert r.status == 200 and r.body == CHARSET[name], r
    assert r["Content-Type"] == ctype, r


def test_charset_xml(srv):
    r = get(srv, "/t.xml", host="charset.test")
    assert r["Content-Type"] in ("application/xml; charset=utf-8", "text/xml; charset=utf-8"), r


def test_charset_default_keeps_html_exact(srv):
    r = get(srv, "/t.html", host="unknown.test")
    assert r.status == 200 and r["Content-Type"] == "text/html", r
    r = get(srv, "/t.html", host="example.org")
    assert r.status == 404, r


def test_charset_on_head_and_304(srv):
    r = get(srv, "/t.txt", host="charset.test", method="HEAD")
    assert r.status == 200 and r["Content-Type"] == "text/plain; charset=utf-8", r
    assert r.length == len(CHARSET["t.txt"]), r


def test_index_txt_is_text_plain(srv):
    """The index file's type comes from its own name, with the charset."""
    r = get(srv, "/", host="charset.test")
    assert r.status == 200 and r.body == CHARSET["index.txt"], r
    assert r["Content-Type"] == "text/plain; charset=utf-8", r


def test_index_txt_without_charset(srv):
    r = get(srv, "/", host="idx.test")
    assert r.status == 200 and r.body == b"<b>not html</b>\n", r
    assert r["Content-Type"].split(";")[0] == "text/plain", r


def test_index_order(srv):
    r = get(srv, "/two/", host="idx.test")
    assert r.status == 200 and r.body == b"home.htm\n", r
    assert r["Content-Type"].split(";")[0] == "text/html", r


def test_index_per_site(srv):
    """index is per site: the default site keeps index.html, so a
    directory with only index.txt is not indexed there."""
    r = get(srv, "/", host="unknown.test")
    assert r.status == 200 and r.body == DOTS["index.html"], r


# --------------------------------------------------------------- precompressed

def pre(srv, target, ae=None, method="GET", headers=()):
    h = list(headers)
    if ae is not None:
        h.append(("Accept-Encoding", ae))
    return get(srv, target, host="pre.test", method=method, headers=h)


@pytest.mark.parametrize("ae,coding", [
    ("br", "br"),
    ("gzip", "gzip"),
    ("zstd", "zstd"),
    ("gzip, deflate, br, zstd", "br"),       # ties: the configured order
    ("gzip, zstd", "zstd"),
    ("gzip;q=0.5, br;q=0.9", "br"),
    ("br;q=0.5, gzip;q=0.9", "gzip"),
    ("br;q=0, gzip", "gzip"),
    ("br;q=0, zstd;q=0, gzip;q=0", None),
    ("BR", "br"),
    ("x-gzip", "gzip"),
    ("*", "br"),
    ("br;q=0, *", "zstd"),
    ("gzip;q=1.0, br;q=0.999", "gzip"),
    ("identity", None),
    ("deflate", None),
    ("br;q=0.5, identity", None),
    ("", None),
    (None, None),
    (" br ; q=0.8 , gzip ; q=0.2 ", "br"),
    ("gzip;q=0.5, br;q=0.5", "br"),             # a tie: the configured order
    ("gzip;q=0.5, zstd;q=0.5, br;q=0.4", "zstd"),
    ("br;q=2, gzip;q=0.1", "gzip"),             # a malformed element is ignored
    ("br;q=0.001", "br"),
])
def test_precompressed_negotiation(srv, ae, coding):
    r = pre(srv, "/app.js", ae)
    assert r.status == 200, r
    want = PRE["app.js" + {"br": ".br", "zstd": ".zst", "gzip": ".gz", None: ""}[coding]]
    assert r.body == want, (ae, r, r.body)
    assert r.header("Content-Encoding") == coding, (ae, r)
    assert r["Vary"] == "Accept-Encoding", (ae, r)
    assert r["Content-Type"] == "text/javascript", r      # FILE's type, no charset here
    assert r.length == len(want), r


def test_precompressed_star_q0(srv):
    """"*;q=0" refuses every coding not listed, identity included (RFC
    9110 12.5.3): no sidecar may be sent; the server may send identity
    anyway (it does) or 406."""
    r = pre(srv, "/app.js", "*;q=0")
    assert r.status in (200, 406), r
    assert r.header("Content-Encoding") is None, r
    if r.status == 200:
        assert r.body == PRE["app.js"], r


def test_precompressed_etag_per_coding(srv):
    tags = {}
    for ae in ("identity", "br", "zstd", "gzip"):
        r = pre(srv, "/app.js", ae)
        assert r.status == 200 and STRONG_ETAG_RE.match(r["ETag"]), r
        tags[ae] = r["ETag"]
    assert len(set(tags.values())) == 4, tags


def test_precompressed_only_gzip_sidecar(srv):
    r = pre(srv, "/style.css", "br, gzip")
    assert r.body == PRE["style.css.gz"] and r["Content-Encoding"] == "gzip", r
    assert r["Content-Type"] == "text/css" and r["Vary"] == "Accept-Encoding", r
    r = pre(srv, "/style.css", "br")
    assert r.body == PRE["style.css"] and r.header("Content-Encoding") is None, r
    assert r["Vary"] == "Accept-Encoding", r


def test_precompressed_json_type(srv):
    r = pre(srv, "/data.json", "zstd")
    assert r.body == PRE["data.json.zst"] and r["Content-Encoding"] == "zstd", r
    assert r["Content-Type"] == "application/json", r


def test_no_sidecar_no_vary(srv):
    r = pre(srv, "/plain.txt", "br, gzip, zstd")
    assert r.status == 200 and r.body == PRE["plain.txt"], r
    assert r.header("Content-Encoding") is None and r.header("Vary") is None, r


def test_stale_sidecar_ignored(srv):
    r = pre(srv, "/stale.txt", "br")
    assert r.status == 200 and r.body == PRE["stale.txt"], r
    assert r.header("Content-Encoding") is None, r


def test_sidecar_not_used_on_other_sites(srv):
    """precompressed is per site: the default site has none configured."""
    r = get(srv, "/who.txt", host="pre.test", headers={"Accept-Encoding": "br"})
    assert r.header("Vary") is None


def test_precompressed_range_on_encoded_bytes(srv):
    enc = PRE["app.js.br"]
    r = pre(srv, "/app.js", "br", headers=[("Range", "bytes=2-9")])
    assert r.status == 206, r
    assert r.body == enc[2:10], r
    assert r["Content-Range"] == f"bytes 2-9/{len(enc)}", r
    assert r["Content-Encoding"] == "br" and r["Vary"] == "Accept-Encoding", r
    assert r["Content-Type"] == "text/javascript", r
    r = pre(srv, "/app.js", "br", headers=[("Range", "bytes=-4")])
    assert r.status == 206 and r.body == enc[-4:], r
    r = pre(srv, "/app.js", "br", headers=[("Range", f"bytes={len(enc)}-")])
    assert r.status == 416 and r["Content-Range"] == f"bytes */{len(enc)}", r


def test_precompressed_range_identity(srv):
    r = pre(srv, "/app.js", "identity", headers=[("Range", "bytes=0-6")])
    assert r.status == 206 and r.body == PRE["app.js"][:7], r
    assert r["Content-Range"] == f"bytes 0-6/{len(PRE['app.js'])}", r
    assert r.header("Content-Encoding") is None, r


def test_precompressed_304(srv):
    br_tag = pre(srv, "/app.js", "br")["ETag"]
    id_tag = pre(srv, "/app.js", "identity")["ETag"]
    r = pre(srv, "/app.js", "br", headers=[("If-None-Match", br_tag)])
    assert r.status == 304 and r.body == b"", r
    assert r["ETag"] == br_tag and r["Vary"] == "Accept-Encoding", r
    # the identity ETag does not match the encoded representation
    r = pre(srv, "/app.js", "br", headers=[("If-None-Match", id_tag)])
    assert r.status == 200 and r.body == PRE["app.js.br"], r
    r = pre(srv, "/app.js", "identity", headers=[("If-None-Match", id_tag)])
    assert r.status == 304 and r["ETag"] == id_tag and r["Vary"] == "Accept-Encoding", r


def test_precompressed_head(srv):
    r = pre(srv, "/app.js", "gzip", method="HEAD")
    assert r.status == 200 and r.length == len(PRE["app.js.gz"]), r
    assert r["Content-Encoding"] == "gzip" and r["Vary"] == "Accept-Encoding", r
    assert r["Content-Type"] == "text/javascript", r
    with Client(srv.port) as c:     # and no body after the head
        c.send(req("/app.js", "HEAD", host="pre.test", headers={"Accept-Encoding": "gzip"}))
        c.response(head=True)
        c.send(req("/plain.txt", host="pre.test"))
        assert c.response().body == PRE["plain.txt"]


def test_precompressed_directory_index(srv):
    """The index file of a directory is a file like any other: its sidecar
    is served for "/dir/" as for "/dir/index.html" (nginx gzip_static,
    Caddy precompressed)."""
    r = pre(srv, "/dir/index.html", "br")
    assert r.body == PRE["dir/index.html.br"] and r["Content-Encoding"] == "br", r
    r = pre(srv, "/dir/", "br")
    assert r.status == 200, r
    assert r.header("Vary") == "Accept-Encoding", r
    assert r.body == PRE["dir/index.html.br"] and r.header("Content-Encoding") == "br", r


# -------------------------------------------------------------------- dotfiles

@pytest.mark.parametrize("target", ["/.git/config", "/.env", "/a/.hidden", "/.git/",
                                    "/.git", "/%2egit/config", "/a/%2Ehidden",
                                    "/.well-known/.secret", "/noindex/../.env"])
def test_dotfiles_denied_by_default(srv, target):
    r = get(srv, target, host="unknown.test")
    assert r.status == 404, (target, r)


def test_dotfiles_well_known_served(srv):
    r = get(srv, "/.well-known/acme-challenge/x", host="unknown.test")
    assert r.status == 200 and r.body == DOTS[".well-known/acme-challenge/x"], r


@pytest.mark.parametrize("target,name", [("/.git/config", ".git/config"), ("/.env", ".env"),
                                         ("/a/.hidden", "a/.hidden"),
                                         ("/.well-known/.secret", ".well-known/.secret")])
def test_dotfiles_allow(srv, target, name):
    r = get(srv, target, host="dots.test")
    assert r.status == 200 and r.body == DOTS[name], (target, r)


# ------------------------------------------------------------ directory listing

def listing(srv, target="/", host="list.test", headers=()):
    return get(srv, target, host=host, headers=headers)


def test_listing_html(srv):
    r = listing(srv)
    assert r.status == 200, r
    assert r["Content-Type"] == "text/html; charset=utf-8", r
    body = r.body.decode()
    # escaped names, percent-encoded links
    assert '<a href="a%3Cb%3E%26%22c%27.txt">a&lt;b&gt;&amp;&quot;c&#39;.txt</a>' in body, body
    assert '<a href="with%20space%25.txt">with space%.txt</a>' in body, body
    assert '<a href="sub/">sub/</a>' in body, body
    assert "a<b>" not in body and '"c\'' not in body
    # sorted by name (bytes)
    order = [body.index(f'href="{h}"') for h in
             ("B.txt", "a%3Cb%3E%26%22c%27.txt", "sub/", "with%20space%25.txt", "z.txt")]
    assert order == sorted(order), body
    # sizes and the modification time (UTC)
    assert re.search(r'with space%\.txt</a></td><td>1234</td><td>2021-03-04 05:06:07<', body), body
    assert re.search(r'z\.txt</a></td><td>0</td>', body), body
    assert re.search(r'a&lt;b&gt;&amp;&quot;c&#39;\.txt</a></td><td>12</td>', body), body
    # dotfiles left out when denied
    assert ".hidden" not in body and ".dotdir" not in body, body
    assert "<title>Index of /</title>" in body and 'href="../"' not in body, body
    assert r.length == len(r.body)


def test_listing_validators_and_304(srv):
    r = listing(srv)
    etag, lm = r["ETag"], r["Last-Modified"]
    assert STRONG_ETAG_RE.match(etag) or etag.startswith('W/"'), r
    assert IMF_FIXDATE_RE.match(lm), r
    r2 = listing(srv, headers={"If-None-Match": etag})
    assert r2.status == 304 and r2.body == b"" and r2["ETag"] == etag, r2
    r3 = listing(srv, headers={"If-Modified-Since": lm})
    assert r3.status == 304, r3


def test_listing_json(srv):
    r = listing(srv, headers={"Accept": "application/json"})
    assert r.status == 200, r
    assert r["Content-Type"].split(";")[0] == "application/json", r
    entries = json.loads(r.body)
    names = [e["name"] for e in entries]
    assert names == sorted(names), names
    assert names == ["B.txt", "a<b>&\"c'.txt", "sub", "who.txt", "with space%.txt", "z.txt"], names
    by = {e["name"]: e for e in entries}
    assert set(by["B.txt"]) >= {"name", "type", "size", "mtime"}, by
    assert by["with space%.txt"]["type"] == "file" and by["with space%.txt"]["size"] == 1234, by
    assert by["z.txt"]["size"] == 0
    assert by["sub"]["type"] == "directory", by
    assert by["B.txt"]["mtime"] == "2021-03-04T05:06:07Z", by
    # a different representation, so a different ETag
    assert r["ETag"] != listing(srv)["ETag"], r
    assert "Accept" in (r.header("Vary") or ""), r


@pytest.mark.parametrize("accept,is_json", [
    ("application/json", True),
    ("text/html", False),
    ("text/html, application/json;q=0.9", False),
    ("application/json, text/html;q=0.5", True),
    ("*/*", False),
    ("application/*", True),
    ("text/html;q=0.1, */*", True),
])
def test_listing_accept(srv, accept, is_json):
    r = listing(srv, headers={"Accept": accept})
    assert r.status == 200, r
    assert r["Content-Type"].startswith("application/json" if is_json else "text/html"), \
        (accept, r)


def test_listing_subdirectory(srv):
    r = listing(srv, "/sub/")
    assert r.status == 200, r
    body = r.body.decode()
    assert '<a href="inner.txt">inner.txt</a>' in body and '<a href="../">' in body, body
    assert ".secret" not in body, body
    r = listing(srv, "/sub/", headers={"Accept": "application/json"})
    assert [e["name"] for e in json.loads(r.body)] == ["inner.txt"], r.body


def test_listing_needs_slash(srv):
    r = listing(srv, "/sub")
    assert r.status == 301 and r["Location"] == "/sub/", r


def test_listing_dotfile_directory_denied(srv):
    assert listing(srv, "/.dotdir/").status == 404


def test_listing_shows_dotfiles_when_allowed(srv):
    r = get(srv, "/", host="dots.test", headers={"Accept": "application/json"})
    # dots.test has an index.html: listing only where there is none
    assert r.status == 200 and r.body == DOTS["index.html"], r
    r = get(srv, "/a/", host="dots.test", headers={"Accept": "application/json"})
    assert r.status == 200, r
    assert [e["name"] for e in json.loads(r.body)] == [".hidden"], r.body
    r = get(srv, "/.well-known/", host="dots.test")
    assert r.status == 200 and b".secret" in r.body and b"acme-challenge/" in r.body, r


def test_listing_head(srv):
    full = listing(srv)
    r = get(srv, "/", host="list.test", method="HEAD")
    assert r.status == 200 and r.length == len(full.body) and r["ETag"] == full["ETag"], r


def test_listing_off_by_default(srv):
    r = get(srv, "/noindex/", host="unknown.test")
    assert r.status == 403, r


# ---------------------------------------------------------------- error pages

def test_error_page_404(srv):
    r = get(srv, "/nope", host="errors.test")
    assert r.status == 404 and r.reason == "Not Found", r
    assert r.body == ERRORS["404.html"], r
    assert r["Content-Type"] == "text/html", r
    assert r.length == len(ERRORS["404.html"]), r


def test_error_page_head(srv):
    r = get(srv, "/nope", host="errors.test", method="HEAD")
    assert r.status == 404 and r.length == len(ERRORS["404.html"]), r
    with Client(srv.port) as c:
        c.send(req("/nope", "HEAD", host="errors.test") + req("/a.txt", host="errors.test"))
        c.response(head=True)
        assert c.response().body == b"a\n"


def test_error_page_list_of_statuses(srv):
    r = get(srv, "/forbidden/", host="errors.test")
    assert r.status == 403 and r.body == ERRORS["gone.html"], r
    assert r["Content-Type"] == "text/html", r


def test_error_page_on_keepalive(srv):
    with Client(srv.port) as c:
        c.send(req("/nope", host="errors.test") + req("/a.txt", host="errors.test"))
        r1, r2 = c.responses(2)
        assert r1.status == 404 and r1.body == ERRORS["404.html"], r1
        assert r2.status == 200 and r2.body == b"a\n", r2


def test_error_page_missing_falls_back(srv):
    r = get(srv, "/a.txt", host="errors.test", method="DELETE")
    assert r.status == 405 and r["Allow"], r
    assert b"missing-page" not in r.body and r.body, r
    r2 = get(srv, "/a.txt", host="errors.test", method="DELETE")
    assert r2.status == 405 and r2.body == r.body, r2
    # "A missing error page falls back to the built-in body and is logged once."
    srv.wait_line(r"/missing-page\.html", 5)
    assert get(srv, "/a.txt", host="errors.test", method="DELETE").status == 405
    assert srv.stderr().count("/missing-page.html") == 1, srv.stderr()


def test_error_page_not_on_other_sites(srv):
    r = get(srv, "/nope", host="unknown.test")
    assert r.status == 404 and r.body != ERRORS["404.html"], r


# ------------------------------------------------------------------- fallback

def test_fallback_serves_index(srv):
    for target in ("/users/42", "/users/42?tab=1", "/a/b/c", "/app/"):
        r = get(srv, target, host="spa.test")
        assert r.status == 200 and r.body == SPA["index.html"], (target, r)
        assert r["Content-Type"] == "text/html", r


def test_fallback_head(srv):
    r = get(srv, "/users/42", host="spa.test", method="HEAD")
    assert r.status == 200 and r.length == len(SPA["index.html"]), r


def test_fallback_not_for_extension(srv):
    for target in ("/missing.js", "/assets/missing.css", "/a.b/c.d"):
        r = get(srv, target, host="spa.test")
        assert r.status == 404, (target, r)


def test_fallback_existing_files(srv):
    assert get(srv, "/real.txt", host="spa.test").body == SPA["real.txt"]
    assert get(srv, "/assets/app.js", host="spa.test").body == SPA["assets/app.js"]
    assert get(srv, "/noindex/", host="spa.test").status == 403


def test_fallback_not_under_dotfile(srv):
    assert get(srv, "/.hidden/x", host="spa.test").status == 404
    assert get(srv, "/.hidden/nothing", host="spa.test").status == 404
    # with dotfiles allowed, an existing dotfile is served, a missing one is no route
    assert get(srv, "/.nothing/route", host="dots.test").status == 404
    assert get(srv, "/some/route", host="dots.test").body == DOTS["index.html"]


def test_fallback_post_405(srv):
    r = get(srv, "/users/42", host="spa.test", method="POST",
            headers={"Content-Length": "0"})
    assert r.status == 405 and "GET" in r["Allow"], r


# -------------------------------------------------------------------- headers

XH = ("Cache-Control", "X-A", "X-Frame-Options", "Access-Control-Allow-Origin",
      "Access-Control-Allow-Methods", "Link")


def hdr(srv, target, method="GET", headers=()):
    return get(srv, target, host="hdr.test", method=method, headers=headers)


@pytest.mark.parametrize("target,want", [
    ("/style.css", [("Cache-Control", "max-age=3600"), ("X-Frame-Options", "DENY")]),
    ("/deep/nested.css", [("Cache-Control", "max-age=3600"), ("X-Frame-Options", "DENY")]),
    ("/assets/app.css", [("Cache-Control", "no-cache"), ("X-A", "1"),
                         ("X-Frame-Options", "DENY")]),
    ("/assets/x/y.js", [("Cache-Control", "no-cache"), ("X-A", "1"),
                        ("X-Frame-Options", "DENY")]),
    ("/page.html", [("X-Frame-Options", "DENY")]),
    ("/", [("X-Frame-Options", "DENY")]),
    ("/cors/data.json", [("X-Frame-Options", "DENY"), ("Access-Control-Allow-Origin", "*"),
                         ("Access-Control-Allow-Methods", "GET, HEAD")]),
    # several lines of one name in one entry are all kept; a later entry
    # replaces what an always entry set
    ("/links.html", [("Link", "</a.css>; rel=preload"), ("Link", "</b.js>; rel=preload"),
                     ("X-Frame-Options", "SAMEORIGIN")]),
])
def test_headers_order_and_replacement(srv, target, want):
    r = hdr(srv, target)
    assert r.status == 200, r
    assert extra_names(r, XH) == want, (target, r)


def test_headers_on_206_304_head(srv):
    want = [("Cache-Control", "no-cache"), ("X-A", "1"), ("X-Frame-Options", "DENY")]
    r = hdr(srv, "/assets/app.css", headers={"Range": "bytes=0-1"})
    assert r.status == 206 and extra_names(r, XH) == want, r
    r2 = hdr(srv, "/assets/app.css", headers={"If-None-Match": r["ETag"]})
    assert r2.status == 304 and extra_names(r2, XH) == want, r2
    r3 = hdr(srv, "/assets/app.css", method="HEAD")
    assert r3.status == 200 and extra_names(r3, XH) == want, r3


@pytest.mark.parametrize("target", ["/missing", "/assets/missing.css", "/style.css/x",
                                    "/.env"])
def test_headers_on_errors_only_always(srv, target):
    r = hdr(srv, target)
    assert r.status == 404, r
    assert extra_names(r, XH) == [("X-Frame-Options", "DENY")], (target, r)


def test_headers_on_405_416(srv):
    r = hdr(srv, "/style.css", method="DELETE")
    assert r.status == 405 and extra_names(r, XH) == [("X-Frame-Options", "DENY")], r
    r = hdr(srv, "/style.css", headers={"Range": "bytes=9999-"})
    assert r.status == 416 and extra_names(r, XH) == [("X-Frame-Options", "DENY")], r


def test_headers_not_on_other_sites(srv):
    r = get(srv, "/who.txt", host="other.test")
    assert extra_names(r, XH) == [], r


@pytest.mark.parametrize("line", ["Content-Type: text/x-custom", "ETag: \"custom\"",
                                  "Last-Modified: Mon, 01 Jan 2001 00:00:00 GMT",
                                  "Server: custom", "Accept-Ranges: none"])
def test_headers_cannot_duplicate_server_fields(servers, binary, roots, tmp_path, line):
    """A header rule naming a field the server sends once itself (RFC 9110:
    Content-Type, ETag, Last-Modified, Server, Accept-Ranges are singletons)
    is either refused at load or replaces the server's: never a second line."""
    s = base_settings(roots["hdr"])
    s["headers"] = [{"match": "/*", "set": [line]}]
    text = render_conf_lists(s)
    path = tmp_path / "dup-field.conf"
    rc, err = check(binary, path, text)
    if rc != 0:
        one_error(err, path, 4, "(headers|set)")
        return
    srv = servers.new(text=text).start()
    name = line.split(":")[0]
    r = get(srv, "/page.html")
    assert r.status == 200, r
    values = [v for k, v in r.headers if k.lower() == name.lower()]
    assert len(values) == 1, (line, r)


def test_cors_preflight(srv):
    r = hdr(srv, "/cors/data.json", method="OPTIONS",
            headers={"Origin": "https://a.test", "Access-Control-Request-Method": "GET"})
    assert r.status == 204, r
    assert r["Access-Control-Allow-Origin"] == "*", r
    assert r["Access-Control-Allow-Methods"] == "GET, HEAD", r
    assert r.header("Content-Length") in (None, "0"), r
    # and on the GET itself
    r = hdr(srv, "/cors/data.json", headers={"Origin": "https://a.test"})
    assert r.status == 200 and r["Access-Control-Allow-Origin"] == "*", r


def test_options_without_cors_has_no_acao(srv):
    r = hdr(srv, "/page.html", method="OPTIONS",
            headers={"Origin": "https://a.test", "Access-Control-Request-Method": "GET"})
    assert r.status in (200, 204), r
    assert r.header("Access-Control-Allow-Origin") is None, r


# ------------------------------------------------------------------ redirects

def redir(srv, target, method="GET"):
    return get(srv, target, host="redir.test", method=method)


@pytest.mark.parametrize("target,status,location", [
    ("/old.html", 301, "/new.html"),
    ("/old.html?a=1", 301, "/new.html?a=1"),
    ("/old/a/b.txt?x=1&y=2", 308, "/new/a/b.txt?x=1&y=2"),
    ("/old/", 308, "/new/"),
    ("/old/a%20b", 308, "/new/a%20b"),
    ("/old/x?", 308, "/new/x?"),
    ("/ext", 302, "https://example.org/x"),
    ("/ext?q=1", 302, "https://example.org/x?q=1"),
    ("/temp", 307, "/t"),
    ("/dflt", 302, "/new.html"),
    ("/q?q=x", 301, "/search?lang=en&q=x"),
    ("/q", 301, "/search?lang=en"),
    ("/blog/2024/a", 308, "https://blog.example.org/2024/a"),
    ("/frag", 301, "/new.html#top"),
    ("/frag?a=1", 301, "/new.html?a=1#top"),
    ("/fragq?a=1", 301, "/search?x=1&a=1#f"),
])
def test_redirects(srv, target, status, location):
    r = redir(srv, target)
    assert r.status == status and r["Location"] == location, (target, r)
    assert r.length == len(r.body), r


@pytest.mark.parametrize("target,status,reason", [
    ("/old.html", 301, "Moved Permanently"),
    ("/ext", 302, "Found"),
    ("/temp", 307, "Temporary Redirect"),
    ("/old/x", 308, "Permanent Redirect"),
])
def test_redirect_reason_phrases(srv, target, status, reason):
    """The reason phrase of each redirect status (RFC 9110 15.4), as nginx
    and Caddy send it."""
    r = redir(srv, target)
    assert r.status == status and r.reason == reason, (target, r)


def test_redirect_head(srv):
    r = redir(srv, "/old.html", method="HEAD")
    assert r.status == 301 and r["Location"] == "/new.html", r


@pytest.mark.parametrize("target", ["/old", "/old.htm", "/old.html/x", "/ext/y", "/tempx",
                                    "/OLD.html"])
def test_redirects_no_match(srv, target):
    r = redir(srv, target)
    assert r.status == 404 and r.header("Location") is None, (target, r)


def test_redirects_other_sites(srv):
    assert get(srv, "/old.html", host="unknown.test").status == 404


# ----------------------------------------------------------- status endpoint

def metric(text, name):
    m = re.search(rf"^{re.escape(name)} (\d+)$", text, re.M)
    assert m, f"no {name} in {text}"
    return int(m.group(1))


def test_status_endpoint(srv):
    r = get(srv, STATUS_PATH, host="unknown.test")
    assert r.status == 200, r
    assert r["Content-Type"].startswith("text/plain"), r
    text = r.body.decode()
    for name in ('ringhttpd_requests_total{class="2xx"}', 'ringhttpd_requests_total{class="4xx"}',
                 "ringhttpd_sent_bytes_total", "ringhttpd_accepts_total",
                 "ringhttpd_file_cache_hits_total", "ringhttpd_file_cache_misses_total",
                 "ringhttpd_buffer_waits_total", "ringhttpd_uptime_seconds",
                 'ringhttpd_open_connections{ring="0"}'):
        metric(text, name)
    assert "# TYPE ringhttpd_requests_total counter" in text, text
    assert metric(text, 'ringhttpd_open_connections{ring="0"}') >= 1, text


def test_status_counters_grow(srv):
    def scrape():
        return get(srv, STATUS_PATH).body.decode()
    first = scrape()
    ok0, nf0 = (metric(first, 'ringhttpd_requests_total{class="2xx"}'),
                metric(first, 'ringhttpd_requests_total{class="4xx"}'))
    acc0, sent0 = metric(first, "ringhttpd_accepts_total"), metric(first, "ringhttpd_sent_bytes_total")
    hits0 = metric(first, "ringhttpd_file_cache_hits_total")
    sent = 0
    for _ in range(3):
        r = get(srv, "/who.txt")
        assert r.status == 200
        sent += len(r.head) + len(r.body)
    r = get(srv, "/no-such-file")
    assert r.status == 404
    sent += len(r.head) + len(r.body)

    def grown():
        t = scrape()
        return (metric(t, 'ringhttpd_requests_total{class="2xx"}') >= ok0 + 4
                and metric(t, 'ringhttpd_requests_total{class="4xx"}') >= nf0 + 1) and t
    t = wait_until(grown, 5, "the request counters to grow")
    assert metric(t, "ringhttpd_accepts_total") >= acc0 + 5, t
    assert metric(t, "ringhttpd_sent_bytes_total") >= sent0 + sent, t
    # the same file three times: found in the cache at least twice
    assert metric(t, "ringhttpd_file_cache_hits_total") >= hits0 + 2, t


def test_status_on_every_site_despite_dotfiles(srv):
    for host in ("example.org", "spa.test", "redir.test", "errors.test", "hdr.test",
                 "pre.test", "list.test"):
        r = get(srv, STATUS_PATH, host=host)
        assert r.status == 200 and b"ringhttpd_uptime_seconds" in r.body, (host, r)


def test_status_head(srv):
    r = get(srv, STATUS_PATH, method="HEAD")
    assert r.status == 200 and r.length > 0, r


def test_status_denied_peer(servers, roots):
    s = base_settings(roots["default"])
    s.update({"status_path": STATUS_PATH, "status_allow": ["192.0.2.1"],
              "dotfiles": "allow"})
    srv = servers.new(text=render_conf_lists(s)).start()
    r = get(srv, STATUS_PATH)
    assert r.status == 404, r
    assert b"ringhttpd_" not in r.body, r
    # the rest of the site is unchanged
    assert get(srv, "/who.txt").body == b"default\n"


def test_status_allow_empty(servers, roots):
    s = base_settings(roots["default"])
    s.update({"status_path": STATUS_PATH, "status_allow": []})
    srv = servers.new(text=render_conf_lists(s)).start()
    assert get(srv, STATUS_PATH).status == 404


def test_status_allow_prefix(servers, roots):
    s = base_settings(roots["default"])
    s.update({"status_path": "/metrics", "status_allow": ["127.0.0.0/8"]})
    srv = servers.new(text=render_conf_lists(s)).start()
    r = get(srv, "/metrics")
    assert r.status == 200 and b"ringhttpd_requests_total" in r.body, r


def test_status_off_by_default(servers, roots):
    srv = servers.new(text=render_conf_lists(base_settings(roots["default"]))).start()
    assert get(srv, STATUS_PATH).status == 404


# --------------------------------------------------------- sites stand alone

def test_site_does_not_inherit_top_level(servers, roots):
    s = base_settings(roots["dots"])
    s.update({"charset": "utf-8", "dotfiles": "allow",
              "headers": [{"match": "/*", "set": ["X-Top: 1"], "always": True}],
              "sites": [{"server_name": "alone.test", "document_root": str(roots["dots"])}]})
    srv = servers.new(text=render_conf_lists(s)).start()
    r = get(srv, "/index.html", host="top.test")
    assert r["Content-Type"] == "text/html; charset=utf-8" and r["X-Top"] == "1", r
    assert get(srv, "/.env", host="top.test").status == 200
    r = get(srv, "/index.html", host="alone.test")
    assert r["Content-Type"] == "text/html" and r.header("X-Top") is None, r
    r = get(srv, "/.env", host="alone.test")
    assert r.status == 404 and r.header("X-Top") is None, r


# --------------------------------------------------------------------- reload

def test_reload_changes_sites(servers, roots):
    s = base_settings(roots["default"])
    s["sites"] = [{"server_name": "charset.test", "document_root": str(roots["charset"])},
                  {"server_name": "gone.test", "document_root": str(roots["other"])}]
    srv = servers.new(text=render_conf_lists(s)).start()
    assert get(srv, "/t.txt", host="charset.test")["Content-Type"] == "text/plain"
    assert get(srv, "/who.txt", host="gone.test").body == b"other\n"
    assert get(srv, "/old.html", host="charset.test").status == 404
    s["sites"] = [{"server_name": "charset.test", "document_root": str(roots["charset"]),
                   "charset": "utf-8",
                   "redirects": [{"from": "/old.html", "to": "/t.txt", "status": 301}],
                   "headers": [{"match": "*.txt", "set": "X-Reloaded: yes"}]},
                  {"server_name": "new.test", "document_root": str(roots["spa"]),
                   "fallback": "/index.html"}]
    s["status_path"] = "/st"
    srv.write_conf(text=render_conf_lists(s))
    mark = srv.line_count()
    srv.signal(signal.SIGHUP)
    srv.wait_line(r"^notice: configuration reloaded", 10, mark)
    r = wait_until(lambda: (x := get(srv, "/t.txt", host="charset.test"))
                   .header("X-Reloaded") and x, 10, "the reloaded site")
    assert r["Content-Type"] == "text/plain; charset=utf-8", r
    r = get(srv, "/old.html", host="charset.test")
    assert r.status == 301 and r["Location"] == "/t.txt", r
    assert get(srv, "/who.txt", host="gone.test").body == b"default\n"
    assert get(srv, "/route", host="new.test").body == SPA["index.html"]
    assert get(srv, "/st").status == 200
    # status_allow is reloaded too
    s["status_allow"] = ["192.0.2.1"]
    srv.write_conf(text=render_conf_lists(s))
    mark = srv.line_count()
    srv.signal(signal.SIGHUP)
    srv.wait_line(r"^notice: configuration reloaded", 10, mark)
    wait_until(lambda: get(srv, "/st").status == 404, 10, "status_allow reloaded")


def test_reload_refused_keeps_sites(servers, roots):
    s = base_settings(roots["default"])
    s["sites"] = [{"server_name": "other.test", "document_root": str(roots["other"])}]
    srv = servers.new(text=render_conf_lists(s)).start()
    s["sites"].append({"server_name": "OTHER.test", "document_root": str(roots["spa"])})
    srv.write_conf(text=render_conf_lists(s))
    mark = srv.line_count()
    srv.signal(signal.SIGHUP)
    srv.wait_line(r"^error: reload failed, keeping the running configuration: .*server_name",
                  10, mark)
    assert get(srv, "/who.txt", host="other.test").body == b"other\n"


# ------------------------------------------------------------------- -t checks

def check(binary, path, text):
    path.write_text(text)
    rc, out, err = run_binary(binary, ["-t", "-c", str(path)])
    return rc, err.strip()


def conf_head(root):
    return (f'document_root = "{root}";\n'     # line 1
            'listen = [ "127.0.0.1:0" ];\n'    # line 2
            'user = "";\n')                     # line 3


def test_check_sites_ok(binary, roots, tmp_path):
    path = tmp_path / "ok.conf"
    rc, err = check(binary, path, render_conf_lists(main_settings(roots)))
    assert rc == 0, err


def test_check_duplicate_server_name(binary, roots, tmp_path):
    path = tmp_path / "dup.conf"
    text = conf_head(roots["default"]) + (
        "sites = (\n"                                                      # 4
        f'  {{ server_name = [ "a.test" ]; document_root = "{roots["other"]}"; }},\n'   # 5
        f'  {{ server_name = [ "b.test", "A.TEST" ];\n'                    # 6
        f'    document_root = "{roots["spa"]}"; }}\n'                      # 7
        ");\n")
    rc, err = check(binary, path, text)
    assert rc != 0
    msg = one_error(err, path, 6, "server_name")
    assert "A.TEST" in msg or "a.test" in msg, msg


def test_check_duplicate_server_name_in_one_site(binary, roots, tmp_path):
    path = tmp_path / "dup1.conf"
    text = conf_head(roots["default"]) + (
        f'sites = ( {{ server_name = [ "a.test", "a.test." ]; document_root = "{roots["other"]}"; }} );\n')
    rc, err = check(binary, path, text)
    assert rc != 0
    one_error(err, path, 4, "server_name")


def test_check_missing_site_root(binary, roots, tmp_path):
    path = tmp_path / "root.conf"
    missing = tmp_path / "no-such-dir"
    text = conf_head(roots["default"]) + (
        "sites = (\n"                                      # 4
        '  { server_name = "a.test";\n'                    # 5
        f'    document_root = "{missing}"; }}\n'           # 6
        ");\n")
    rc, err = check(binary, path, text)
    assert rc != 0
    msg = one_error(err, path, 6, "document_root")
    assert str(missing) in msg, msg


def test_check_site_root_is_a_file(binary, roots, tmp_path):
    path = tmp_path / "rootf.conf"
    text = conf_head(roots["default"]) + (
        f'sites = ( {{ server_name = "a.test"; document_root = "{roots["other"] / "x"}"; }} );\n')
    rc, err = check(binary, path, text)
    assert rc != 0
    one_error(err, path, 4, "document_root")


def test_check_site_without_root(binary, roots, tmp_path):
    path = tmp_path / "noroot.conf"
    text = conf_head(roots["default"]) + 'sites = ( { server_name = "a.test"; } );\n'
    rc, err = check(binary, path, text)
    assert rc != 0
    assert re.match(rf"^(error: )?{re.escape(str(path))}:4: \w+: .*document_root", err), err


@pytest.mark.parametrize("glob", ["**.css", "/a/**", "", "a/b.css", "a b", "x\\tz"])
def test_check_bad_glob(binary, roots, tmp_path, glob):
    path = tmp_path / "glob.conf"
    text = conf_head(roots["default"]) + (
        "headers = (\n"                                              # 4
        '  { match = "*.css"; set = [ "X-A: 1" ]; },\n'              # 5
        f'  {{ match = "{glob}";\n'                                   # 6
        '    set = [ "X-B: 2" ]; }\n'                                 # 7
        ");\n")
    rc, err = check(binary, path, text)
    assert rc != 0, err
    one_error(err, path, 6, "match")


@pytest.mark.parametrize("line", [
    '"X-Bad: a\\rb"', '"X-Bad: a\\nb"', '"X-Bad: a\\r\\nInjected: 1"', '"Bad Name: x"',
    '"X-No-Colon"', '": empty name"', '"Content-Length: 5"', '"X-Bad(: x"',
    '"Date: now"', '"X-Nul: a\\x01b"'])
def test_check_bad_header_line(binary, roots, tmp_path, line):
    path = tmp_path / "hdr.conf"
    text = conf_head(roots["default"]) + (
        "headers = (\n"                                              # 4
        '  { match = "/*";\n'                                        # 5
        f'    set = [ "X-Ok: 1", {line} ]; }}\n'                      # 6
        ");\n")
    rc, err = check(binary, path, text)
    assert rc != 0, err
    one_error(err, path, 6, "(headers|set)")


def test_check_bad_header_line_in_site(binary, roots, tmp_path):
    path = tmp_path / "hdrsite.conf"
    text = conf_head(roots["default"]) + (
        f'sites = ( {{ server_name = "a.test"; document_root = "{roots["other"]}";\n'   # 4
        '  headers = ( { match = "/*";\n'                                               # 5
        '              set = "X-Bad: \\r"; } ); } );\n')                                # 6
    rc, err = check(binary, path, text)
    assert rc != 0, err
    one_error(err, path, 6, "(headers|set)")


@pytest.mark.parametrize("status", ["200", "399", "600", "[ 404, 302 ]", '"404"', "[ ]",
                                    "[ 404, 404 ]"])
def test_check_bad_error_pages_status(binary, roots, tmp_path, status):
    path = tmp_path / "ep.conf"
    text = conf_head(roots["default"]) + (
        "error_pages = (\n"                                          # 4
        f'  {{ status = {status};\n'                                   # 5
        '    page = "/404.html"; }\n'                                 # 6
        ");\n")
    rc, err = check(binary, path, text)
    assert rc != 0, err
    one_error(err, path, 5, "status")


def test_check_error_page_twice(binary, roots, tmp_path):
    path = tmp_path / "ep2.conf"
    text = conf_head(roots["default"]) + (
        'error_pages = ( { status = 404; page = "/a.html"; },\n'     # 4
        '                { status = [ 403, 404 ]; page = "/b.html"; } );\n')   # 5
    rc, err = check(binary, path, text)
    assert rc != 0, err
    one_error(err, path, 5, "status")


@pytest.mark.parametrize("line", [
    "max_ranges = 4;", "max_connections_per_ip = 2;", "send_timeout = 5;",
    'listen = [ "127.0.0.1:0" ];', "max_connections_per_ip_v6_prefix = 48;",
    "listing_max_entries = 5;", 'status_path = "/m";', "types = { };"])
def test_check_server_key_in_a_site(binary, roots, tmp_path, line):
    """Every server-wide key inside a site says so, with its line."""
    path = tmp_path / "sk.conf"
    key = line.split()[0]
    text = conf_head(roots["default"]) + (
        "sites = (\n"                                                       # 4
        f'  {{ server_name = "a.test"; document_root = "{roots["default"]}";\n'  # 5
        f"    {line} }}\n"                                                   # 6
        ");\n")
    rc, err = check(binary, path, text)
    assert rc == 1, err
    assert one_error(err, path, 6, key).endswith(
        f"{key}: is server-wide: set it at the top level, not in a site"), err


@pytest.mark.parametrize("status", ["200", "303", "300", "404", "0"])
def test_check_bad_redirect_status(binary, roots, tmp_path, status):
    path = tmp_path / "rd.conf"
    text = conf_head(roots["default"]) + (
        "redirects = (\n"                                                   # 4
        '  { from = "/a"; to = "/b";\n'                                     # 5
        f'    status = {status}; }}\n'                                        # 6
        ");\n")
    rc, err = check(binary, path, text)
    assert rc != 0, err
    one_error(err, path, 6, "status")


@pytest.mark.parametrize("from_,to,key", [
    ("a", "/b", "from"), ("/a?x", "/b", "from"), ("/a*", "/b", "from"),
    ("/a", "b", "to"), ("/a/*", "/b?x=1", "to"), ("/a", "/b c", "to"),
    # a prefix's rest would continue the host name: the target needs a path
    ("/blog/*", "https://blog.example.org", "to"), ("/blog/*", "//blog.example.org/", "to"),
    ("/a", "//evil.example/", "to")])
def test_check_bad_redirect(binary, roots, tmp_path, from_, to, key):
    path = tmp_path / "rd2.conf"
    text = conf_head(roots["default"]) + (
        "redirects = (\n"                                                   # 4
        f'  {{ from = "{from_}";\n'                                          # 5
        f'    to = "{to}"; }}\n'                                             # 6
        ");\n")
    rc, err = check(binary, path, text)
    assert rc != 0, err
    one_error(err, path, 5 if key == "from" else 6, key)


@pytest.mark.parametrize("line,key", [
    ('precompressed = [ "br", "deflate" ];', "precompressed"),
    ('precompressed = [ "br", "br" ];', "precompressed"),
    ('dotfiles = "hide";', "dotfiles"),
    ('directory_listing = "yes";', "directory_listing"),
    ('charset = "utf 8";', "charset"),
    ('fallback = "index.html";', "fallback"),
    ('status_path = "metrics";', "status_path"),
    ('status_allow = [ "localhost" ];', "status_allow"),
    ('status_allow = [ "10.0.0.1/8" ];', "status_allow"),
    ('server_name = [ "a.test:80" ];', "server_name"),
    ('server_name = [ "a..test" ];', "server_name"),
    ('server_name = [ "a.*.test" ];', "server_name"),
])
def test_check_bad_site_key(binary, roots, tmp_path, line, key):
    path = tmp_path / "key.conf"
    rc, err = check(binary, path, conf_head(roots["default"]) + line + "\n")
    assert rc != 0, err
    one_error(err, path, 4, key)


@pytest.mark.parametrize("line", ['status_path = "/m";', 'status_allow = [ ];',
                                  'types = { md = "text/markdown"; };', 'listen = [ ];',
                                  'access_log = "off";', 'cpu_limit = 1;', 'max_ranges = 2;',
                                  'max_connections_per_ip = 1;', 'keepalive_timeout = 5;',
                                  'sites = ( );'])
def test_check_server_key_in_site(binary, roots, tmp_path, line):
    """Server-wide keys cannot stand inside a site."""
    path = tmp_path / "srvkey.conf"
    key = line.split()[0]
    text = conf_head(roots["default"]) + (
        "sites = ( {\n"                                                  # 4
        f'  server_name = "a.test"; document_root = "{roots["other"]}";\n'  # 5
        f"  {line} }} );\n")                                             # 6
    rc, err = check(binary, path, text)
    assert rc != 0, err
    one_error(err, path, 6, key)


# ------------------------------------------------ keys together, edge cases

SPAPRE = {
    "index.html": "<!doctype html><p>Grüße</p>\n".encode(),
    "index.html.br": b"BR:index.html",
    "app.js": b"identity js\n",
    "app.js.gz": b"GZ:app.js",
}


def spapre_server(servers, tmp_path):
    root = tmp_path / "spapre"
    write_files(root, SPAPRE)
    for name in SPAPRE:
        t = MTIME + 10 if name.endswith((".br", ".gz")) else MTIME
        os.utime(root / name, (t, t))
    s = base_settings(root)
    s.update({"fallback": "/index.html", "precompressed": ["br", "gzip"], "charset": "utf-8"})
    return servers.new(text=render_conf_lists(s)).start()


def test_precompressed_with_charset(servers, tmp_path):
    srv = spapre_server(servers, tmp_path)
    r = get(srv, "/app.js", headers={"Accept-Encoding": "gzip"})
    assert r.body == SPAPRE["app.js.gz"] and r["Content-Encoding"] == "gzip", r
    assert r["Content-Type"] == "text/javascript; charset=utf-8", r


def test_fallback_then_file_keeps_sidecar(servers, tmp_path):
    """A fallback answer must not change what the fallback file itself
    gets: /index.html keeps its br sidecar after /users/42 was answered."""
    srv = spapre_server(servers, tmp_path)
    r = get(srv, "/users/42", headers={"Accept-Encoding": "br"})
    assert r.status == 200, r
    r = get(srv, "/index.html", headers={"Accept-Encoding": "br"})
    assert r.status == 200 and r["Vary"] == "Accept-Encoding", r
    assert r.body == SPAPRE["index.html.br"] and r["Content-Encoding"] == "br", r


def test_fallback_serves_sidecar(servers, tmp_path):
    """The fallback file is served as a file, sidecar included (nginx
    try_files with gzip_static does so): the encoded bytes, or the
    identity ones, but never a Vary that disagrees with the body."""
    srv = spapre_server(servers, tmp_path)
    r0 = get(srv, "/index.html", headers={"Accept-Encoding": "br"})
    assert r0.body == SPAPRE["index.html.br"], r0
    r = get(srv, "/users/42", headers={"Accept-Encoding": "br"})
    assert r.status == 200, r
    assert r["Vary"] == "Accept-Encoding", r
    assert r.body == SPAPRE["index.html.br"] and r["Content-Encoding"] == "br", r
    assert r["Content-Type"] == "text/html; charset=utf-8", r


def test_precompressed_if_range(srv):
    br_tag = pre(srv, "/app.js", "br")["ETag"]
    id_tag = pre(srv, "/app.js", "identity")["ETag"]
    r = pre(srv, "/app.js", "br", headers=[("Range", "bytes=0-3"), ("If-Range", br_tag)])
    assert r.status == 206 and r.body == PRE["app.js.br"][:4], r
    r = pre(srv, "/app.js", "br", headers=[("Range", "bytes=0-3"), ("If-Range", id_tag)])
    assert r.status == 200 and r.body == PRE["app.js.br"], r


def test_headers_match_decoded_path(srv):
    r = hdr(srv, "/%61ssets/app%2Ecss")
    assert r.status == 200 and r.body == HDR["assets/app.css"], r
    assert extra_names(r, XH) == [("Cache-Control", "no-cache"), ("X-A", "1"),
                                  ("X-Frame-Options", "DENY")], r
    r = hdr(srv, "/x/../assets/./app.css")
    assert r.status == 200 and r["X-A"] == "1", r


def test_redirect_matches_normalized_path(srv):
    r = redir(srv, "/%6Fld.html")
    assert r.status == 301 and r["Location"] == "/new.html", r
    r = redir(srv, "/a/../old/b")
    assert r.status == 308 and r["Location"] == "/new/b", r


def test_listing_title_and_odd_names(servers, tmp_path):
    root = tmp_path / "odd"
    os.makedirs(root / "d<x>")
    with open(os.path.join(os.fsencode(root), b"\xff name.txt"), "wb") as f:
        f.write(b"abc")
    write_files(root, {"d<x>/k.txt": b"k\n"})
    s = base_settings(root)
    s["directory_listing"] = True
    srv = servers.new(text=render_conf_lists(s)).start()
    r = get(srv, "/d%3Cx%3E/")
    assert r.status == 200, r
    assert b"<title>Index of /d&lt;x&gt;/</title>" in r.body, r.body
    r = get(srv, "/")
    assert b'<a href="%FF%20name.txt">\xef\xbf\xbd name.txt</a>' in r.body, r.body
    assert b'<a href="d%3Cx%3E/">d&lt;x&gt;/</a>' in r.body, r.body
    entries = json.loads(get(srv, "/", headers={"Accept": "application/json"}).body)
    assert {e["name"] for e in entries} == {"\ufffd name.txt", "d<x>"}, entries


def test_reload_swaps_site_roots(servers, tmp_path):
    """Sites reordered on reload: each name keeps its own files, with no
    answer from the file cache of the site that had its place before."""
    a, b = tmp_path / "a", tmp_path / "b"
    write_files(a, {"who.txt": b"a\n"})
    write_files(b, {"who.txt": b"b\n"})
    s = base_settings(tmp_path)
    s["cpu_limit"] = 1
    s["sites"] = [{"server_name": "a.test", "document_root": str(a)},
                  {"server_name": "b.test", "document_root": str(b)}]
    srv = servers.new(text=render_conf_lists(s)).start()
    for _ in range(2):
        assert get(srv, "/who.txt", host="a.test").body == b"a\n"
        assert get(srv, "/who.txt", host="b.test").body == b"b\n"
    s["sites"] = [s["sites"][1], s["sites"][0]]
    s["status_path"] = "/reloaded"      # tells when the new configuration is served
    srv.write_conf(text=render_conf_lists(s))
    mark = srv.line_count()
    srv.signal(signal.SIGHUP)
    srv.wait_line(r"^notice: configuration reloaded", 10, mark)
    wait_until(lambda: get(srv, "/reloaded").status == 200, 10, "the new configuration")
    assert get(srv, "/who.txt", host="a.test").body == b"a\n"
    assert get(srv, "/who.txt", host="b.test").body == b"b\n"


def test_access_log_names_site(servers, roots, tmp_path):
    """The access log records the site's name (issue: "The access log
    (CLF and journal) records the site's name")."""
    log = tmp_path / "access.log"
    s = base_settings(roots["default"])
    s.update({"access_log": str(log),
              "sites": [{"server_name": ["other.test", "*.other.test"],
                         "document_root": str(roots["other"])}]})
    srv = servers.new(text=render_conf_lists(s)).start()
    assert get(srv, "/who.txt", host="www.other.test").status == 200
    srv.stop()
    text = log.read_text()
    assert len(text.splitlines()) == 1, text
    assert "other.test" in text, text


def test_journal_access_log_site_field(servers, roots, tmp_path):
    """Under journald an access log entry carries SITE= with the site's
    name."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("the stand-in journal needs root and unshare (util-linux)")
    s = base_settings(roots["default"])
    s.update({"access_log": "journal",
              "sites": [{"server_name": ["other.test", "*.other.test"],
                         "document_root": str(roots["other"])}]})
    with Journal(tmp_path / "journal") as journal:
        srv = servers.new(text=render_conf_lists(s), wrapper=journal.wrapper()).start()
        assert get(srv, "/who.txt", host="www.other.test").status == 200
        _, e = journal.wait(lambda f: "REQUEST_PATH" in f)
        assert e.get("SITE") == "other.test", e
        srv.stop()


def check_multipart(srv, host, target, headers, data, part_type, ranges):
    """A multipart/byteranges answer whose parts carry PART_TYPE, framed
    by a Content-Length that the next response on the connection proves."""
    spec = ",".join(f"{a}-{b}" for a, b in ranges)
    with Client(srv.port, timeout=5) as c:
        c.send(req(target, host=host, headers=[*headers, ("Range", f"bytes={spec}")]))
        r = c.response()
        assert r.status == 206, r
        m = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", r["Content-Type"])
        assert m, r
        b = m.group(1).encode()
        for first, last in ranges:
            part = (b"--" + b + f"\r\nContent-Type: {part_type}\r\n".encode()
                    + f"Content-Range: bytes {first}-{last}/{len(data)}\r\n\r\n".encode()
                    + data[first:last + 1])
            assert part in r.body, (part, r.body)
        assert r.body.endswith(b"--" + b + b"--\r\n"), r.body
        c.send(req("/who.txt", host=host))
        r2 = c.response()
        assert r2.status == 200 and r2.body == f"{host.split('.')[0]}\n".encode(), r2
    return r


def test_precompressed_multipart_range(srv):
    """The parts of a multipart answer for an encoded file carry FILE's
    type, as the single-part answer does."""
    r = check_multipart(srv, "pre.test", "/app.js", [("Accept-Encoding", "br")],
                        PRE["app.js.br"], "text/javascript", [(0, 1), (200, 202)])
    assert r["Content-Encoding"] == "br" and r["Vary"] == "Accept-Encoding", r


def test_multipart_range_with_charset(srv):
    """The parts carry the type with the site's charset, as a whole answer
    does (and the Content-Length counts what is sent)."""
    check_multipart(srv, "charset.test", "/big.txt", [], CHARSET["big.txt"],
                    "text/plain; charset=utf-8", [(0, 4), (1000, 1010)])


def test_precompressed_if_none_match_star(srv):
    r = pre(srv, "/app.js", "br", headers=[("If-None-Match", "*")])
    assert r.status == 304 and r["Vary"] == "Accept-Encoding", r


def test_sidecar_without_file_is_404(srv):
    assert pre(srv, "/only-sidecar.js", "br").status == 404


def test_sidecar_directory_ignored(srv):
    r = pre(srv, "/dirside.js", "br")
    assert r.status == 200 and r.body == PRE["dirside.js"], r
    assert r.header("Content-Encoding") is None and r.header("Vary") is None, r


@pytest.mark.parametrize("target,location", [
    ("/%C3%A4/page.html", "/new/page.html"),
    ("/%c3%a4/%C3%BC.html", "/new/%C3%BC.html"),
    ("/x/../%C3%A4/./p", "/new/p"),
    ("/%C3%A4/", "/new/"),
    ("/%25/abc", "/pct/abc"),
    ("/%25/50%25", "/pct/50%25"),
    ("/%25/a%3Fb%23c?q=1", "/pct/a%3Fb%23c?q=1"),
])
def test_prefix_redirect_cut_on_the_decoded_path(srv, target, location):
    """A prefix's `from` is matched against the decoded, normalized path and
    cut there; the rest is percent-encoded after the cut, so that a `from`
    with non-ASCII bytes or a '%' never splits an escape."""
    r = redir(srv, target)
    assert (r.status, r["Location"]) == (301, location), (target, r)


@pytest.mark.parametrize("target,location", [
    ("/blog/@evil.com/", "https://blog.example.org/@evil.com/"),
    ("/blog/.evil.com/x", "https://blog.example.org/.evil.com/x"),
    ("/blog/:443@evil.com", "https://blog.example.org/:443@evil.com"),
    ("/blog//evil.com/", "https://blog.example.org/evil.com/"),
    ("/blog/%2540evil.com", "https://blog.example.org/%2540evil.com"),
    ("/v2/@evil.com/a", "https://docs.example.org/v2/@evil.com/a"),
    ("/v2/.evil.com", "https://docs.example.org/v2/.evil.com"),
    ("/v2/", "https://docs.example.org/v2"),
])
def test_prefix_redirect_stays_on_its_host(srv, target, location):
    """The rest of the path always follows a '/' of `to`'s path (its own,
    or one put in when `to` does not end in '/'): it can never become part
    of `to`'s authority (userinfo, a longer host name, a port)."""
    r = redir(srv, target)
    assert r.status in (301, 308) and r["Location"] == location, (target, r)


def test_redirect_location_cannot_inject(srv):
    """An encoded CR LF in the rest of a prefix redirect: refused (400) or
    sent encoded, never as a header line of its own."""
    r = redir(srv, "/old/a%0D%0AX-Injected:%201")
    assert r.header("X-Injected") is None, r
    assert r.status in (400, 308), r
    if r.status == 308:
        assert r["Location"] == "/new/a%0D%0AX-Injected:%201", r
    r = redir(srv, "/old/a%22%3C%3E%20b?x=%22")
    assert r.status == 308 and r["Location"] == "/new/a%22%3C%3E%20b?x=%22", r


def test_error_page_for_denied_dotfile(srv):
    r = get(srv, "/.env", host="errors.test")
    assert r.status == 404 and r.body == ERRORS["404.html"], r


def test_fallback_file_missing(servers, roots):
    s = base_settings(roots["spa"])
    s["fallback"] = "/no-such-file.html"
    srv = servers.new(text=render_conf_lists(s)).start()
    assert get(srv, "/route").status == 404
    assert get(srv, "/real.txt").body == SPA["real.txt"]


def test_status_endpoint_ipv6(servers, roots):
    if not ipv6_loopback():
        pytest.skip("no IPv6 loopback")
    s = base_settings(roots["default"])
    s.update({"listen": ["[::1]:0", "127.0.0.1:0"], "status_path": "/m",
              "status_allow": ["::1"]})
    srv = servers.new(text=render_conf_lists(s)).start()
    ports = {h: p for h, p in srv.addrs}
    with Client(ports["::1"], host="::1") as c:
        c.send(req("/m"))
        r = c.response()
        assert r.status == 200 and b"ringhttpd_uptime_seconds" in r.body, r
    with Client(ports["127.0.0.1"]) as c:
        c.send(req("/m"))
        assert c.response().status == 404


def test_check_name_of_default_site_taken(binary, roots, tmp_path):
    path = tmp_path / "dflt.conf"
    text = conf_head(roots["default"]) + (
        'server_name = [ "a.test" ];\n'                                       # 4
        f'sites = ( {{ server_name = "A.test."; document_root = "{roots["other"]}"; }} );\n')   # 5
    rc, err = check(binary, path, text)
    assert rc != 0, err
    one_error(err, path, 5, "server_name")


@pytest.mark.parametrize("text,key", [
    ("sites = { };", "sites"),
    ('sites = [ "a" ];', "sites"),
    ('error_pages = ( { status = 404; } );', "error_pages"),
    ('error_pages = ( { status = 404; page = "404.html"; } );', "page"),
    ('headers = ( { match = "/*"; } );', "headers"),
    ('headers = ( { match = "/*"; set = [ ]; } );', "set"),
    ('redirects = ( { from = "/a"; } );', "redirects"),
])
def test_check_bad_lists(binary, roots, tmp_path, text, key):
    path = tmp_path / "lists.conf"
    rc, err = check(binary, path, conf_head(roots["default"]) + text + "\n")
    assert rc != 0, err
    one_error(err, path, 4, key)


# --------------------------------------------------- the documented examples

SRCDIR = os.environ.get("top_srcdir",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def local_paths(text, tmp_path):
    """TEXT with the example's directories made real ones under TMP_PATH,
    its certificate pair a real one made there, the listen address on
    loopback and no user switch."""
    def real(m):
        d = tmp_path / m.group(1).strip("/").replace("/", "_")
        os.makedirs(d, exist_ok=True)
        return f'"{d}"'

    def pair(m):
        cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
        if not key.exists():
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=example.org",
                            "-keyout", str(key), "-out", str(cert), "-days", "2"],
                           check=True, capture_output=True)
            os.chmod(key, 0o600)
        return f'"{tmp_path / m.group(1)}"'
    text = re.sub(r'"(/srv/[^"]*|/var/www/html)"', real, text)
    text = re.sub(r'"/etc/ringhttpd/tls/[^"]*/(fullchain.pem|privkey.pem)"', pair, text)
    text = re.sub(r'(?m)^user = "[^"]*";', 'user = "";', text)
    return re.sub(r'(?m)^listen = \[[^]]*\];', 'listen = [ "127.0.0.1:0" ];', text)


def shipped_examples():
    """(key, the shipped file with that key's commented example in force)."""
    with open(os.path.join(SRCDIR, "data", "ringhttpd.conf")) as f:
        lines = f.read().splitlines()
    out = []
    for i, line in enumerate(lines):
        m = re.match(r"^# ([a-z][a-z0-9_]*) = ", line)
        if not m:
            continue
        key, block = m.group(1), []
        if key == "tls_key":  # the second line of the pair's example
            continue
        # a pair's keys go together: each needs the other
        ends = 2 if key == "tls_certificate" else 1
        for j in range(i, len(lines)):
            block.append(lines[j][2:])
            text = "\n".join(block)
            if (text.rstrip().endswith(";") and text.count("(") == text.count(")")
                    and text.count("{") == text.count("}")):
                ends -= 1
                if not ends:
                    break
        rest = [ln for k, ln in enumerate(lines) if not (k > j and ln.startswith(key + " = "))]
        out.append((key, "\n".join(rest[:i] + block + rest[j + 1:]) + "\n"))
    return out


@pytest.mark.parametrize("key,text", shipped_examples(), ids=[k for k, _ in shipped_examples()])
def test_shipped_conf_examples_load(binary, tmp_path, key, text):
    path = tmp_path / "example.conf"
    rc, err = check(binary, path, local_paths(text, tmp_path))
    assert rc == 0, (key, err)


def manual_examples():
    with open(os.path.join(SRCDIR, "data", "ringhttpd.conf.5")) as f:
        page = f.read()
    return [b.strip("\n") for b in re.findall(r"(?ms)^\.EX\n(.*?)^\.EE$", page)]


@pytest.mark.parametrize("i", range(len(manual_examples())))
def test_manual_examples_load(binary, roots, tmp_path, i):
    example = manual_examples()[i]
    text = example if example.startswith("#") else conf_head(roots["default"]) + example
    path = tmp_path / "manual.conf"
    rc, err = check(binary, path, local_paths(text + "\n", tmp_path))
    assert rc == 0, (example, err)


def test_shipped_conf_max_ranges_comment(binary, tmp_path):
    """The range the shipped file's comment gives for max_ranges is the
    one the server accepts."""
    with open(os.path.join(SRCDIR, "data", "ringhttpd.conf")) as f:
        m = re.search(r"Most ranges in one Range request \(1 to (\d+)\)", f.read())
    assert m
    path = tmp_path / "mr.conf"
    rc, err = check(binary, path, conf_head(tmp_path) + f"max_ranges = {m.group(1)};\n")
    assert rc == 0, err


# ------------------------------------------------------------------- browser

def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


BROWSER_HTML = ("<!doctype html><html><head><title>t</title>"
                "<link rel=stylesheet href=/style.css></head><body>"
                "<p id=greet>Grüße aus dem HTML</p><div id=out>not run</div>"
                "<pre id=txt></pre>"
                "<script src=/app.js></script></body></html>\n")
BROWSER_JS = ("document.getElementById('out').textContent = 'js ran: ' + "
              "'Grüße aus dem JS' + ' color=' + "
              "getComputedStyle(document.getElementById('greet')).color;\n")
BROWSER_CSS = "#greet { color: rgb(1, 2, 3); }\n"


def need_chromium():
    """Chromium's path; the test is skipped without it, except under CI=true."""
    chromium = find_chromium()
    if not chromium:
        skip_unless_ci("chromium is not installed", "chromium")
    return chromium


def chromium_dump(chromium, url, *flags):
    """The DOM of URL once headless CHROMIUM has run its scripts, and
    Chromium's stderr."""
    with tempfile.TemporaryDirectory() as profile:
        p = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
             "--virtual-time-budget=5000", *flags, "--dump-dom", url],
            capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    return p.stdout.decode("utf-8", errors="replace"), p.stderr.decode(errors="replace")


def test_chromium_precompressed_utf8(servers, tmp_path):
    chromium = need_chromium()
    root = tmp_path / "browser"
    files = {"index.html": BROWSER_HTML.encode(), "app.js": BROWSER_JS.encode(),
             "style.css": BROWSER_CSS.encode(), "hello.txt": "Grüße aus dem Text\n".encode()}
    write_files(root, files)
    for name in ("app.js", "style.css"):
        # garbage as the identity file: only the decoded sidecar makes it work
        gz = gzip.compress(files[name], mtime=0)
        write_files(root, {name + ".gz": gz})
        with open(root / name, "wb") as f:
            f.write(b"throw new Error('identity served');\n" if name == "app.js"
                    else b"#greet { color: rgb(9, 9, 9); }\n")
        st = os.stat(root / name)
        os.utime(root / (name + ".gz"), (st.st_atime + 5, st.st_mtime + 5))
    s = base_settings(root)
    s.update({"precompressed": ["br", "zstd", "gzip"], "charset": "utf-8"})
    srv = servers.new(text=render_conf_lists(s)).start()
    r = get(srv, "/app.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert r["Content-Encoding"] == "gzip", r

    dom, err = chromium_dump(chromium, f"http://127.0.0.1:{srv.port}/")
    assert "Grüße aus dem HTML" in dom, (dom, err[-2000:])
    assert "js ran: Grüße aus dem JS color=rgb(1, 2, 3)" in dom, (dom, err[-2000:])
    dom, err = chromium_dump(chromium, f"http://127.0.0.1:{srv.port}/hello.txt")
    assert "Grüße aus dem Text" in dom, (dom, err[-2000:])


HTTPS_JS = ("var res = performance.getEntriesByType('resource').map(function (e) {"
            " return e.name.replace(location.origin, '') + '=' + e.nextHopProtocol; })"
            ".sort().join(' ');\n"
            "document.getElementById('out').textContent = 'loaded over ' + location.protocol"
            " + ' ' + performance.getEntries()[0].nextHopProtocol + ' color=' + "
            "getComputedStyle(document.getElementById('greet')).color + ' assets: ' + res;\n")


@pytest.mark.parametrize("http2,proto", [(True, "h2"), (False, "http/1.1")],
                         ids=["h2", "http2-off"])
def test_chromium_https_with_a_local_ca(servers, tmp_path, http2, proto):
    """The browser page over HTTPS: Chromium trusts the leaf made by a
    local CA through its public key's hash; the page and its assets come
    over TLS as HTTP/2 (ALPN h2), or as HTTP/1.1 with http2 = false."""
    chromium = need_chromium()
    pki = PKI(tmp_path / "pki")
    leaf = pki.leaf("leaf", ["localhost"])
    root = tmp_path / "browser"
    write_files(root, {"index.html": BROWSER_HTML.encode(), "app.js": HTTPS_JS.encode(),
                       "style.css": BROWSER_CSS.encode()})
    s = tls_settings(root, leaf)
    s.update({"server_name": "localhost", "charset": "utf-8", "http2": http2})
    srv = servers.new(text=render_conf_lists(s)).start()
    dom, err = chromium_dump(chromium, f"https://localhost:{tls_port(srv)}/",
                             f"--ignore-certificate-errors-spki-list={leaf.spki_sha256()}",
                             "--host-resolver-rules=MAP localhost 127.0.0.1")
    assert "Grüße aus dem HTML" in dom, (dom, err[-2000:])
    assert (f"loaded over https: {proto} color=rgb(1, 2, 3) "
            f"assets: /app.js={proto} /style.css={proto}") in dom, (dom, err[-2000:])
