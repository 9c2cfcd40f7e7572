"""systemd integration that needs no booted systemd: sockets passed by
systemd-socket-activate, a passed descriptor that is not a listening
socket, and the sd_notify messages read from a datagram socket."""

import os
import pwd
import re
import shutil
import signal
import socket
import tempfile
import time

import pytest

from rhtest import (READY_RE, Client, Notify, base_settings, free_port, ipv6_loopback,
                    python_exec_wrapper, req, task_status, write_files)

ACTIVATE = shutil.which("systemd-socket-activate")
FILES = {"a.txt": b"served through systemd's sockets\n"}


def get_ok(host, port):
    with Client(port, host) as c:
        c.send(req("/a.txt"))
        r = c.response()
    assert (r.status, r.body) == (200, FILES["a.txt"])


# ------------------------------------------------------- socket activation

def activated(servers, root, addrs):
    """A server behind systemd-socket-activate listening on ADDRS
    ([(host, port)]); its own configuration names another, free port."""
    if ACTIVATE is None:
        pytest.skip("systemd-socket-activate (package systemd) is not installed")
    ignored = free_port()
    settings = base_settings(root)
    settings["listen"] = [f"127.0.0.1:{ignored}"]
    spelled = [f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in addrs]
    wrapper = [ACTIVATE] + [arg for a in spelled for arg in ("-l", a)]
    srv = servers.new(settings, wrapper=wrapper).start(wait_ready=False)
    for a in spelled:
        srv.wait_line(rf"^Listening on {re.escape(a)} as \d+\.$")
    return srv, ignored


def start_on_first_connection(srv, host, port):
    """systemd-socket-activate starts the server at the first connection,
    which the server then answers."""
    with Client(port, host) as c:
        c.send(req("/a.txt"))
        srv.wait_ready()
        assert c.response().body == FILES["a.txt"]


def test_one_socket(servers, root):
    port = free_port()
    srv, ignored = activated(servers, root, [("127.0.0.1", port)])
    start_on_first_connection(srv, "127.0.0.1", port)
    get_ok("127.0.0.1", port)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", ignored), timeout=5).close()
    assert re.search(r"(?im)^\w+: .*\blisten\b.*ignor", srv.stderr()), \
        "no log line says that the listen setting was ignored:\n" + srv.stderr()
    srv.stop()


def test_two_sockets(servers, root):
    first = ("127.0.0.1", free_port())
    if ipv6_loopback():
        second = ("::1", free_port(socket.AF_INET6, "::1"))
    else:
        second = ("127.0.0.1", next(p for p in iter(free_port, None) if p != first[1]))
    srv, _ = activated(servers, root, [first, second])
    start_on_first_connection(srv, *first)
    for _ in range(3):
        get_ok(*second)
        get_ok(*first)
    srv.stop()


def test_socket_activated_drops_privileges(servers):
    """Started as root by systemd-socket-activate with user = nobody: no
    thread of the server (kernel threads included) runs as root."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch users")
    public = tempfile.mkdtemp(prefix="ringhttpd-public-")
    try:
        os.chmod(public, 0o755)
        write_files(public, FILES)
        port = free_port()
        srv, _ = activated(servers, public, [("127.0.0.1", port)])
        srv.write_conf(base_settings(public) | {"user": "nobody", "enable_sq_poll": True,
                                                "register_buffers": False})
        start_on_first_connection(srv, "127.0.0.1", port)
        nobody = str(pwd.getpwnam("nobody").pw_uid)
        threads = task_status(srv.pid)
        assert len(threads) > 1, threads
        for tid, st in threads.items():
            assert set(st["Uid"].split()) == {nobody}, (tid, st["Name"], st["Uid"])
        srv.stop()
    finally:
        shutil.rmtree(public)


def not_a_listening_socket(kind, tmp_path):
    if kind == "regular-file":
        return os.open(tmp_path / "plain-file", os.O_RDWR | os.O_CREAT, 0o600), None
    if kind == "pipe":
        r, w = os.pipe()
        return r, w
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s.detach(), None


@pytest.mark.parametrize("kind", ["regular-file", "pipe", "udp", "unlistened-tcp"])
def test_passed_fd_not_a_listening_socket(servers, root, tmp_path, kind):
    fd, other = not_a_listening_socket(kind, tmp_path)
    try:
        srv = servers.new(base_settings(root), env={"LISTEN_FDS": "1"}, pass_fds=(fd,),
                          wrapper=python_exec_wrapper(("LISTEN_PID",), dup_to_3=fd))
        srv.start(wait_ready=False)
        srv.expect_exit()
    finally:
        for x in (fd, other):
            if x is not None:
                os.close(x)
    text = srv.stderr()
    assert re.search(r"(?m)^error: .*socket", text), text
    assert not any(READY_RE.match(ln) for ln in text.splitlines()), text


# ---------------------------------------------------------------- sd_notify

def monotonic_usec():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def test_notify_lifecycle(servers, root):
    with Notify() as n:
        srv = servers.start(root, env={"NOTIFY_SOCKET": n.address}, wait_ready=False)
        n.wait("READY", "1")
        srv.wait_ready(timeout=5)   # its "ready" line was written before READY=1
        get_ok("127.0.0.1", srv.port)

        i, first = n.wait("STATUS")
        assert first["STATUS"].strip(), first
        m = first
        for _ in range(5):
            get_ok("127.0.0.1", srv.port)
        # the summary is refreshed while serving
        deadline = time.monotonic() + 30
        while m["STATUS"] == first["STATUS"]:
            i, m = n.wait("STATUS", start=i + 1, timeout=max(deadline - time.monotonic(), 0.1))

        mark = len(n.messages)
        before = monotonic_usec()
        srv.signal(signal.SIGHUP)
        i, m = n.wait("RELOADING", "1", timeout=10, start=mark)
        after = monotonic_usec()
        assert re.fullmatch(r"\d+", m.get("MONOTONIC_USEC", "")), m
        assert before <= int(m["MONOTONIC_USEC"]) <= after, (before, m, after)
        n.wait("READY", "1", timeout=10, start=i + 1)
        get_ok("127.0.0.1", srv.port)

        mark = len(n.messages)
        srv.signal(signal.SIGTERM)
        n.wait("STOPPING", "1", timeout=10, start=mark)
        srv.stop()
        assert not [m for m in n.messages if "WATCHDOG" in m], "WATCHDOG=1 without WATCHDOG_USEC"


def test_notify_watchdog(servers, root):
    with Notify() as n:
        srv = servers.new(base_settings(root),
                          env={"NOTIFY_SOCKET": n.address, "WATCHDOG_USEC": "1000000"},
                          wrapper=python_exec_wrapper(("WATCHDOG_PID",)))
        srv.start()
        i, _ = n.wait("WATCHDOG", "1", timeout=10)
        n.wait("WATCHDOG", "1", timeout=10, start=i + 1)    # and again
        get_ok("127.0.0.1", srv.port)
        srv.stop()
