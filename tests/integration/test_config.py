"""Command line and configuration: -t, -V, -h, overrides, file:line errors,
the switch to another user, rings and their threads, SQPOLL threads, option
combinations, and reload on SIGHUP."""

import os
import pathlib
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from rhtest import (Client, base_settings, clean_env, ipv6_loopback, one_error, render_conf, req,
                    run_binary, sha, task_status, thread_names, wait_until, write_files)

SHIPPED_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "..", "data", "ringhttpd.conf")
_rnd = random.Random(7)
FILES = {
    "index.html": b"<p>index.html</p>\n",
    "home.htm": b"<p>home.htm comes first in index</p>\n",
    "only-index/index.html": b"<p>only index.html here</p>\n",
    "none/file.txt": b"no index here\n",
    "a.txt": b"the a file\n",
    "readme.md": b"# readme\n",
    "page.html": b"<p>page</p>\n",
    "style.css": b"p { color: red }\n",
    "doc.odt": b"not really an odt\n",
    "mid.bin": _rnd.randbytes(98620),
    "big.bin": _rnd.randbytes(3 * 1024 * 1024 + 17),
}


def cpus():
    return sorted(os.sched_getaffinity(0))


def need_cpus(n):
    if len(cpus()) < n:
        pytest.skip(f"needs {n} CPUs in the affinity mask, has {len(cpus())}")


# ------------------------------------------------------------ command line

def test_version(binary):
    rc, out, err = run_binary(binary, ["-V"])
    assert rc == 0 and re.fullmatch(r"ringhttpd \d+\.\d+\S*\n", out), (out, err)


def test_version_agrees_with_the_release_files(binary):
    """configure.ac, NEWS, debian/changelog, the rpm spec's Version and
    %changelog, and --version name the same release."""
    top = pathlib.Path(os.environ.get("top_srcdir", pathlib.Path(__file__).parents[2]))
    version = re.search(r"AC_INIT\(\[ringhttpd\], \[([^]]+)\]",
                        (top / "configure.ac").read_text()).group(1)
    deb = re.match(r"ringhttpd \(([^)-]+)-\d+\)", (top / "debian/changelog").read_text())
    spec = (top / "rpm/ringhttpd.spec").read_text()
    rpm_version = re.search(r"^Version:\s*(\S+)$", spec, re.M).group(1)
    rpm_log = re.search(r"^%changelog\n\* .* - ([^-\s]+)-\d+$", spec, re.M).group(1)
    news = re.search(r"^\* (\S+)$", (top / "NEWS").read_text(), re.M).group(1)
    rc, out, err = run_binary(binary, ["--version"])
    assert rc == 0, err
    assert (deb.group(1), rpm_version, rpm_log, news, out) == \
        (version, version, version, version, f"ringhttpd {version}\n")


def test_help(binary):
    rc, out, _ = run_binary(binary, ["-h"])
    assert rc == 0
    for flag in ("-c", "-t", "--root", "--listen", "--cpu-limit", "-V"):
        assert flag in out, flag


def test_unknown_option(binary):
    rc, _, err = run_binary(binary, ["--no-such-option"])
    assert rc != 0 and err.strip()


# --------------------------------------------------------- configuration

def test_check_good_config(binary, root, tmp_path):
    conf = tmp_path / "good.conf"
    settings = base_settings(root)
    settings.update(cpu_limit=1, share_ring_backend=False, enable_sq_poll=False,
                    register_buffers=True, ring_entries=256, buffer_size=8192,
                    splice_threshold=65536, index=["home.htm", "index.html"],
                    keepalive_timeout=5, header_timeout=2, send_timeout=3, max_connections=100,
                    access_log="off", log_level="notice", types={"md": "text/markdown"},
                    max_connections_per_ip=8, file_cache_max_file=0, buffer_count=4,
                    max_ranges=64)
    conf.write_text(render_conf(settings) + "file_cache_size = 8589934592L;\n")
    rc, _, err = run_binary(binary, ["-t", "-c", str(conf)])
    assert rc == 0, err
    assert f"{conf}: configuration OK" in err


