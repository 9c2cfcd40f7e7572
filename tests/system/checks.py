"""Checks of ringhttpd under the systemd of a booted Container, shared by
the suites. Each returns a short detail string or raises AssertionError."""

import json
import os
import re
import shlex
import subprocess
import threading

from container import log
from rhtest import wait_until

NEW_ROOT = "/srv/second-root"
NEW_PAGE = "<!DOCTYPE html>\n<title>second root</title>\n<p>served after a reload</p>\n"
# In NEW_ROOT; larger than what the loopback socket buffers hold.
BIG_FILE = "/big.bin"
BIG_SIZE = 48 << 20
MAX_EXPOSURE = 1.0


def write(c, path, text):
    """Write a file of the container from outside (its root is a directory here)."""
    os.makedirs(os.path.dirname(c.root + path), exist_ok=True)
    with open(c.root + path, "w") as f:
        f.write(text)


def curl(c, url="http://127.0.0.1/"):
    """(status, body) of a GET inside the container; status 0 = no response."""
    r = c.run("curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}", url,
              check=False, timeout=30)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def expect_page(c, page, url="http://127.0.0.1/"):
    status, body = curl(c, url)
    assert (status, body) == (200, page), f"GET {url}: {status} {body[:200]!r}"


def unit_state(c, unit):
    return c.run("systemctl", "is-active", unit, check=False).stdout.strip()


def main_pid(c):
    return c.run("systemctl", "show", "-P", "MainPID", "ringhttpd.service").stdout.strip()


def listeners(c, port):
    return c.run("ss", "-Htln", f"sport = :{port}").stdout.strip()


def listen_fd_names(c):
    """The names of the sockets systemd passed to the running service
    (LISTEN_FDNAMES of its environment as started: the server's
    sd_listen_fds_with_names() unsets the variable, which leaves
    /proc/PID/environ as it was)."""
    env = c.run("cat", f"/proc/{main_pid(c)}/environ").stdout.split("\0")
    names = next((v for v in env if v.startswith("LISTEN_FDNAMES=")), "=")
    return names.partition("=")[2].split(":")


def is_enabled(c, unit):
    return c.run("systemctl", "is-enabled", unit, check=False).stdout.strip()


def socket_waits(c):
    """ringhttpd.socket is enabled and listening, the service not started;
    ringhttpd-https.socket is disabled and nothing listens on port 443."""
    enabled = is_enabled(c, "ringhttpd.socket")
    assert enabled == "enabled", f"ringhttpd.socket is {enabled}"
    assert unit_state(c, "ringhttpd.socket") == "active", "ringhttpd.socket is not active"
    listening = listeners(c, 80)
    assert listening, "nothing listens on port 80"
    https = (is_enabled(c, "ringhttpd-https.socket"), unit_state(c, "ringhttpd-https.socket"))
    assert https == ("disabled", "inactive"), f"ringhttpd-https.socket is {https}"
    assert not listeners(c, 443), "listening on port 443:\n" + listeners(c, 443)
    state = unit_state(c, "ringhttpd.service")
    assert state == "inactive", f"ringhttpd.service is {state} before any connection"
    return "listening on " + ", ".join(line.split()[3] for line in listening.splitlines())


def first_connection(c, page):
    """The first request gets the page and leaves the service active, with
    the one socket of ringhttpd.socket (ringhttpd-https.socket is not
    enabled)."""
    expect_page(c, page)
    wait_until(lambda: unit_state(c, "ringhttpd.service") == "active", 10,
               "ringhttpd.service to be active")
    expect_page(c, page, "http://[::1]/")
    names = listen_fd_names(c)
    assert names == ["http"], f"LISTEN_FDNAMES of the service: {names}"
    return f"IPv4 and IPv6, MainPID {main_pid(c)}, LISTEN_FDNAMES={':'.join(names)}"


def journal_entry(c, predicate, what):
    """The first journal entry of ringhttpd.service for which predicate holds."""
    def find():
        out = c.run("journalctl", "--no-pager", "-o", "json",
                    "_SYSTEMD_UNIT=ringhttpd.service").stdout
        entries = [json.loads(line) for line in out.splitlines() if line.strip()]
        return next((e for e in entries if predicate(e)), None)
    return wait_until(find, 10, what)


def journal_fields(c):
    want = ("PRIORITY", "MESSAGE", "CODE_FILE", "CODE_LINE", "CODE_FUNC")
    e = journal_entry(c, lambda e: all(k in e for k in want),
                      "a journal entry with " + ", ".join(want))
    return f"{e['CODE_FILE']}:{e['CODE_LINE']} {e['CODE_FUNC']}: {e['MESSAGE']}"


def journal_ready_line(c):
    e = journal_entry(c, lambda e: re.fullmatch(r"ready \(\d+ rings?\)", str(e.get("MESSAGE"))),
                      'the "ready (N rings)" line')
    return e["MESSAGE"]


READY_ID = "6735101954484e0ea79e5bf8491e2d27"       # src/msgid.h
RELOADED_ID = "423b533c80c34ecbabda016b16d3f61b"


