"""No spelling of ".." and no symbolic link reaches a file outside the
document root; symbolic links that stay inside it are followed."""

import os

import pytest

from rhtest import Client, write_files

SECRET = b"OUTSIDE-SECRET-5d1c7e0b"
PASSWD_MARK = b"root:x:0:0"
INSIDE = {
    "a.html": b"<p>inside a</p>\n",
    "sub/index.html": b"<p>inside sub</p>\n",
    "sub/deeper/x.txt": b"deep inside\n",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """INSIDE, beside it a directory outside the root, and symbolic links."""
    base = tmp_path_factory.mktemp("traversal")
    root, outside = base / "root", base / "outside"
    write_files(root, INSIDE)
    write_files(outside, {"secret.txt": SECRET + b"\n", "index.html": SECRET + b" index\n"})
    links = {
        "escape_abs": str(outside / "secret.txt"),
        "escape_rel": "../outside/secret.txt",
        "escape_dir": "../outside",
        "escape_abs_dir": str(outside),
        "sub/escape_up": "../../outside/secret.txt",
        "passwd": "/etc/passwd",
        "proc_root": "/proc/self/root/etc/passwd",
        "link.html": "a.html",
        "sub/link_up.html": "../a.html",
        "sublink": "sub",
    }
    for name, target in links.items():
        os.symlink(target, root / name)
    return root


TARGETS = [
    "/../outside/secret.txt",
    "/../../../../../../../../etc/passwd",
    "/sub/../../outside/secret.txt",
    "/sub/deeper/../../../outside/secret.txt",
    "/./../outside/secret.txt",
    "//../outside/secret.txt",
    "/..",
    "/../",
    "/%2e%2e/outside/secret.txt",
    "/%2E%2E/outside/secret.txt",
    "/.%2e/outside/secret.txt",
    "/%2e./outside/secret.txt",
    "/..%2foutside%2fsecret.txt",
    "/%2e%2e%2foutside%2fsecret.txt",
    "/%2e%2e%2F%2e%2e%2Fetc%2Fpasswd",
    "/sub/%2e%2e/%2e%2e/outside/secret.txt",
    "/sub%2f..%2f..%2foutside%2fsecret.txt",
    "/%252e%252e/outside/secret.txt",
    "/..\\outside\\secret.txt",
    "/..%5coutside%5csecret.txt",
    "/sub\\..\\..\\outside\\secret.txt",
    "/%2fetc%2fpasswd",
    "//etc/passwd",
    "/etc/passwd",
    "../outside/secret.txt",
    "..%2foutside%2fsecret.txt",
    "outside/secret.txt",
    "http://test/../outside/secret.txt",
    "http://test/%2e%2e/outside/secret.txt",
    "/escape_abs",
    "/escape_rel",
    "/escape_dir/secret.txt",
    "/escape_dir/",
    "/escape_dir",
    "/escape_abs_dir/secret.txt",
    "/sub/escape_up",
    "/passwd",
    "/proc_root",
    "/sublink/../../outside/secret.txt",
]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_nothing_outside_the_root(srv, target, method):
    raw = f"{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".encode()
    with Client(srv.port) as c:
        c.send(raw)
        data = c.expect_eof()
    assert SECRET not in data and PASSWD_MARK not in data, data
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None
    assert status in (301, 400, 403, 404), data[:200]


@pytest.mark.parametrize("target,name", [
    ("/link.html", "a.html"),
    ("/sub/link_up.html", "a.html"),
    ("/sublink/", "sub/index.html"),
    ("/sublink/deeper/x.txt", "sub/deeper/x.txt"),
])
def test_symlink_inside_root_is_served(srv, target, name):
    r = srv.fetch(target)
    assert (r.status, r.body) == (200, INSIDE[name])