def test_check_shipped_config(binary, root):
    """data/ringhttpd.conf, which documents every key, is valid. (Its user,
    www-data, is not that of every system, nor can it read the test's root.)"""
    rc, _, err = run_binary(binary, ["-t", "-c", SHIPPED_CONF, "--root", str(root), "--user", ""])
    assert rc == 0, err


BAD = [  # id, the offending line, the key the message must name
    ("unknown-key", "bogus_key = 1;", "bogus_key"),
    ("int-as-string", 'cpu_limit = "two";', "cpu_limit"),
    ("bool-as-int", "enable_sq_poll = 1;", "enable_sq_poll"),
    ("string-for-list", 'index = "index.html";', "index"),
    ("list-for-string", 'access_log = [ "off" ];', "access_log"),
    ("not-a-power-of-two", "ring_entries = 1000;", "ring_entries"),
    ("buffer-too-small", "buffer_size = 100;", "buffer_size"),
    ("zero-timeout", "keepalive_timeout = 0;", "keepalive_timeout"),
    ("negative", "header_timeout = -5;", "header_timeout"),
    ("unknown-level", 'log_level = "loud";', "log_level"),
    ("bad-index", 'index = [ "a/b.html" ];', "index"),
    ("relative-log", 'access_log = "relative.log";', "access_log"),
    ("type-not-string", "types = { md = 5; };", "md"),
    ("missing-root", 'document_root = "/nonexistent/ringhttpd-test-root";', "document_root"),
    ("negative-per-ip", "max_connections_per_ip = -1;", "max_connections_per_ip"),
    ("negative-cache", "file_cache_size = -1;", "file_cache_size"),
    ("too-few-buffers", "buffer_count = 3;", "buffer_count"),
    ("too-many-buffers", "buffer_count = 65537;", "buffer_count"),
    ("no-ranges", "max_ranges = 0;", "max_ranges"),
    ("too-many-ranges", "max_ranges = 1001;", "max_ranges"),
    ("cache-max-as-string", 'file_cache_max_file = "big";', "file_cache_max_file"),
    ("relative-root", 'document_root = "var/www/html";', "document_root"),
    ("index-dot-dot", 'index = [ "index.html", ".." ];', "index"),
    ("index-dot", 'index = [ "." ];', "index"),
    ("type-vertical-tab", 'types = { md = "text/markdown\\x0b"; };', "md"),
    ("type-escape", 'types = { md = "text/\\x1bmarkdown"; };', "md"),
    ("server-key-in-a-site", 'sites = ( { server_name = "a.test"; document_root = "/"; '
     'max_ranges = 2; } );', "max_ranges"),
    ("no-h2-streams", "http2_max_streams = 0;", "http2_max_streams"),
    ("too-many-h2-streams", "http2_max_streams = 1001;", "http2_max_streams"),
    ("h2-streams-as-string", 'http2_max_streams = "128";', "http2_max_streams"),
    ("h2-as-string", 'http2 = "yes";', "http2"),
    ("h2-as-int", "http2 = 1;", "http2"),
    ("h2-in-a-site", 'sites = ( { server_name = "a.test"; document_root = "/"; '
     'http2 = false; } );', "http2"),
]


def bad_conf(root, line):
    """A configuration whose line 5 is LINE, or whose document_root or
    listen line is LINE when LINE sets one of them; returns the text and
    the number of the bad line."""
    lines = ["# one mistake below", f'document_root = "{root}";',
             'listen = [ "127.0.0.1:0" ];', 'user = "";']
    key = line.split()[0]
    n = next((i for i, ln in enumerate(lines) if ln.split()[0] == key), len(lines))
    lines[n:n + 1] = [line]
    return "\n".join(lines) + "\n", n + 1


def check_conf(binary, path, root, line):
    """Run -t on a configuration with LINE; returns (status, stderr, line number)."""
    text, n = bad_conf(root, line)
    path.write_text(text)
    rc, _, err = run_binary(binary, ["-t", "-c", str(path)])
    return rc, err, n