def journal_events(c, conf):
    """Start-up and reload are found by MESSAGE_ID, with their fields; the
    package's catalog explains them (journalctl -x)."""
    ready = journal_entry(c, lambda e: e.get("MESSAGE_ID") == READY_ID, "the ready event")
    assert ready.get("CONFIG_FILE") == conf and ready.get("LISTEN") and \
        re.fullmatch(r"\d+", str(ready.get("RINGS"))), ready
    c.run("systemctl", "reload", "ringhttpd.service")
    journal_entry(c, lambda e: e.get("MESSAGE_ID") == RELOADED_ID and e.get("CONFIG_FILE") == conf,
                  "the reload event")
    text = c.run("journalctl", "--no-pager", "-x", f"MESSAGE_ID={READY_ID}").stdout
    assert "Subject: ringhttpd is ready" in text, text
    return f"LISTEN={ready['LISTEN']} RINGS={ready['RINGS']}"


def set_config(c, conf, key, value):
    """Replace the one line that sets key in conf, or else the one that
    shows it commented out ("# key = ..."); value in libconfig syntax."""
    with open(c.root + conf) as f:
        text = f.read()
    for pattern in (rf"(?m)^\s*{key}\s*=.*$", rf"(?m)^# {key}\s*=.*$"):
        text, n = re.subn(pattern, f"{key} = {value};", text)
        if n:
            break
    assert n == 1, f"{conf} has {n} {key} lines"
    write(c, conf, text)


def reload_new_root(c, conf):
    """Point document_root of conf to NEW_ROOT (with NEW_PAGE and BIG_FILE),
    systemctl reload: the new root is served by the same process."""
    pid = main_pid(c)
    write(c, NEW_ROOT + "/index.html", NEW_PAGE)
    with open(c.root + NEW_ROOT + BIG_FILE, "wb") as f:
        f.truncate(BIG_SIZE)
    os.chmod(c.root + NEW_ROOT, 0o755)
    set_config(c, conf, "document_root", f'"{NEW_ROOT}"')
    c.run("systemctl", "reload", "ringhttpd.service")
    # systemd 252 may return before the server has re-read its config.
    wait_until(lambda: curl(c) == (200, NEW_PAGE), 15, "the new document root to be served")
    assert main_pid(c) == pid, f"MainPID changed from {pid} to {main_pid(c)}: not a reload"


def no_request_lost(c, action, what, base="http://127.0.0.1", curl_args=(), new_process=True):
    """action(c) restarts (or, new_process=False, reloads) the server while
    clients use it: three loops of short requests on fresh connections to
    base (in batches of 50, until told to stop, at most 20000 each), and
    two slow downloads of base + BIG_FILE, larger than the socket buffers,
    that the old process (or configuration) must finish. curl_args go to
    every curl. Every request gets 200 and all its bytes; the service ends
    up in a new process, or stays in the same one."""
    stop = "/run/ringhttpd-test-stop"
    opts = shlex.join(curl_args)
    one_loop = ("n=0; while [ $n -lt 400 ] && [ ! -e %s ]; do"
                " curl -s %s -o /dev/null -w '%%{http_code}\\n' -H 'Connection: close'"
                " --max-time 20 '%s/?[1-50]'; n=$((n+1)); done" % (stop, opts, base))
    loops = f"rm -f {stop}; for i in 1 2 3; do ({one_loop}) & done; wait"
    slow = [f"/run/ringhttpd-test-slow{i}" for i in (1, 2)]
    old_pid = main_pid(c)
    codes = []
    procs = [subprocess.Popen(["nsenter", "-t", str(c.pid), "-a", "--", "sh", "-c", loops],
                              stdout=subprocess.PIPE, text=True)]
    reader = threading.Thread(target=lambda: codes.extend(procs[0].stdout), daemon=True)
    reader.start()
    try:
        wait_until(lambda: len(codes) >= 200, 30, f"requests before {what}")
        procs += [subprocess.Popen(
            ["nsenter", "-t", str(c.pid), "-a", "--", "curl", "-sS", *curl_args, "-o", path,
             "--limit-rate", "16M", "--max-time", "60", "-w", "%{http_code}",
             base + BIG_FILE], stdout=subprocess.PIPE, text=True)
            for path in slow]
        wait_until(lambda: all(
            c.run("stat", "-c", "%s", path, check=False).stdout.strip() not in ("", "0")
            for path in slow), 10, "the slow downloads to be under way")
        action(c)
        after = len(codes)
        wait_until(lambda: len(codes) >= after + 200, 30, f"requests after {what}")
    finally:
        c.run("touch", stop, check=False)
        outputs = [p.communicate(timeout=90)[0] for p in procs[1:]]
        procs[0].wait(60)
        reader.join(10)
    bad = [code.strip() for code in codes if code.strip() != "200"]
    assert not bad, f"{len(bad)} of {len(codes)} requests failed: {sorted(set(bad))}"
    for path, status in zip(slow, outputs):
        size = c.run("stat", "-c", "%s", path).stdout.strip()
        assert (status, size) == ("200", str(BIG_SIZE)), \
            f"slow download of {BIG_FILE}: status {status}, {size} of {BIG_SIZE} bytes"
    new_pid = main_pid(c)
    if new_process:
        assert new_pid not in (old_pid, "0"), f"MainPID {old_pid} -> {new_pid}: not restarted"
    else:
        assert new_pid == old_pid, f"MainPID {old_pid} -> {new_pid}: not a reload"
    return (f"{len(codes)} short requests, {after} of them before {what} was over, "
            f"and 2 downloads of {BIG_SIZE >> 20} MiB begun before it")


