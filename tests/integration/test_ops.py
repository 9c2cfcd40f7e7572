"""Operations: journal entries in journald's native protocol (access log
and the server's own events), entries journald cannot take counted,
Common Log Format escaping, SIGUSR1 reopening the access log and nothing
else, a refused reload changing nothing, and a refused io_uring explained
at start-up, in the journal and in STATUS=."""

import errno
import os
import re
import shutil
import signal
import subprocess

import pytest

from rhtest import (Client, Journal, Notify, base_settings, free_port, render_conf, req,
                    seccomp_wrapper, wait_until)

FILES = {"a.txt": b"the a file\n", "b.txt": b"the b file\n"}
MSGID = {  # src/msgid.h
    "ready": "6735101954484e0ea79e5bf8491e2d27",
    "reloaded": "423b533c80c34ecbabda016b16d3f61b",
    "reload_refused": "bef2eb8c2b6b4d2a8c2f2903baa57390",
    "stopped": "c8a51d6507524b35ab8ad527ab6ac494",
    "uring_refused": "1e60a82db3294796916d41a3875b023a",
}
CLF_RE = re.compile(r'^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] (.*)$')


@pytest.fixture
def journal(tmp_path):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("the stand-in journal needs root and unshare (util-linux)")
    with Journal(tmp_path / "journal") as j:
        yield j


def raw_exchange(port, data):
    """Send DATA on a new connection; return the response's bytes sent."""
    with Client(port) as c:
        c.send(data)
        r = c.response()
    return r, len(r.head) + len(r.body)


def clf_lines(path):
    with open(path, "rb") as f:
        return f.read().decode("latin-1").splitlines()


# ----------------------------------------------------------------- journal

def test_journal_access_log_entry(servers, root, journal):
    """access_log = "journal": one native-protocol datagram per request with
    the request's fields; MESSAGE is escaped as CLF is."""
    srv = servers.new(base_settings(root) | {"access_log": "journal"},
                      wrapper=journal.wrapper()).start()
    target = '/a.txt?q="x"\\y'     # a query RFC 3986 does not allow: 400, logged as sent
    r, sent = raw_exchange(srv.port, req(target, headers={"User-Agent": "ops-test/1.0"}))
    assert r.status == 400
    _, e = journal.wait(lambda f: "REQUEST_PATH" in f)
    assert e == {
        "MESSAGE": f'127.0.0.1 "GET /a.txt?q=\\x22x\\x22\\x5Cy HTTP/1.1" 400 {sent}',
        "PRIORITY": "6", "SYSLOG_IDENTIFIER": "ringhttpd", "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "GET", "REQUEST_PATH": '/a.txt?q=\\x22x\\x22\\x5Cy', "STATUS": "400",
        "BYTES_SENT": str(sent), "DURATION_USEC": e["DURATION_USEC"],
        "USER_AGENT": "",       # the head was not read past its bad request line
    }, e
    assert re.fullmatch(r"\d+", e["DURATION_USEC"]), e
    srv.stop()


def test_journal_fields_escaped(servers, root, journal):
    """USER_AGENT and REQUEST_PATH are escaped as the CLF line is: '"', '\\',
    control bytes and bytes from 0x7f up become \\xHH, so that the fields
    are printable ASCII. The exact bytes of the datagram's fields."""
    srv = servers.new(base_settings(root) | {"access_log": "journal"},
                      wrapper=journal.wrapper()).start()
    agent = 'ua\xff\t"q"\\/1 \x80'
    r, _ = raw_exchange(srv.port, req("/a.txt?x=%22", headers={"User-Agent": agent}))
    assert r.status == 200, r
    i, _ = journal.wait(lambda f: f.get("REQUEST_PATH") == "/a.txt?x=%22")
    fields = dict(journal.entries[i])
    assert fields["USER_AGENT"] == b"ua\\xFF\\x09\\x22q\\x22\\x5C/1 \\x80", fields
    assert fields["REQUEST_PATH"] == b"/a.txt?x=%22", fields
    assert fields["REQUEST_METHOD"] == b"GET", fields
    # a target that is not a valid URI is logged as sent, escaped
    raw_exchange(srv.port, b'GET /a.txt?\xff"\\ HTTP/1.1\r\nHost: test\r\n\r\n')
    i, _ = journal.wait(lambda f: f.get("STATUS") == "400", start=i + 1)
    fields = dict(journal.entries[i])
    assert fields["REQUEST_PATH"] == b"/a.txt?\\xFF\\x22\\x5C", fields
    assert b"\"GET /a.txt?\\xFF\\x22\\x5C HTTP/1.1\" 400 " in fields["MESSAGE"], fields
    srv.stop()