@pytest.mark.parametrize("line,key", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_check_bad_config(binary, root, tmp_path, line, key):
    conf = tmp_path / "bad.conf"
    rc, err, n = check_conf(binary, conf, root, line)
    assert rc == 1, err
    one_error(err, conf, n, key)


@pytest.mark.parametrize("listen", ['listen = "127.0.0.1:80";', 'listen = [ "no-port-here" ];'])
def test_check_bad_listen(binary, root, tmp_path, listen):
    conf = tmp_path / "bad.conf"
    rc, err, n = check_conf(binary, conf, root, listen)
    assert rc == 1 and re.search(rf"{re.escape(str(conf))}:{n}: .*\blisten\b", err), err


def test_check_syntax_error(binary, root, tmp_path):
    conf = tmp_path / "broken.conf"
    rc, err, n = check_conf(binary, conf, root, "cpu_limit = ;")
    assert rc == 1 and re.search(rf"{re.escape(str(conf))}:{n}: ", err), err


def test_check_missing_file(binary, tmp_path):
    conf = tmp_path / "absent.conf"
    rc, _, err = run_binary(binary, ["-t", "-c", str(conf)])
    assert rc == 1 and str(conf) in err, err


def test_start_with_bad_config_fails(servers, root):
    text, n = bad_conf(root, "bogus_key = 1;")
    srv = servers.new(text=text).start(wait_ready=False)
    srv.expect_exit(1)
    assert re.search(rf"{re.escape(srv.conf)}:{n}: .*\bbogus_key\b", srv.stderr())


def test_command_line_overrides_file(servers, root, tmp_path, taken_port):
    """--root and --listen replace document_root and listen of the file:
    the file names a port that is taken and a root with other content."""
    other = tmp_path / "other"
    write_files(other, {"a.txt": b"the file's root\n"})
    srv = servers.new(base_settings(other) | {"listen": [f"127.0.0.1:{taken_port}"]},
                      args=["--root", str(root), "--listen", "127.0.0.1:0"]).start()
    assert srv.port != taken_port
    assert srv.fetch("/a.txt").body == FILES["a.txt"]


def test_listen_ipv4_and_ipv6(servers, root):
    if not ipv6_loopback():
        pytest.skip("no IPv6 loopback address")
    srv = servers.start(root, args=["--listen", "127.0.0.1:0", "--listen", "[::1]:0"])
    hosts = sorted(h for h, _ in srv.addrs)
    assert hosts == ["127.0.0.1", "::1"], srv.addrs
    for host, port in srv.addrs:
        with Client(port, host) as c:
            c.send(req("/a.txt"))
            assert c.response().body == FILES["a.txt"]


def test_types_and_index(servers, root):
    srv = servers.start(root, {
        "types": {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8",
                  "odt": "application/x-test-odt"},
        "index": ["home.htm", "index.html"]})
    expected = {"/readme.md": "text/markdown; charset=utf-8",     # over /etc/mime.types
                "/page.html": "text/html; charset=utf-8",         # over the built-in table
                "/doc.odt": "application/x-test-odt",
                "/style.css": "text/css"}                         # not overridden
    for target, ctype in expected.items():
        assert srv.fetch(target)["Content-Type"] == ctype, target
    assert srv.fetch("/").body == FILES["home.htm"]
    assert srv.fetch("/only-index/").body == FILES["only-index/index.html"]
    assert srv.fetch("/none/").status == 403


def test_small_buffer_limits_the_head(servers, root):
    srv = servers.start(root, {"buffer_size": 4096})
    assert srv.fetch("/a.txt", headers={"X-Pad": "x" * 3000}).body == FILES["a.txt"]
    with Client(srv.port) as c:
        c.send(req("/a.txt", headers={"X-Pad": "x" * 5000}))
        assert c.response().status == 431


# ------------------------------------------------------ user, rings, threads

@pytest.fixture(scope="module")
def public_root():
    """A root that the user nobody can read (the pytest temporary
    directories are private to root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch users")
    root = tempfile.mkdtemp(prefix="ringhttpd-public-")
    try:
        os.chmod(root, 0o755)
        write_files(root, {"a.txt": FILES["a.txt"]})
        yield root
    finally:
        shutil.rmtree(root)


@pytest.mark.parametrize("sq", [False, True], ids=["plain", "sqpoll"])
def test_switch_to_user(servers, public_root, sq):
    """Every thread, the kernel's SQPOLL thread included, runs as nobody."""
    nobody = pwd.getpwnam("nobody")
    groups = set(os.getgrouplist("nobody", nobody.pw_gid))
    # registered buffers are locked memory, which nobody may lack
    # (test_start_failure_with_little_locked_memory covers that)
    srv = servers.start(public_root, {"user": "nobody", "enable_sq_poll": sq,
                                      "register_buffers": False})
    assert srv.fetch("/a.txt").body == FILES["a.txt"]
    for tid, st in task_status(srv.pid).items():
        who = f"thread {tid} ({st['Name']})"
        assert set(st["Uid"].split()) == {str(nobody.pw_uid)}, (who, st["Uid"])
        assert set(st["Gid"].split()) == {str(nobody.pw_gid)}, (who, st["Gid"])
        assert set(map(int, st["Groups"].split())) <= groups, (who, st["Groups"])
    srv.stop()


def test_start_failure_with_little_locked_memory(servers, public_root):
    """As nobody with 4 MiB of locked memory, enough for the rings but not
    for the registered buffer pool: the server serves (having lifted the
    limit or left the buffers unregistered) or exits 1 naming
    register_buffers -- it never crashes."""
    if shutil.which("prlimit") is None:
        pytest.skip("prlimit (util-linux) is not installed")
    srv = servers.new(base_settings(public_root) | {"user": "nobody", "register_buffers": True},
                      wrapper=["prlimit", "--memlock=4194304:4194304", "--"])
    srv.start(wait_ready=False)
    i, m = srv.wait_line(r"^notice: ready |^error: .*register_buffers")
    if m.group(0).startswith("error"):
        srv.expect_exit(1)
    else:
        assert srv.wait_ready().fetch("/a.txt").body == FILES["a.txt"]
        srv.stop()


FAILING_PTHREAD_CREATE = r"""
#include <errno.h>
#include <pthread.h>
/* pthread_create returns its error and need not set errno: this one leaves
 * errno saying something else. */
int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*f)(void *), void *arg)
{
	(void)t, (void)a, (void)f, (void)arg;
	errno = EPERM;
	return EAGAIN;
}
"""


def test_start_failure_names_the_thread_error(servers, root, tmp_path):
    """A ring whose thread cannot be made: the message gives
    pthread_create's returned error, not whatever errno holds."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("a C compiler is needed to build the failing pthread_create")
    (tmp_path / "shim.c").write_text(FAILING_PTHREAD_CREATE)
    shim = tmp_path / "shim.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(shim), str(tmp_path / "shim.c")], check=True)
    srv = servers.new(base_settings(root) | {"cpu_limit": 1},
                      wrapper=["env", f"LD_PRELOAD={shim}", "ASAN_OPTIONS=verify_asan_link_order=0"])
    srv.start(wait_ready=False)
    srv.expect_exit(1)
    assert re.search(r"(?m)^error: cannot start ring 0: Resource temporarily unavailable$",
                     srv.stderr()), srv.stderr()


def test_start_failure_port_taken(servers, root, taken_port):
    srv = servers.new(base_settings(root) | {"listen": [f"127.0.0.1:{taken_port}"]})
    srv.start(wait_ready=False)
    srv.expect_exit(1)
    assert re.search(rf"(?m)^error: .*127\.0\.0\.1:{taken_port}", srv.stderr())


@pytest.mark.parametrize("n", [1, 2])
def test_cpu_limit_rings_and_pinning(servers, root, n):
    need_cpus(n)
    srv = servers.start(root, {"cpu_limit": 3 - n}, args=["--cpu-limit", str(n)])
    assert srv.rings == n
    rings = {st["Name"]: st for st in task_status(srv.pid).values()
             if st["Name"].startswith("ringhttpd-ring")}
    assert sorted(rings) == [f"ringhttpd-ring{i}" for i in range(n)]
    pinned = [st["Cpus_allowed_list"] for st in rings.values()]
    assert all(re.fullmatch(r"\d+", p) and int(p) in cpus() for p in pinned), pinned
    assert len(set(pinned)) == n, pinned
    assert srv.fetch("/a.txt").body == FILES["a.txt"]


@pytest.mark.parametrize("sq,share,threads", [
    (False, True, 0), (False, False, 0), (True, True, 1), (True, False, 2),
], ids=["no-sqpoll", "no-sqpoll-unshared", "sqpoll-shared", "sqpoll-unshared"])
def test_sqpoll_threads(servers, root, sq, share, threads):
    need_cpus(2)
    srv = servers.start(root, {"cpu_limit": 2, "enable_sq_poll": sq, "share_ring_backend": share})
    assert sha(srv.fetch("/mid.bin").body) == sha(FILES["mid.bin"])

    def sqp():
        return sum(name.startswith("iou-sqp-") for name in thread_names(srv.pid))
    if threads:
        wait_until(lambda: sqp() >= threads, 5, f"{threads} iou-sqp threads")
    assert sqp() == threads, thread_names(srv.pid)


OPTION_SETS = [
    {},
    {"register_buffers": False},
    {"enable_sq_poll": True},
    {"enable_sq_poll": True, "share_ring_backend": False, "register_buffers": False},
    {"share_ring_backend": False},
    {"splice_threshold": 1 << 20},
    {"splice_threshold": 1},
    {"buffer_size": 4096, "ring_entries": 64},
    {"buffer_size": 1 << 20},
    {"cpu_limit": 1},
]


@pytest.mark.parametrize("options", OPTION_SETS,
                         ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "defaults")
def test_option_sets_serve_exact_bytes(servers, root, options):
    srv = servers.start(root, options)
    names = ["a.txt", "mid.bin", "big.bin", "a.txt", "big.bin", "mid.bin"]
    with srv.client() as c:
        c.send(b"".join(req("/" + n) for n in names))
        for n in names:
            assert sha(c.response().body) == sha(FILES[n]), n
        c.send(req("/big.bin", headers={"Range": "bytes=100000-2999999"}))
        r = c.response()
        assert (r.status, sha(r.body)) == (206, sha(FILES["big.bin"][100000:3000000]))


# ------------------------------------------------------------------ reload

def test_sighup_reload(servers, tmp_path):
    roots = {}
    for name in ("A", "B"):
        roots[name] = tmp_path / f"root{name}"
        write_files(roots[name], {"x.txt": f"served from {name}\n".encode(), "r.md": b"# md\n"})
    srv = servers.start(roots["A"])
    with Client(srv.port) as before:
        before.send(req("/x.txt"))
        assert before.response().body == b"served from A\n"

        new = base_settings(roots["B"])
        new["types"] = {"md": "text/x-reloaded"}
        srv.write_conf(new)
        mark = srv.line_count()
        srv.signal(signal.SIGHUP)
        srv.wait_line(rf"^notice: configuration reloaded: serving {re.escape(str(roots['B']))}$",
                      10, mark)
        wait_until(lambda: srv.fetch("/x.txt").body == b"served from B\n", 10, "the new root")
        assert srv.fetch("/r.md")["Content-Type"] == "text/x-reloaded"
        # a connection opened before the reload still works
        before.send(req("/x.txt"))
        assert before.response().body in (b"served from A\n", b"served from B\n")

    for broken in ("document_root = ;\n", render_conf(base_settings(roots["A"])) + "bogus = 1;\n"):
        mark = srv.line_count()
        srv.write_conf(text=broken)
        srv.signal(signal.SIGHUP)
        srv.wait_line(re.escape(srv.conf) + r":\d+: ", timeout=10, start=mark)
        assert srv.fetch("/x.txt").body == b"served from B\n"
        assert srv.fetch("/r.md")["Content-Type"] == "text/x-reloaded"

    srv.write_conf(base_settings(roots["A"]))
    srv.signal(signal.SIGHUP)
    wait_until(lambda: srv.fetch("/x.txt").body == b"served from A\n", 10, "the first root again")
    srv.stop()


def test_sighup_names_the_keys_that_need_a_restart(servers, root):
    """A reload applies what it can and names each changed key the table
    marks restart-only; one that changes none of them says nothing."""
    settings = base_settings(root) | {"cpu_limit": 1}
    srv = servers.start(root, settings)
    mark = srv.line_count()
    srv.write_conf(settings | {"cpu_limit": 2, "max_connections_per_ip": 5,
                               "max_connections_per_ip_v6_prefix": 48, "send_timeout": 7})
    srv.signal(signal.SIGHUP)
    i, m = srv.wait_line(r"^warning: reload: .*", timeout=10, start=mark)
    assert m.group(0) == ("warning: reload: cpu_limit, max_connections_per_ip, "
                          "max_connections_per_ip_v6_prefix change only with a restart"), m.group(0)
    srv.wait_line(r"configuration reloaded", timeout=10, start=i)
    mark = srv.line_count()
    srv.write_conf(settings | {"send_timeout": 9, "listing_max_entries": 3})
    srv.signal(signal.SIGHUP)
    srv.wait_line(r"configuration reloaded", timeout=10, start=mark)
    assert not re.search(r"(?m)^warning: reload:", "\n".join(srv.stderr().splitlines()[mark:]))
    assert srv.fetch("/a.txt").body == FILES["a.txt"]
    srv.stop()


# ------------------------------------------------- -t: what start-up checks

def check_t(binary, conf, settings, args=(), wrapper=()):
    conf.write_text(render_conf(settings))
    p = subprocess.run([*wrapper, binary, "-t", "-c", str(conf), *args], capture_output=True,
                       text=True, env=clean_env(), timeout=60)
    return p.returncode, p.stderr


def line_of(conf, key):
    return next(i for i, ln in enumerate(conf.read_text().splitlines(), 1)
                if ln.startswith(key + " "))


def test_check_missing_user(binary, root, tmp_path):
    conf = tmp_path / "c.conf"
    rc, err = check_t(binary, conf, base_settings(root) | {"user": "nosuchuser"})
    assert (rc, err) == (1, f"{conf}:{line_of(conf, 'user')}: user: nosuchuser: no such user\n")
    rc, err = check_t(binary, conf, base_settings(root), ["--user", "nosuchuser"])
    assert (rc, err) == (1, "--user: nosuchuser: no such user\n")


def test_check_root_from_the_command_line(binary, root, tmp_path):
    conf = tmp_path / "c.conf"
    rc, err = check_t(binary, conf, base_settings(root), ["--root", "/nonexistent/rh-root"])
    assert (rc, err) == (1, "--root: /nonexistent/rh-root: No such file or directory\n")


def test_check_access_log_directory(binary, root, tmp_path):
    conf = tmp_path / "c.conf"
    log = tmp_path / "missing" / "access.log"
    rc, err = check_t(binary, conf, base_settings(root) | {"access_log": str(log)})
    assert (rc, err) == (1, f"{conf}:{line_of(conf, 'access_log')}: access_log: "
                            f"{log.parent}: No such file or directory\n")
    log.parent.mkdir()
    rc, err = check_t(binary, conf, base_settings(root) | {"access_log": str(log)})
    assert rc == 0, err
    # a directory where the file should be: start-up could not append to it
    log.mkdir()
    rc, err = check_t(binary, conf, base_settings(root) | {"access_log": str(log)})
    assert (rc, err) == (1, f"{conf}:{line_of(conf, 'access_log')}: access_log: "
                            f"{log}: Is a directory\n")


def test_start_access_log_directory(servers, root, tmp_path):
    """Start-up refuses it with the same line as -t."""
    srv = servers.new(base_settings(root) | {"access_log": str(tmp_path)}).start(wait_ready=False)
    srv.expect_exit(1)
    assert re.search(rf"(?m)^error: {re.escape(srv.conf)}:\d+: access_log: "
                     rf"{re.escape(str(tmp_path))}: Is a directory$", srv.stderr()), srv.stderr()


def test_check_relative_root_from_the_command_line(binary, root, tmp_path):
    """A relative --root is taken from the working directory."""
    conf = tmp_path / "c.conf"
    conf.write_text(render_conf(base_settings(root)))
    p = subprocess.run([binary, "-t", "-c", str(conf), "--root", root.name], cwd=root.parent,
                       capture_output=True, text=True, env=clean_env(), timeout=60)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([binary, "-t", "-c", str(conf), "--root", "no-such-dir"], cwd=tmp_path,
                       capture_output=True, text=True, env=clean_env(), timeout=60)
    assert (p.returncode, p.stderr) == (1, f"--root: {tmp_path}/no-such-dir: "
                                           "No such file or directory\n")


def test_check_root_unreadable_by_the_user(binary, servers, public_root, tmp_path):
    """A root that nobody cannot search: -t says so, naming the user, and
    start-up fails instead of answering 403 to everything."""
    private = os.path.join(public_root, "private")
    os.mkdir(private, 0o700)
    conf = tmp_path / "c.conf"
    settings = base_settings(private) | {"user": "nobody", "register_buffers": False}
    rc, err = check_t(binary, conf, settings)
    assert (rc, err) == (1, f"{conf}:{line_of(conf, 'document_root')}: document_root: "
                            f"{private}: Permission denied (as user nobody)\n")
    srv = servers.new(settings).start(wait_ready=False)
    srv.expect_exit(1)
    assert f"{private}: Permission denied" in srv.stderr(), srv.stderr()
    os.chmod(private, 0o755)
    assert check_t(binary, conf, settings)[0] == 0


def test_check_registered_buffers_over_memlock(binary, public_root, tmp_path):
    """As a user whose RLIMIT_MEMLOCK cannot hold the registered buffers:
    -t passes and states the fallback."""
    if shutil.which("setpriv") is None or shutil.which("prlimit") is None:
        pytest.skip("setpriv and prlimit (util-linux) are needed")
    conf = pathlib.Path(public_root) / "memlock.conf"     # readable by nobody
    settings = base_settings(public_root) | {"register_buffers": True, "buffer_size": 65536}
    wrapper = ["prlimit", "--memlock=65536:65536", "--", "setpriv", "--reuid=nobody",
               "--regid=nogroup", "--clear-groups", "--"]
    rc, err = check_t(binary, conf, settings, wrapper=wrapper)
    assert rc == 0, err
    assert re.fullmatch(rf"warning: {re.escape(str(conf))}:{line_of(conf, 'register_buffers')}: "
                        r"register_buffers: \d+ KiB per ring "
                        r"exceed RLIMIT_MEMLOCK \(64 KiB\); start-up will leave the buffers "
                        r"unregistered \(raise LimitMEMLOCK= or the memlock limit\)\n"
                        rf"{re.escape(str(conf))}: configuration OK\n", err), err


def test_check_file_cache_max_file_fits(binary, root, tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text(render_conf(base_settings(root)) +
                    "file_cache_size = 1048576;\nfile_cache_max_file = 2097152;\n")
    rc, _, err = run_binary(binary, ["-t", "-c", str(conf)])
    assert (rc, err) == (1, f"{conf}:5: file_cache_max_file: file_cache_max_file (2097152) "
                            "exceeds file_cache_size (1048576)\n")
    conf.write_text(render_conf(base_settings(root)) + "file_cache_size = 0;\n"
                    "file_cache_max_file = 2097152;\n")
    assert run_binary(binary, ["-t", "-c", str(conf)])[0] == 0


# ------------------------------------------- max_connections_per_ip for IPv6

V6_NET = "fd00:5eed::"        # a /64 of addresses made on lo for the test
V6_OTHER_NET = "fd00:5eed:0:1::"


@pytest.fixture(scope="module")
def v6_addresses():
    """fd00:5eed::1, ::2 (one /64) and fd00:5eed:0:1::1 (the next /64) on
    lo, removed afterwards."""
    if os.geteuid() != 0 or shutil.which("ip") is None or not ipv6_loopback():
        pytest.skip("needs root, ip (iproute2) and IPv6 on lo to add addresses")
    addrs = [V6_NET + "1", V6_NET + "2", V6_OTHER_NET + "1"]
    added = []
    try:
        for a in addrs:
            p = subprocess.run(["ip", "-6", "addr", "add", a + "/64", "dev", "lo", "nodad"],
                               capture_output=True, text=True)
            if p.returncode != 0:
                pytest.skip(f"cannot add {a} to lo: {p.stderr.strip()}")
            added.append(a)
        yield addrs
    finally:
        for a in added:
            subprocess.run(["ip", "-6", "addr", "del", a + "/64", "dev", "lo"], capture_output=True)


def client_from(port, source, host="::1"):
    """A Client whose connection comes from SOURCE."""
    family = socket.AF_INET6 if ":" in source else socket.AF_INET
    c = Client.__new__(Client)
    c.sock = socket.socket(family, socket.SOCK_STREAM)
    c.sock.settimeout(10)
    c.sock.bind((source, 0))
    c.sock.connect((host, port))
    c.timeout = 10
    c.buf = bytearray()
    return c


def served(port, source, host="::1"):
    """The status a request from SOURCE gets."""
    with client_from(port, source, host) as c:
        c.send(req("/a.txt"))
        return c.response().status


@pytest.mark.parametrize("prefix", [None, 128, 56])
def test_max_connections_per_ip_v6_prefix(servers, root, v6_addresses, prefix):
    """max_connections_per_ip = 2 counts IPv6 clients per /64 by default:
    with two open from fd00:5eed::1, fd00:5eed::2 gets 503 while ::1 and
    the next /64 are served. With a prefix of 128 each address counts
    alone; with 56 the next /64 is in the same network."""
    one, two, other = v6_addresses
    settings = base_settings(root) | {"listen": ["[::1]:0", "127.0.0.1:0"],
                                      "max_connections_per_ip": 2}
    if prefix is not None:
        settings["max_connections_per_ip_v6_prefix"] = prefix
    srv = servers.start(root, settings)
    port6, port4 = srv.addrs[0][1], srv.addrs[1][1]
    held = [client_from(port6, one) for _ in range(2)]
    try:
        for c in held:
            c.send(req("/a.txt"))
            assert c.response().body == FILES["a.txt"]
        same_net = 200 if prefix == 128 else 503
        assert served(port6, two) == same_net
        assert served(port6, other) == (503 if prefix == 56 else 200)
        assert served(port6, "::1") == 200
        # IPv4 is counted per address, whatever the prefix
        held4 = [client_from(port4, "127.0.0.1", "127.0.0.1") for _ in range(2)]
        for c in held4:
            c.send(req("/a.txt"))
            assert c.response().body == FILES["a.txt"]
        assert served(port4, "127.0.0.1", "127.0.0.1") == 503
        assert served(port4, "127.0.0.2", "127.0.0.1") == 200
        for c in held4:
            c.close()
    finally:
        for c in held:
            c.close()
    srv.stop()


def test_check_v6_prefix_bounds(binary, root, tmp_path):
    for bad in ("0", "129", '"64"'):
        rc, err, n = check_conf(binary, tmp_path / "bad.conf", root,
                                f"max_connections_per_ip_v6_prefix = {bad};")
        assert rc == 1 and re.match(rf"^{re.escape(str(tmp_path / 'bad.conf'))}:{n}: "
                                    r"max_connections_per_ip_v6_prefix: ", err), err


def test_check_http2_max_streams_bounds(binary, root, tmp_path):
    """http2_max_streams takes 1 to 1000, as ringhttpd.conf(5) says: both
    ends load, and a value past either is one line naming the range."""
    conf = tmp_path / "h2.conf"
    for good in ("1", "1000"):
        rc, err, _ = check_conf(binary, conf, root, f"http2_max_streams = {good};")
        assert rc == 0, err
    for bad in ("0", "1001"):
        rc, err, n = check_conf(binary, conf, root, f"http2_max_streams = {bad};")
        assert rc == 1
        assert one_error(err, conf, n, "http2_max_streams") == \
            f"{conf}:{n}: http2_max_streams: {bad} is out of range (1 to 1000)"


@pytest.mark.parametrize("value", ["true", "false"])
def test_check_http2_boolean(binary, root, tmp_path, value):
    conf = tmp_path / "h2.conf"
    rc, err, _ = check_conf(binary, conf, root, f"http2 = {value};")
    assert rc == 0, err