def restart_loses_nothing(c):
    return no_request_lost(c, lambda c: c.run("systemctl", "restart", "ringhttpd.service",
                                              timeout=120), "the restart")


def sandbox_features(c, conf):
    """The sandbox leaves room for an SQPOLL ring, registered buffers and an
    access log file. Two rings of 4 KiB buffers register 4 MiB, which fits
    even where LimitMEMLOCK= cannot raise systemd's default of 8 MiB (a
    container without CAP_SYS_RESOURCE)."""
    log_file = "/var/log/ringhttpd/access.log"
    for key, value in (("enable_sq_poll", "true"), ("register_buffers", "true"),
                       ("buffer_size", "4096"), ("cpu_limit", "2"),
                       ("access_log", f'"{log_file}"')):
        set_config(c, conf, key, value)
    c.run("systemctl", "restart", "ringhttpd.service", timeout=120)
    expect_page(c, NEW_PAGE)
    line = re.compile(r'(?m)^\S+ - - \[[^]]+\] "GET / HTTP/1\.1" 200 %d$' % len(NEW_PAGE))
    found = wait_until(lambda: line.search(c.run("cat", log_file, check=False).stdout), 10,
                       f"the request in {log_file}")
    invocation = c.run("systemctl", "show", "-P", "InvocationID", "ringhttpd.service").stdout

    def start_up_messages():
        text = c.run("journalctl", "--no-pager", "-o", "cat",
                     f"_SYSTEMD_INVOCATION_ID={invocation.strip()}").stdout
        return text if "ready (" in text else None
    messages = wait_until(start_up_messages, 10, "the start-up messages in the journal")
    assert "register_buffers" not in messages, messages
    pid = main_pid(c)
    threads = c.run("sh", "-c", f"cat /proc/{pid}/task/*/comm").stdout.split()
    assert any(t.startswith("iou-sqp-") for t in threads), f"no SQPOLL thread in {threads}"
    memlock = re.search(r"Max locked memory\s+(\S+)",
                        c.run("cat", f"/proc/{pid}/limits").stdout).group(1)
    return f"SQPOLL thread, memlock {memlock}; {found.group(0)}"


def access_log_journal(c, conf):
    """access_log = "journal": after a reload, one request is one journal
    entry whose fields say exactly what was asked and answered."""
    set_config(c, conf, "access_log", '"journal"')
    c.run("systemctl", "reload", "ringhttpd.service")
    target, agent = "/index.html?from=journal", "system-test/1.0"

    def request_logged():
        r = c.run("curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-A", agent,
                  "-w", "%{http_code} %{size_header} %{size_download}",
                  "http://127.0.0.1" + target, check=False, timeout=30)
        if not r.stdout.startswith("200 "):
            return None
        head, body = map(int, r.stdout.split()[1:])
        out = c.run("journalctl", "--no-pager", "-o", "json",
                    "_SYSTEMD_UNIT=ringhttpd.service", "REQUEST_PATH=" + target).stdout
        entries = [json.loads(line) for line in out.splitlines() if line.strip()]
        return (entries[-1], head + body) if entries else None
    # until the reload took effect, requests are not logged: ask again
    entry, sent = wait_until(request_logged, 15, "a journal entry for " + target)
    want = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "GET", "REQUEST_PATH": target,
            "STATUS": "200", "BYTES_SENT": str(sent), "USER_AGENT": agent}
    got = {k: entry.get(k) for k in want}
    assert got == want, f"{got} != {want}"
    assert int(entry["DURATION_USEC"]) >= 0, entry
    return f"{entry['MESSAGE']} ({entry['DURATION_USEC']} us)"


def security_score(c):
    out = c.run("systemd-analyze", "security", "--no-pager", "ringhttpd.service",
                check=False).stdout
    m = re.search(r"Overall exposure level for ringhttpd\.service: ([0-9.]+)", out)
    assert m, "no exposure level in:\n" + out
    assert float(m.group(1)) <= MAX_EXPOSURE, out
    return f"exposure {m.group(1)}"


def run_all(results, c, checks):
    """Run (name, func, *args) checks with c as the first argument; on any
    failure, log what systemd knows about ringhttpd."""
    if not all([results.check(name, func, c, *args) for name, func, *args in checks]):
        diagnose(c)


def diagnose(c):
    for cmd in (["systemctl", "status", "--no-pager", "ringhttpd.socket", "ringhttpd.service"],
                ["journalctl", "--no-pager", "-n", "40", "-u", "ringhttpd.service"]):
        log("# " + " ".join(cmd))
        r = c.run(*cmd, check=False)
        for line in (r.stdout + r.stderr).splitlines():
            log("#   " + line)