def test_journal_events(servers, root, journal, tmp_path):
    """Start-up, reload (done and refused) and stop carry a MESSAGE_ID and
    fields; the server's own messages go to the journal when stderr is the
    journal stream."""
    port = free_port()
    settings = base_settings(root) | {"listen": [f"127.0.0.1:{port}"], "cpu_limit": 1}
    srv = servers.new(settings, wrapper=journal.wrapper(journal_stream=True))
    srv.start(wait_ready=False)
    i, e = journal.wait(lambda f: f.get("MESSAGE_ID") == MSGID["ready"])
    assert (e["MESSAGE"], e["PRIORITY"], e["CONFIG_FILE"], e["RINGS"], e["LISTEN"]) == \
        ("ready (1 rings)", "5", srv.conf, "1", f"127.0.0.1:{port}"), e
    assert (e["CODE_FILE"], e["CODE_FUNC"]) == ("src/server.c", "log_ready"), e
    assert re.fullmatch(r"\d+", e["CODE_LINE"]), e
    assert raw_exchange(port, req("/a.txt"))[0].body == FILES["a.txt"]

    srv.signal(signal.SIGHUP)
    i, e = journal.wait(lambda f: f.get("MESSAGE_ID") == MSGID["reloaded"], start=i + 1)
    assert (e["MESSAGE"], e["CONFIG_FILE"], e["DOCUMENT_ROOT"]) == \
        (f"configuration reloaded: serving {root}", srv.conf, str(root)), e

    srv.write_conf(text=render_conf(settings) + "bogus = 1;\n")
    srv.signal(signal.SIGHUP)
    i, e = journal.wait(lambda f: f.get("MESSAGE_ID") == MSGID["reload_refused"], start=i + 1)
    line = len(render_conf(settings).splitlines()) + 1
    assert e["MESSAGE"] == ("reload failed, keeping the running configuration: "
                            f"{srv.conf}:{line}: bogus: unknown key"), e
    assert (e["PRIORITY"], e["CONFIG_FILE"]) == ("3", srv.conf), e

    with Client(port) as c:
        for _ in range(2):
            c.send(req("/b.txt"))
            assert c.response().body == FILES["b.txt"]
    srv.signal(signal.SIGTERM)
    i, e = journal.wait(lambda f: f.get("MESSAGE_ID") == MSGID["stopped"], start=i + 1)
    assert (e["MESSAGE"], e["CONFIG_FILE"], e["REQUESTS"]) == ("stopped", srv.conf, "3"), e
    srv.expect_exit(0)
    assert srv.stderr() == "", "messages went to stderr, not to the journal:\n" + srv.stderr()


def test_journal_drops_are_counted(servers, root, journal):
    """A journald that does not read: entries are dropped, never waited
    for; every request is answered, and the entries received plus the
    count in STATUS= are the requests made. One warning says so."""
    requests = 60       # the kernel queues at most net.unix.max_dgram_qlen datagrams
    with Notify() as n:
        srv = servers.new(base_settings(root) | {"access_log": "journal"},
                          env={"NOTIFY_SOCKET": n.address}, wrapper=journal.wrapper()).start()
        with Client(srv.port) as c:
            for _ in range(requests):
                c.send(req("/a.txt"))
                assert c.response().body == FILES["a.txt"]

        def latest_status():
            try:    # one more message, if one comes soon
                n.wait("STATUS", timeout=0.5, start=len(n.messages))
            except AssertionError:
                pass
            return next((m["STATUS"] for m in reversed(n.messages) if "STATUS" in m), "")

        def accounted():
            received = len(journal.drain())
            found = re.search(r", (\d+) journal entries dropped$", latest_status())
            dropped = int(found.group(1)) if found else 0
            return (received, dropped) if received + dropped == requests else None
        try:
            received, dropped = wait_until(accounted, 30, "STATUS= to account for every entry")
        finally:
            srv.stop()
    assert dropped > 0 and received > 0, (received, dropped)
    warnings = [ln for ln in srv.stderr().splitlines() if "journal:" in ln]
    assert len(warnings) == 1, srv.stderr()
    assert re.fullmatch(r"warning: journal: \d+ entries dropped so far \(Resource temporarily "
                        r"unavailable\): journald did not take them at once", warnings[0]), \
        warnings


def test_uring_refused_explained_everywhere(servers, root, journal, binary):
    """io_uring_setup refused (a container's seccomp profile): start-up
    fails with the cause and the remedy, the same text in stderr, in the
    journal (with its MESSAGE_ID) and in STATUS=, and -t says it too."""
    settings = base_settings(root)
    with Notify() as n:
        srv = servers.new(settings, env={"NOTIFY_SOCKET": n.address},
                          wrapper=journal.wrapper() + seccomp_wrapper(errno.EPERM))
        srv.start(wait_ready=False)
        srv.expect_exit(1)
        _, status = n.wait("STATUS", timeout=5)
    lines = srv.stderr().splitlines()
    assert lines[-1].startswith("error: io_uring is refused (Operation not permitted)"), lines
    text = lines[-1][len("error: "):]
    assert "seccomp" in text and "io_uring_setup" in text, text
    assert status["STATUS"] == text
    check = servers.new(settings, args=["-t"], wrapper=seccomp_wrapper(errno.EPERM))
    check.start(wait_ready=False)
    check.expect_exit(1)
    assert check.stderr() == text

    srv = servers.new(settings, wrapper=journal.wrapper(journal_stream=True)
                      + seccomp_wrapper(errno.EPERM))
    srv.start(wait_ready=False)
    srv.expect_exit(1)
    _, e = journal.wait(lambda f: f.get("MESSAGE_ID") == MSGID["uring_refused"])
    assert (e["MESSAGE"], e["PRIORITY"], e["CONFIG_FILE"]) == (text, "3", srv.conf), e


@pytest.mark.parametrize("disabled,err,words", [
    (None, errno.ENOSYS, ["Function not implemented", "5.19"]),
    ("1", errno.EPERM, ["kernel.io_uring_disabled = 1", "kernel.io_uring_group (-1)"]),
    ("2", errno.EPERM, ["kernel.io_uring_disabled = 2", "set it to 0"]),
], ids=["enosys", "disabled-1", "disabled-2"])
def test_uring_refusal_causes(servers, root, tmp_path, disabled, err, words):
    """-t names the cause: the sysctl's value (a stand-in file mounted over
    it in a mount namespace of the server's own) or a kernel without
    io_uring."""
    wrapper = seccomp_wrapper(err)
    if disabled is not None:
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            pytest.skip("needs root and unshare (util-linux)")
        if not os.path.exists("/proc/sys/kernel/io_uring_disabled"):
            pytest.skip("this kernel has no kernel.io_uring_disabled sysctl (Linux 6.6 and later)")
        (tmp_path / "disabled").write_text(disabled + "\n")
        (tmp_path / "group").write_text("-1\n")
        wrapper = ["unshare", "-m", "--propagation", "private", "--", "sh", "-c",
                   'mount --bind "$0/disabled" /proc/sys/kernel/io_uring_disabled && '
                   'mount --bind "$0/group" /proc/sys/kernel/io_uring_group && exec "$@"',
                   str(tmp_path)] + wrapper
    check = servers.new(base_settings(root), args=["-t"], wrapper=wrapper)
    check.start(wait_ready=False)
    check.expect_exit(1)
    for w in words:
        assert w in check.stderr(), check.stderr()


# -------------------------------------------------------------- access log

def test_clf_escaping(servers, root, tmp_path):
    """'"', '\\', control bytes and bytes >= 0x7f become \\xHH, as nginx
    writes them."""
    log = tmp_path / "access.log"
    srv = servers.start(root, {"access_log": str(log)})
    r, _ = raw_exchange(srv.port, req('/no"such\\file'))
    assert r.status == 400      # a backslash is no part of a path here
    for raw in (b"GET /ctl\x01x HTTP/1.1\r\nHost: t\r\n\r\n",
                b"GET /hi\xe9gh HTTP/1.1\r\nHost: t\r\n\r\n"):
        with Client(srv.port) as c:
            c.send(raw)
            assert c.response().status == 400
    srv.stop()      # the final flush writes what is buffered
    lines = [CLF_RE.match(ln) for ln in clf_lines(log)]
    assert all(lines), clf_lines(log)
    rest = [m.group(1) for m in lines]
    assert rest[0] == '"GET /no\\x22such\\x5Cfile HTTP/1.1" 400 ' + rest[0].split()[-1], rest
    assert rest[1].startswith('"GET /ctl\\x01x HTTP/1.'), rest
    assert rest[2].startswith('"GET /hi\\xE9gh HTTP/1.'), rest


def test_clf_counts_builtin_error_bodies(servers, root, tmp_path):
    """The body size in a CLF line counts a built-in error page's body (a
    404 is not "404 0"), and a file's body without its head."""
    log = tmp_path / "access.log"
    srv = servers.start(root, {"access_log": str(log)})
    with Client(srv.port) as c:
        c.send(req("/missing"))
        missing = c.response()
        c.send(req("/a.txt"))
        found = c.response()
    assert missing.status == 404 and len(missing.body) > 0
    assert found.status == 200
    srv.stop()
    rest = [CLF_RE.match(ln).group(1) for ln in clf_lines(log)]
    assert rest == [f'"GET /missing HTTP/1.1" 404 {len(missing.body)}',
                    f'"GET /a.txt HTTP/1.1" 200 {len(found.body)}'], rest


# ----------------------------------------------------------------- signals

def test_sigusr1_reopens_the_log_and_nothing_else(servers, root, tmp_path):
    """After a rotation (rename), SIGUSR1 makes the server write to a new
    file of the configured name, even with a broken configuration on disk,
    which it does not read; systemd is not told RELOADING=1."""
    log = tmp_path / "access.log"
    with Notify() as n:
        srv = servers.start(root, {"access_log": str(log)}, env={"NOTIFY_SOCKET": n.address})
        n.wait("READY", "1")
        assert srv.fetch("/a.txt").body == FILES["a.txt"]
        wait_until(lambda: log.exists() and len(clf_lines(log)) == 1, 10, "the first line")
        os.rename(log, tmp_path / "access.log.1")
        srv.write_conf(text="document_root = ;\n")
        mark = srv.line_count()
        srv.signal(signal.SIGUSR1)
        srv.wait_line(rf"^notice: access log {re.escape(str(log))} reopened$", 10, mark)
        assert srv.fetch("/b.txt").body == FILES["b.txt"]
        wait_until(lambda: log.exists() and len(clf_lines(log)) == 1, 10, "a line in the new file")
        srv.stop()
        assert not [m for m in n.messages if "RELOADING" in m], n.messages
    old, new = clf_lines(tmp_path / "access.log.1"), clf_lines(log)
    assert CLF_RE.match(old[0]).group(1) == '"GET /a.txt HTTP/1.1" 200 11', old
    assert CLF_RE.match(new[0]).group(1) == '"GET /b.txt HTTP/1.1" 200 11', new
    assert len(old) == 1 and len(new) == 1, (old, new)
    assert not re.search(r"reload|ringhttpd\.conf", srv.stderr()[srv.stderr().find("reopened"):]), \
        srv.stderr()


def test_refused_reload_keeps_log_level(servers, root, tmp_path):
    """A reload that fails after its file was read (the new access log
    cannot be opened) keeps the running log_level: the notice on stop is
    still written."""
    srv = servers.start(root, {"log_level": "notice"})
    srv.write_conf(base_settings(root) | {"log_level": "error",
                                          "access_log": str(tmp_path / "missing" / "x.log")})
    mark = srv.line_count()
    srv.signal(signal.SIGHUP)
    srv.wait_line(r"^error: reload failed, keeping the running configuration: access_log ",
                  10, mark)
    assert srv.fetch("/a.txt").body == FILES["a.txt"]
    srv.signal(signal.SIGTERM)
    srv.wait_line(r"^notice: stopping on signal 15$", 10, mark)
    srv.stop()


# ----------------------------------------------------------------- catalog

SRCDIR = os.environ.get("top_srcdir",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def test_catalog_explains_every_event(tmp_path):
    """data/ringhttpd.catalog has an entry, which journalctl accepts, for
    each MESSAGE_ID of src/msgid.h (the ids these tests look for)."""
    with open(os.path.join(SRCDIR, "src", "msgid.h")) as f:
        ids = dict(re.findall(r'#define RH_MSGID_(\w+) "([0-9a-f]{32})"', f.read()))
    assert {k.lower(): v for k, v in ids.items()} == MSGID
    if shutil.which("journalctl") is None:
        pytest.skip("journalctl (systemd) is not installed")
    catalogs = tmp_path / "usr" / "lib" / "systemd" / "catalog"
    catalogs.mkdir(parents=True)
    shutil.copy(os.path.join(SRCDIR, "data", "ringhttpd.catalog"), catalogs)
    subprocess.run(["journalctl", f"--root={tmp_path}", "--update-catalog"], check=True)
    listed = subprocess.run(["journalctl", f"--root={tmp_path}", "--list-catalog"], check=True,
                            capture_output=True, text=True).stdout.split("\n")
    assert sorted(ln.split()[0] for ln in listed if ln) == sorted(MSGID.values()), listed
