"""Helpers for the integration tests.

Server starts the built ringhttpd (path in $RINGHTTPD) with a generated
configuration on an ephemeral loopback port, follows its stderr and stops it
with a check of its exit status and of sanitizer reports. Client speaks raw
HTTP/1.1 over a real socket and parses exactly one response at a time, so
pipelined and keep-alive responses can be read one by one. The /proc helpers
look at the server's threads, descriptors and TCP connections.
"""

import email.utils
import glob
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

START_TIMEOUT = 30      # seconds until "ready" (sanitizer builds start slowly)
STOP_TIMEOUT = 30       # seconds from SIGTERM to exit
IO_TIMEOUT = 20         # seconds for one response or one EOF
MAX_HEAD = 64 * 1024    # a response head larger than this is a failure

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
# Variables that would make the server think it runs under systemd.
SYSTEMD_ENV = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET",
               "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM")

READY_RE = re.compile(r"^notice: ready \((\d+) rings?\)$")
LISTENING_RE = re.compile(
    r"^notice: listening on (\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)( \(TLS\))?$")
TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
STATUS_LINE_RE = re.compile(rb"^HTTP/1\.1 ([1-5][0-9][0-9]) ([\t !-~]*)$")
HEADER_LINE_RE = re.compile(rb"^(" + TOKEN.encode() + rb"):[ \t]*([\t -~]*?)[ \t]*$")
IMF_FIXDATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")
STRONG_ETAG_RE = re.compile(r'^"[\x21\x23-\x7e]+"$')


def skip_unless_ci(why, package):
    """Skips the test for WHY (a tool missing), except under CI=true, which
    installs Debian's PACKAGE for it: there the test fails instead."""
    import pytest  # here: the benchmark and the system tests use this module without it
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}, and under CI=true this test must run (.ci/run installs {package})")
    pytest.skip(f"{why} (Debian package {package})")


def wait_until(predicate, timeout, what, interval=0.05):
    """Poll predicate() until it returns a true value; fail after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A port that was free a moment ago (for tests that must name a port)."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# ------------------------------------------------------------ configuration

def conf_value(v):
    """A Python value in libconfig syntax."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[ " + ", ".join(conf_value(x) for x in v) + " ]"
    if isinstance(v, dict):
        return "{ " + " ".join(f"{k} = {conf_value(x)};" for k, x in v.items()) + " }"
    raise TypeError(f"no libconfig form for {v!r}")


def render_conf(settings):
    return "".join(f"{k} = {conf_value(v)};\n" for k, v in settings.items())


def base_settings(root):
    """What every test server needs: its root, an ephemeral loopback port,
    and no switch to another user."""
    return {"document_root": str(root), "listen": ["127.0.0.1:0"], "user": ""}


def write_files(root, files):
    """Create FILES ({relative path: bytes}) under ROOT."""
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in SYSTEMD_ENV}
    env.update(extra or {})
    return env


def run_binary(binary, args, timeout=START_TIMEOUT):
    """Run the server for a command that exits by itself (-t, -V, -h)."""
    p = subprocess.run([binary, *args], stdin=subprocess.DEVNULL, capture_output=True,
                       env=clean_env(), timeout=timeout)
    stderr = p.stderr.decode(errors="replace")
    check_sanitizers(stderr)
    return p.returncode, p.stdout.decode(errors="replace"), stderr


def one_error(err, path, line, key):
    """ERR (a -t run's stderr) is one line "PATH:LINE: KEY: message" (KEY
    a regular expression); returns that line."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    rx = rf"^{re.escape(str(path))}:{line}: {key}: \S"
    assert re.match(rx, lines[0]), (rx, err)
    return lines[0]


def check_sanitizers(stderr):
    for marker in SANITIZER_MARKERS:
        assert marker not in stderr, f"sanitizer report in stderr:\n{stderr}"


# ------------------------------------------------------------------ server

class Server:
    """One ringhttpd process. COMMAND is the full command line (the binary,
    possibly behind a wrapper such as systemd-socket-activate)."""

    def __init__(self, command, conf_path, env=None, pass_fds=()):
        self.command = list(command)
        self.pass_fds = tuple(pass_fds)
        self.conf = conf_path
        self.env = clean_env(env)
        self.lines = []
        self.cond = threading.Condition()
        self.stderr_closed = False
        self.proc = None
        self.addrs = []         # (host, port) from the "listening on" lines
        self.tls = []           # those of them that speak TLS
        self.rings = None
        self.stopped = False

    # process
    def start(self, wait_ready=True):
        self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=self.env, pass_fds=self.pass_fds)
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()
        if wait_ready:
            self.wait_ready()
        return self

    def _pump(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.stderr_closed = True
            self.cond.notify_all()

    @property
    def pid(self):
        return self.proc.pid

    @property
    def port(self):
        assert self.addrs, "the server named no listening address"
        return self.addrs[0][1]

    def stderr(self):
        with self.cond:
            return "\n".join(self.lines)

    def tail(self, n=40):
        with self.cond:
            return "\n".join(self.lines[-n:])

    def wait_line(self, pattern, timeout=START_TIMEOUT, start=0):
        """Wait for a stderr line (from index START on) matching PATTERN;
        returns (index, match). Fails if stderr closes or time runs out."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return i, m
                    i += 1
                left = deadline - time.monotonic()
                if self.stderr_closed or left <= 0:
                    why = "the server exited" if self.stderr_closed else f"{timeout}s passed"
                    raise AssertionError(f"no stderr line matching {pattern!r} ({why}); "
                                         f"stderr:\n" + "\n".join(self.lines[-40:]))
                self.cond.wait(left)

    def line_count(self):
        with self.cond:
            return len(self.lines)

    def wait_ready(self, timeout=START_TIMEOUT):
        i, m = self.wait_line(READY_RE.pattern, timeout)
        self.rings = int(m.group(1))
        with self.cond:
            before = self.lines[:i]
        found = [m for m in map(LISTENING_RE.match, before) if m]
        self.addrs = [(m.group(1).strip("[]"), int(m.group(2))) for m in found]
        self.tls = [a for a, m in zip(self.addrs, found) if m.group(3)]
        return self

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the server did not exit within {timeout}s; stderr:\n"
                                 + self.tail())
        self.reader.join(timeout)
        self.stopped = True
        return rc

    def stop(self):
        """SIGTERM the server (unless it already exited), wait for it, and
        check that it exited with 0 and no sanitizer reported anything."""
        if self.stopped:
            return
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
        self.expect_exit(0)

    def expect_exit(self, expect_rc=None):
        """Wait for the server to exit by itself; check the exit status
        (EXPECT_RC, or a failure status if None) and the sanitizers."""
        rc = self.wait_exit()
        check_sanitizers(self.stderr())
        want = "a failure" if expect_rc is None else expect_rc
        ok = rc > 0 if expect_rc is None else rc == expect_rc
        assert ok, f"exit status {rc}, expected {want}; stderr:\n{self.tail()}"
        return rc

    def write_conf(self, settings=None, text=None):
        with open(self.conf, "w") as f:
            f.write(text if text is not None else render_conf(settings))

    # requests
    def client(self, **kw):
        return Client(self.port, **kw)

    def fetch(self, target, method="GET", **kw):
        return fetch(self.port, target, method, **kw)


class ServerPool:
    """Servers started by one test (or module); all stopped and checked at
    the end. Each gets its own directory for its configuration."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = str(workdir)
        self.servers = []

    def new(self, settings=None, args=(), env=None, text=None, wrapper=(), pass_fds=()):
        """A server not started yet, with its configuration written from
        SETTINGS (a dict) or TEXT; WRAPPER is a command prefix."""
        d = os.path.join(self.workdir, f"server{len(self.servers)}")
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "ringhttpd.conf")
        srv = Server([*wrapper, self.binary, "-c", conf, *args], conf, env, pass_fds)
        srv.write_conf(settings, text)
        self.servers.append(srv)
        return srv

    def start(self, root, extra=None, args=(), env=None, wait_ready=True):
        """Start a server on ROOT with base_settings plus EXTRA."""
        settings = base_settings(root)
        settings.update(extra or {})
        return self.new(settings, args, env).start(wait_ready)

    def stop_all(self):
        errors = []
        for srv in self.servers:
            if srv.proc is None:
                continue
            try:
                srv.stop()
            except AssertionError as e:
                errors.append(str(e))
        assert not errors, "\n\n".join(errors)


# ------------------------------------------------------------------ client

class Response:
    def __init__(self, status, reason, headers, body, head, length):
        self.status = status
        self.reason = reason
        self.headers = headers      # [(name, value)] in order received
        self.body = body
        self.head = head            # the raw head, CRLFs included
        self.length = length        # Content-Length (None if absent)

    def header(self, name):
        """The value of a header that must not occur twice (None if absent)."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, f"header {name} sent {len(values)} times: {self.head!r}"
        return values[0] if values else None

    def __getitem__(self, name):
        value = self.header(name)
        assert value is not None, f"no {name} header in {self.head!r}"
        return value

    def __repr__(self):
        return f"<Response {self.status} {self.head!r}>"


def check_common(resp):
    """Rules for every response: Server, Date and Connection; Content-Length
    and Content-Type on every 200."""
    assert resp["Server"] == "ringhttpd", resp
    date = resp["Date"]
    assert IMF_FIXDATE_RE.match(date), resp
    skew = abs(email.utils.parsedate_to_datetime(date).timestamp() - time.time())
    assert skew < 60, f"Date is {skew:.0f}s away from now: {resp!r}"
    assert resp["Connection"] in ("keep-alive", "close"), resp
    if resp.status == 200:
        assert resp.length is not None and resp["Content-Type"], resp


def connect_socket(port, host="127.0.0.1", timeout=IO_TIMEOUT, rcvbuf=None):
    """A TCP connection to HOST:PORT with TCP_NODELAY; RCVBUF sets SO_RCVBUF
    before connecting."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        sock.connect((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


class Connection:
    """What every client here does with its socket (.sock)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def reset(self):
        """Close with an RST instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)


class Client(Connection):
    """One TCP connection to the server."""

    def __init__(self, port, host="127.0.0.1", timeout=IO_TIMEOUT):
        self.sock = connect_socket(port, host, timeout)
        self.timeout = timeout
        self.buf = bytearray()

    def _fill(self, deadline, what):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {what}; have {bytes(self.buf[:300])!r}")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise AssertionError(f"timed out waiting for {what}; "
                                 f"have {bytes(self.buf[:300])!r}") from None
        except ConnectionResetError:
            raise AssertionError(f"connection reset while waiting for {what}; "
                                 f"have {bytes(self.buf[:300])!r}") from None
        if not chunk:
            raise AssertionError(f"connection closed while waiting for {what}; "
                                 f"have {bytes(self.buf[:300])!r}")
        self.buf += chunk

    def read_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            self._fill(deadline, f"{n} bytes")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def response(self, head=False, max_body=None):
        """Read exactly one response. HEAD=True: the request was HEAD, so no
        body follows. MAX_BODY: read at most this many body bytes (the rest
        stays unread; the connection is then only good for closing)."""
        deadline = time.monotonic() + self.timeout
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            assert len(self.buf) <= MAX_HEAD, f"response head too long: {bytes(self.buf[:300])!r}"
            self._fill(deadline, "a response head")
        raw_head = bytes(self.buf[:end + 4])
        del self.buf[:end + 4]
        lines = raw_head[:-4].split(b"\r\n")
        m = STATUS_LINE_RE.match(lines[0])
        assert m, f"bad status line in {raw_head!r}"
        status = int(m.group(1))
        headers = []
        for line in lines[1:]:
            h = HEADER_LINE_RE.match(line)
            assert h, f"bad header line {line!r} in {raw_head!r}"
            headers.append((h.group(1).decode(), h.group(2).decode()))
        resp = Response(status, m.group(2).decode(), headers, b"", raw_head, None)
        cl = resp.header("Content-Length")
        if cl is not None:
            assert re.fullmatch(r"[0-9]+", cl), resp
            resp.length = int(cl)
        if not (head or status in (204, 304) or status < 200):
            assert resp.length is not None, f"response without Content-Length: {raw_head!r}"
            want = resp.length if max_body is None else min(resp.length, max_body)
            resp.body = self.read_exact(want, max(deadline - time.monotonic(), 0.001))
        check_common(resp)
        return resp

    def responses(self, n, **kw):
        return [self.response(**kw) for _ in range(n)]

    def expect_eof(self, timeout=None):
        """Wait until the server closes the connection; return every byte
        that arrived before (a reset counts as a close)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        data = self.buf
        self.buf = bytearray()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"connection still open after {timeout or self.timeout}s; "
                                     f"received {len(data)} bytes: {bytes(data[:200])!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return bytes(data)
            if not chunk:
                return bytes(data)
            data += chunk


def req(target, method="GET", version="HTTP/1.1", host="test", headers=()):
    """A request head as bytes. HEADERS: [(name, value)] or a dict."""
    if isinstance(headers, dict):
        headers = headers.items()
    lines = [f"{method} {target} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def fetch(port, target, method="GET", max_body=None, **kw):
    """One request on a new connection; returns the response."""
    with Client(port) as c:
        c.send(req(target, method, **kw))
        return c.response(head=(method == "HEAD"), max_body=max_body)


def exact(port, target, data, host="127.0.0.1", timeout=20):
    """GET TARGET on a new connection: a 200 whose body is exactly DATA."""
    with Client(port, host=host, timeout=timeout) as c:
        c.send(req(target))
        r = c.response()
    assert (r.status, r.length, sha(r.body)) == (200, len(data), sha(data)), r
    return r


# ------------------------------------------------------------- systemd stand-ins

class Notify:
    """An AF_UNIX datagram socket (abstract name) standing in for systemd's
    notification socket; collects every message in order."""

    def __init__(self):
        self.name = f"ringhttpd-test-{os.getpid()}-{os.urandom(6).hex()}"
        self.address = "@" + self.name
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name)
        self.messages = []      # one dict per datagram

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def wait(self, key, value=None, timeout=30, start=0):
        """The index and content of the first message from START on that
        sets KEY (to VALUE, if given)."""
        deadline = time.monotonic() + timeout
        i = start
        while True:
            while i < len(self.messages):
                m = self.messages[i]
                if key in m and (value is None or m[key] == value):
                    return i, m
                i += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {key}={value or ''} notification within {timeout}s; "
                                     f"got {self.messages}")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            self.messages.append(dict(line.split("=", 1)
                                      for line in data.decode().splitlines() if "=" in line))


class Journal:
    """A datagram socket standing in for journald's native socket. The
    server sees it at /run/systemd/journal/socket through wrapper(), which
    runs the server in a mount namespace of its own with this socket's
    directory mounted there. Entries are parsed from the native protocol:
    one list of (name, bytes) per datagram."""

    def __init__(self, directory):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(os.path.join(self.dir, "socket"))
        self.entries = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def wrapper(self, journal_stream=False):
        """A command prefix: the rest runs with this socket as journald's;
        JOURNAL_STREAM=True also makes its stderr count as the journal
        stream, so that the server's own messages go to the journal."""
        stream = ('JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2); export JOURNAL_STREAM; '
                  if journal_stream else "")
        script = ("set -e; mount -t tmpfs tmpfs /run/systemd 2>/dev/null || "
                  "{ mkdir -p /run/systemd; mount -t tmpfs tmpfs /run/systemd; }; "
                  "mkdir /run/systemd/journal; mount --bind \"$0\" /run/systemd/journal; "
                  + stream + 'exec "$@"')
        return ["unshare", "-m", "--propagation", "private", "--", "sh", "-c", script, self.dir]

    @staticmethod
    def parse(data):
        fields, i = [], 0
        while i < len(data):
            nl = data.index(b"\n", i)
            line = data[i:nl]
            if b"=" in line:
                name, value = line.split(b"=", 1)
                i = nl + 1
            else:   # NAME \n, 64-bit little-endian length, the bytes, \n
                name, n = line, int.from_bytes(data[nl + 1:nl + 9], "little")
                value = data[nl + 9:nl + 9 + n]
                assert data[nl + 9 + n:nl + 10 + n] == b"\n", data
                i = nl + 10 + n
            fields.append((name.decode(), value))
        return fields

    def drain(self):
        """Read what is queued now, without waiting."""
        self.sock.settimeout(0)
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except BlockingIOError:
                return self.entries
            self.entries.append(self.parse(data))

    def wait(self, predicate, timeout=30, start=0):
        """The index and fields ({name: text}) of the first entry from START
        on for which predicate(fields) holds."""
        deadline = time.monotonic() + timeout
        i = start
        while True:
            while i < len(self.entries):
                f = {k: v.decode(errors="replace") for k, v in self.entries[i]}
                if predicate(f):
                    return i, f
                i += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no such journal entry within {timeout}s; got "
                                     f"{self.entries[start:][-10:]}")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            self.entries.append(self.parse(data))


def seccomp_wrapper(err):
    """A command prefix that execs the rest of the command line with a
    seccomp filter answering io_uring_setup with errno ERR, as container
    runtimes' default profiles do."""
    code = ("import ctypes,os,struct,sys\n"
            "err=int(sys.argv[1])\n"
            "ins=[(0x20,0,0,0),(0x15,0,1,425),(0x06,0,0,0x00050000|err),(0x06,0,0,0x7fff0000)]\n"
            "buf=ctypes.create_string_buffer(b''.join(struct.pack('HBBI',*i) for i in ins))\n"
            "prog=struct.pack('HxxxxxxP',len(ins),ctypes.addressof(buf))\n"
            "libc=ctypes.CDLL(None,use_errno=True)\n"
            "assert libc.prctl(38,1,0,0,0)==0\n"
            "assert libc.prctl(22,2,ctypes.c_char_p(prog),0,0)==0,os.strerror(ctypes.get_errno())\n"
            "os.execvp(sys.argv[2],sys.argv[2:])\n")
    return [sys.executable, "-c", code, str(err)]


# ------------------------------------------------------------------- /proc

def thread_names(pid):
    names = []
    for path in glob.glob(f"/proc/{pid}/task/*/comm"):
        try:
            with open(path) as f:
                names.append(f.read().strip())
        except FileNotFoundError:
            pass                # the thread ended meanwhile
    return names


def task_status(pid):
    """{tid: {field: value}} from /proc/PID/task/*/status."""
    result = {}
    for path in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(path) as f:
                fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except FileNotFoundError:
            continue
        result[int(path.split("/")[4])] = fields
    return result


def socket_fds(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except FileNotFoundError:
            pass
    return n


def server_sockets(port):
    """(state, bytes not yet read) of each TCP socket whose local port is
    PORT, from /proc/net/tcp{,6}; states in hex as the kernel lists them."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    local, _, state, queues = line.split()[1:5]
                    if int(local.rsplit(":", 1)[1], 16) == port:
                        yield state, int(queues.split(":")[1], 16)
        except FileNotFoundError:
            pass


def open_server_conns(port):
    """TCP connections whose local end is PORT and that the server has not
    closed yet (ESTABLISHED or CLOSE_WAIT)."""
    return sum(1 for state, _ in server_sockets(port) if state in ("01", "08"))


def unread_by_server(port):
    """Bytes that clients sent to PORT and the server has not read yet."""
    return sum(unread for state, unread in server_sockets(port) if state == "01")


def python_exec_wrapper(env_pid_vars=(), dup_to_3=None):
    """A command prefix that execs the rest of the command line in the same
    process after setting each of ENV_PID_VARS to its own pid (what
    LISTEN_PID and WATCHDOG_PID must be) and duplicating fd DUP_TO_3 onto 3."""
    code = ("import os,sys\n"
            "fd=int(sys.argv[1])\n"
            "if fd>=0: os.dup2(fd,3)\n"
            "for v in sys.argv[2].split(','):\n"
            "    if v: os.environ[v]=str(os.getpid())\n"
            "os.execv(sys.argv[3],sys.argv[3:])\n")
    return [sys.executable, "-c", code,
            str(-1 if dup_to_3 is None else dup_to_3), ",".join(env_pid_vars)]


# ------------------------------------------------- crowds and resource limits

def need_nofile(n):
    """Skip the test unless this process's RLIMIT_NOFILE can be raised to N."""
    have = raise_nofile()
    if have < n:
        import pytest
        pytest.skip(f"needs RLIMIT_NOFILE of at least {n}, the hard limit allows {have}")


def raise_nofile(want=None):
    """Raise this process's soft RLIMIT_NOFILE to WANT (default: the hard
    limit), capped by the hard limit; returns the new soft limit. Servers
    started afterwards inherit it."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if want is None else want
    if hard != resource.RLIM_INFINITY:
        target = min(target, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class LimitedServer(Server):
    """A Server whose process starts with the resource limits RLIMITS,
    {resource.RLIMIT_*: (soft, hard)}, set between fork and exec."""

    def __init__(self, command, conf_path, rlimits, env=None, pass_fds=()):
        super().__init__(command, conf_path, env, pass_fds)
        self.rlimits = dict(rlimits)

    def _set_limits(self):
        import resource
        for which, limits in self.rlimits.items():
            resource.setrlimit(which, limits)

    def start(self, wait_ready=True):
        self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=self.env, pass_fds=self.pass_fds,
                                     preexec_fn=self._set_limits)
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()
        if wait_ready:
            self.wait_ready()
        return self


def new_limited(pool, settings, rlimits, args=()):
    """Like ServerPool.new, for a LimitedServer (not started yet)."""
    d = os.path.join(pool.workdir, f"server{len(pool.servers)}")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "ringhttpd.conf")
    srv = LimitedServer([pool.binary, "-c", conf, *args], conf, rlimits)
    srv.write_conf(settings)
    pool.servers.append(srv)
    return srv


def descriptor_count(pid):
    """Open descriptors of process PID."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def iou_wrk_threads(pid):
    """io_uring io-wq worker threads (iou-wrk-*) of process PID."""
    return sum(1 for name in thread_names(pid) if name.startswith("iou-wrk"))


def parse_head(raw_head):
    """A Response (empty body) from a raw head ending in CRLF CRLF, with
    the checks Client.response makes of a head."""
    lines = raw_head[:-4].split(b"\r\n")
    m = STATUS_LINE_RE.match(lines[0])
    assert m, f"bad status line in {raw_head!r}"
    headers = []
    for line in lines[1:]:
        h = HEADER_LINE_RE.match(line)
        assert h, f"bad header line {line!r} in {raw_head!r}"
        headers.append((h.group(1).decode(), h.group(2).decode()))
    resp = Response(int(m.group(1)), m.group(2).decode(), headers, b"", raw_head, None)
    cl = resp.header("Content-Length")
    if cl is not None:
        assert re.fullmatch(r"[0-9]+", cl), resp
        resp.length = int(cl)
    return resp


class Crowd:
    """N connections to one port, driven together through one selector
    (epoll): no thread per connection. Connections are opened one after
    the other (the server's listen backlog holds those it has not accepted
    yet), then made nonblocking. RCVBUF sets SO_RCVBUF before connecting
    (a small one keeps what a client that does not read can hold small)."""

    def __init__(self, port, n, host="127.0.0.1", rcvbuf=None, timeout=IO_TIMEOUT):
        import selectors
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socks = []
        self.partial = {}
        self.leftover = {}      # index: bytes read past the last response
        self.selectors = selectors
        try:
            for _ in range(n):
                s = socket.socket(family, socket.SOCK_STREAM)
                self.socks.append(s)
                if rcvbuf:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
                s.settimeout(timeout)
                s.connect((host, port))
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.setblocking(False)
        except BaseException:
            self.close()
            raise

    def __len__(self):
        return len(self.socks)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self, which=None, reset=True):
        """Close the connections (indices WHICH, default all), with an RST
        by default so that no TIME_WAIT is left behind."""
        idx = range(len(self.socks)) if which is None else which
        for i in idx:
            s = self.socks[i]
            if s.fileno() < 0:
                continue
            if reset:
                try:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                except OSError:
                    pass
            s.close()

    def send(self, data, which=None, timeout=IO_TIMEOUT):
        """Send DATA (bytes, or a function of the index giving bytes) on
        every connection (or those in WHICH); returns {index: error} for
        those that could not take it (reset or closed by the server)."""
        sel = self.selectors.DefaultSelector()
        idx = range(len(self.socks)) if which is None else which
        errors, left = {}, {}
        for i in idx:
            left[i] = memoryview(data(i) if callable(data) else data)
        deadline = time.monotonic() + timeout
        try:
            for i in list(left):
                if not self._push(i, left, errors):
                    sel.register(self.socks[i], self.selectors.EVENT_WRITE, i)
            while left:
                rest = deadline - time.monotonic()
                assert rest > 0, f"timed out sending to {len(left)} connections"
                for key, _ in sel.select(rest):
                    if self._push(key.data, left, errors):
                        sel.unregister(key.fileobj)
        finally:
            sel.close()
        return errors

    def _push(self, i, left, errors):
        try:
            n = self.socks[i].send(left[i], socket.MSG_NOSIGNAL)
        except BlockingIOError:
            return False
        except OSError as e:
            errors[i] = f"{type(e).__name__}: {e}"
            del left[i]
            return True
        left[i] = left[i][n:]
        if not left[i]:
            del left[i]
            return True
        return False

    def responses(self, which=None, timeout=IO_TIMEOUT, head=False, keep_body=False,
                  max_body=None):
        """Read one response on every connection (or those in WHICH) until
        all are complete or TIMEOUT passes. Returns {index: Response or a
        string saying what went wrong}; a timed-out one is read on by the
        next call, the others are over. Each Response gets .sha (sha256 of
        the body read) and .got (body bytes read); its .body holds the
        bytes only with KEEP_BODY. MAX_BODY: read at most that many body
        bytes. HEAD: the requests were HEAD."""
        sel = self.selectors.DefaultSelector()
        idx = list(range(len(self.socks)) if which is None else which)
        # a response not complete at TIMEOUT is taken up again by the next call
        state = self.partial
        for i in idx:
            state.setdefault(i, [bytearray(), None, None])     # buffer, response, hash
        done = {}
        deadline = time.monotonic() + timeout
        try:
            for i in idx:
                sel.register(self.socks[i], self.selectors.EVENT_READ, i)
            while len(done) < len(idx):
                rest = deadline - time.monotonic()
                if rest <= 0:
                    break
                for key, _ in sel.select(min(rest, 1.0)):
                    i = key.data
                    if self._read(i, state[i], done, head, keep_body, max_body):
                        sel.unregister(key.fileobj)
        finally:
            sel.close()
        for i in idx:
            if i in done:
                del state[i]
            else:
                buf, resp, _ = state[i]
                what = "a response head" if resp is None else f"{resp.length} body bytes"
                done[i] = (f"timed out after {timeout}s waiting for {what}; "
                           f"have {bytes(buf[:120])!r}")
        return done

    def _read(self, i, st, done, head, keep_body, max_body):
        buf, resp, h = st
        try:
            chunk = self.socks[i].recv(1 << 18)
        except BlockingIOError:
            return False
        except OSError as e:
            done[i] = f"{type(e).__name__} after {bytes(buf[:120])!r}"
            return True
        if not chunk:
            what = "closed before a response head" if resp is None else \
                f"closed after {resp.got} of {resp.length} body bytes"
            done[i] = f"{what}; have {bytes(buf[:120])!r}"
            return True
        buf += chunk
        if resp is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    done[i] = f"response head too long: {bytes(buf[:120])!r}"
                    return True
                return False
            try:
                resp = parse_head(bytes(buf[:end + 4]))
                if not (head or resp.status in (204, 304) or resp.status < 200):
                    assert resp.length is not None, f"no Content-Length: {resp.head!r}"
                else:
                    resp.length = resp.length if head else 0
            except AssertionError as e:
                done[i] = str(e)
                return True
            del buf[:end + 4]
            resp.got = 0
            resp.want = 0 if head else resp.length if max_body is None \
                else min(resp.length, max_body)
            h = hashlib.sha256()
            st[1], st[2] = resp, h
        take = bytes(buf[:resp.want - resp.got])
        del buf[:len(take)]
        h.update(take)
        resp.got += len(take)
        if keep_body:
            resp.body += take
        if resp.got < resp.want:
            return False
        resp.sha = h.hexdigest()
        self.leftover[i] = bytes(buf)
        try:
            check_common(resp)
        except AssertionError as e:
            done[i] = str(e)
            return True
        done[i] = resp
        return True

    def queued(self, i):
        """Bytes that arrived on connection I and are not read yet."""
        import fcntl
        import termios
        import struct
        raw = fcntl.ioctl(self.socks[i].fileno(), termios.FIONREAD, b"\0\0\0\0")
        return struct.unpack("i", raw)[0]

    def peek(self, i, n=4096):
        """Up to N bytes that arrived on connection I, left unread."""
        try:
            return self.socks[i].recv(n, socket.MSG_PEEK)
        except BlockingIOError:
            return b""
        except OSError:
            return b""


# ------------------------------------------------- configuration with lists

def conf_value_lists(v):
    """Like conf_value, except that a Python list or tuple whose elements
    are all dicts becomes a libconfig list of groups, ( { ... }, ... ),
    which conf_value's arrays, [ ... ], cannot hold; inside groups too."""
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, dict) for x in v):
        return "( " + ", ".join(conf_value_lists(x) for x in v) + " )"
    if isinstance(v, dict):
        return "{ " + " ".join(f"{k} = {conf_value_lists(x)};" for k, x in v.items()) + " }"
    return conf_value(v)


def render_conf_lists(settings):
    """render_conf, with lists of groups rendered by conf_value_lists."""
    return "".join(f"{k} = {conf_value_lists(v)};\n" for k, v in settings.items())


# ------------------------------------------------ cold files and slow disks

def block_device(path):
    """"MAJ:MIN" of the disk that holds PATH (the whole disk, not the
    partition), or None when PATH is on no block device (tmpfs, or a file
    system with an anonymous device number)."""
    st = os.stat(path)
    dev = f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    sysfs = f"/sys/dev/block/{dev}"
    if not os.path.exists(sysfs):
        return None
    if os.path.exists(f"{sysfs}/partition"):
        with open(os.path.join(os.path.realpath(sysfs), "..", "dev")) as f:
            dev = f.read().strip()
    return dev


def file_system_type(path):
    """The type of the file system mounted at or above PATH (/proc/mounts)."""
    path, best, kind = os.path.realpath(path), "", None
    with open("/proc/mounts") as f:
        for line in f:
            mount_point, fs_type = line.split()[1:3]
            mount_point = mount_point.replace("\\040", " ")
            if (path == mount_point or path.startswith(mount_point.rstrip("/") + "/")) \
                    and len(mount_point) >= len(best):
                best, kind = mount_point, fs_type
    return kind


def drop_from_page_cache(paths):
    """Write back, then drop from the page cache, every file in PATHS, so
    that the next read of it goes to the disk."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)        # dirty pages cannot be dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


class ThrottledIO:
    """A new cgroup whose processes read at most BPS bytes a second from
    the disk DEV ("MAJ:MIN", see block_device): cgroup v1's
    blkio.throttle.read_bps_device, or io.max on cgroup v2. Processes enter
    by wrapper() (a command prefix that runs the rest in the group, so that
    every thread it starts is in it too) or add(pid) (a process with all its
    threads). On exit, processes still in it go back to the parent group and
    the group is removed."""

    V1 = "/sys/fs/cgroup/blkio"
    V2 = "/sys/fs/cgroup"

    def __init__(self, dev, bps):
        self.dev, self.bps = dev, bps
        self.v1 = os.path.exists(f"{self.V1}/blkio.throttle.read_bps_device")
        self.parent = self.V1 if self.v1 else self.V2
        self.path = os.path.join(self.parent, f"ringhttpd-test-{os.getpid()}-{os.urandom(3).hex()}")

    @classmethod
    def unavailable(cls):
        """Why no group can be throttled here, or None."""
        if os.path.exists(f"{cls.V1}/blkio.throttle.read_bps_device"):
            return None if os.access(cls.V1, os.W_OK) else f"{cls.V1} is not writable"
        try:
            with open(f"{cls.V2}/cgroup.controllers") as f:
                if "io" not in f.read().split():
                    return "neither cgroup v1 blkio nor the cgroup v2 io controller is available"
        except OSError:
            return "no cgroup file system at /sys/fs/cgroup"
        return None if os.access(cls.V2, os.W_OK) else f"{cls.V2} is not writable"

    def _write(self, name, text, group=None):
        with open(os.path.join(group or self.path, name), "w") as f:
            f.write(text)

    def __enter__(self):
        if not self.v1:
            with open(f"{self.V2}/cgroup.subtree_control") as f:
                if "io" not in f.read().split():
                    self._write("cgroup.subtree_control", "+io", self.V2)
        os.mkdir(self.path)
        try:
            if self.v1:
                self._write("blkio.throttle.read_bps_device", f"{self.dev} {self.bps}")
            else:
                self._write("io.max", f"{self.dev} rbps={self.bps}")
        except BaseException:
            os.rmdir(self.path)
            raise
        return self

    def wrapper(self):
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', os.path.join(self.path, "cgroup.procs")]

    def add(self, pid):
        self._write("cgroup.procs", str(pid))

    def remove(self, pid):
        """Move process PID (all its threads) back to the parent group."""
        try:
            self._write("cgroup.procs", str(pid), self.parent)
        except ProcessLookupError:
            pass

    def pids(self):
        with open(os.path.join(self.path, "cgroup.procs")) as f:
            return [int(line) for line in f if line.strip()]

    def read_bytes(self):
        """Bytes the group's processes have read from the disk so far."""
        if self.v1:
            with open(os.path.join(self.path, "blkio.throttle.io_service_bytes")) as f:
                for line in f:
                    fields = line.split()
                    if fields[:2] == [self.dev, "Read"]:
                        return int(fields[2])
            return 0
        with open(os.path.join(self.path, "io.stat")) as f:
            for line in f:
                fields = line.split()
                if fields and fields[0] == self.dev:
                    return int(dict(x.split("=") for x in fields[1:]).get("rbytes", 0))
        return 0

    def __exit__(self, *exc):
        for _ in range(10):     # a process may fork while it is moved
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                self.remove(pid)
        os.rmdir(self.path)


class PeakSampler:
    """Calls FN every INTERVAL seconds in a thread while in the with block;
    .peak is the largest value it returned (FN may raise OSError: a process
    that exited meanwhile)."""

    def __init__(self, fn, interval=0.05):
        self.fn, self.interval, self.peak = fn, interval, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while True:
            try:
                self.peak = max(self.peak, self.fn())
            except OSError:
                pass
            if self.done.wait(self.interval):
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


# --------------------------------------------------------------------- TLS

class Cert:
    """A certificate file (the chain: here the leaf alone) and its key."""

    def __init__(self, cert, key, kind):
        self.cert, self.key, self.kind = cert, key, kind

    def pem(self):
        with open(self.cert) as f:
            return f.read()

    @property
    def der(self):
        """The leaf's DER bytes, what a client sees as the peer certificate."""
        import ssl
        text = self.pem()
        return ssl.PEM_cert_to_DER_cert(text[:text.index("-----END CERTIFICATE-----") + 25])

    def spki_sha256(self):
        """Base64 of the SHA-256 of the leaf's SubjectPublicKeyInfo (what
        Chromium's --ignore-certificate-errors-spki-list takes)."""
        import base64
        p = subprocess.run(["openssl", "x509", "-in", self.cert, "-noout", "-pubkey"],
                           capture_output=True, check=True, text=True)
        der = base64.b64decode("".join(line for line in p.stdout.splitlines()
                                       if not line.startswith("-----")))
        return base64.b64encode(hashlib.sha256(der).digest()).decode()

    def copy_to(self, cert, key):
        """Install this pair at the paths CERT and KEY, each file replaced
        at once by a rename (as a renewal does); returns the installed Cert."""
        import shutil
        for src, dst in ((self.cert, cert), (self.key, key)):
            tmp = f"{dst}.new"
            shutil.copy(src, tmp)
            os.rename(tmp, dst)
        return Cert(str(cert), str(key), self.kind)


class PKI:
    """A local CA made with `openssl req` in DIRECTORY (an ECDSA P-256 key)
    and the leaf certificates it signs: ECDSA P-256 or RSA-2048, for DNS
    names and IP addresses. Keys are written 0600, as openssl makes them."""

    def __init__(self, directory, name="ringhttpd test CA"):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.ca = os.path.join(self.dir, "ca.pem")
        self.ca_key = os.path.join(self.dir, "ca.key")
        self._req(self.ca, self.ca_key, "ecdsa", name,
                  "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n")

    def leaf(self, tag, names, kind="ecdsa"):
        """TAG.pem and TAG.key, for NAMES (the first one is the CN)."""
        san = ", ".join(("IP:" if re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:]*", n)
                         else "DNS:") + n for n in names)
        usage = "digitalSignature, keyEncipherment" if kind == "rsa" else "digitalSignature"
        cert = Cert(os.path.join(self.dir, tag + ".pem"), os.path.join(self.dir, tag + ".key"),
                    kind)
        self._req(cert.cert, cert.key, kind, names[0],
                  f"basicConstraints = critical, CA:FALSE\nkeyUsage = critical, {usage}\n"
                  f"extendedKeyUsage = serverAuth\nsubjectAltName = {san}\n"
                  "authorityKeyIdentifier = keyid\n", ["-CA", self.ca, "-CAkey", self.ca_key])
        return cert

    def _req(self, cert, key, kind, cn, extensions, sign=()):
        conf = cert + ".cnf"
        with open(conf, "w") as f:
            f.write(f"[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = {cn}\n"
                    f"[ext]\n{extensions}subjectKeyIdentifier = hash\n")
        newkey = (["-newkey", "rsa:2048"] if kind == "rsa" else
                  ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        p = subprocess.run(["openssl", "req", "-x509", "-new", "-config", conf, "-extensions", "ext",
                            *newkey, "-nodes", "-keyout", key, "-out", cert, "-days", "365", *sign],
                           capture_output=True, text=True)
        os.remove(conf)
        assert p.returncode == 0, p.stderr


def tls_keys(certs):
    """tls_certificate and tls_key for a Cert, or for a list of them (the
    arrays of an ECDSA and an RSA pair)."""
    if isinstance(certs, Cert):
        return {"tls_certificate": certs.cert, "tls_key": certs.key}
    return {"tls_certificate": [c.cert for c in certs], "tls_key": [c.key for c in certs]}


def tls_settings(root, certs):
    """base_settings plus a TLS socket on an ephemeral loopback port and the
    default site's certificate(s) CERTS."""
    s = base_settings(root)
    s.update({"tls_listen": ["127.0.0.1:0"], **tls_keys(certs)})
    return s


def tls_context(ca=None, version=None, ciphers=None, alpn=None):
    """A client SSLContext: the chain checked against the CA file CA (none
    checked without it), never the host name (the tests compare the peer
    certificate itself); VERSION (an ssl.TLSVersion) as both the lowest and
    the highest; CIPHERS the TLS 1.2 list; ALPN the protocols offered."""
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if ca:
        ctx.load_verify_locations(ca)
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    if ciphers:
        ctx.set_ciphers(ciphers)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


class TLSClient(Client):
    """A Client over TLS: the handshake with CONTEXT is done on connecting,
    with SNI (None: no server_name extension). RCVBUF sets SO_RCVBUF before
    connecting. Every Client method works on the decrypted stream."""

    def __init__(self, port, context, sni="localhost", host="127.0.0.1", timeout=IO_TIMEOUT,
                 rcvbuf=None, session=None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        raw = socket.socket(family, socket.SOCK_STREAM)
        try:
            if rcvbuf:
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            raw.settimeout(timeout)
            raw.connect((host, port))
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = context.wrap_socket(raw, server_hostname=sni, session=session)
        except BaseException:
            raw.close()
            raise
        self.timeout = timeout
        self.buf = bytearray()

    @property
    def peer_der(self):
        return self.sock.getpeercert(binary_form=True)

    def peer_cn(self):
        """The subject CN of the peer certificate (the chain was checked)."""
        subject = dict(x[0] for x in self.sock.getpeercert()["subject"])
        return subject["commonName"]


def tls_fetch(port, context, target, method="GET", sni="localhost", **kw):
    """One request over a new TLS connection; returns the response."""
    with TLSClient(port, context, sni) as c:
        c.send(req(target, method, **kw))
        return c.response(head=(method == "HEAD"))


def client_hello(sni="localhost", context=None):
    """The bytes of a real ClientHello (its TLS records), from Python's
    OpenSSL through memory BIOs."""
    import ssl
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = (context or tls_context()).wrap_bio(incoming, outgoing, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def tls_records(data):
    """[(content type, legacy version, payload)] of the whole TLS records
    at the start of DATA, and the bytes left after them."""
    records = []
    while len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[3:5], "big"):
        n = int.from_bytes(data[3:5], "big")
        records.append((data[0], data[1:3], data[5:5 + n]))
        data = data[5 + n:]
    return records, data


CURL_TLS = {"1.3": ["--tlsv1.3"], "1.2": ["--tlsv1.2", "--tls-max", "1.2"]}


def curl(port, target, ca, tls="1.3", args=(), sni="localhost", timeout=60):
    """curl --cacert CA over TLS version TLS ("1.3" or "1.2") to
    https://SNI:PORT/TARGET (SNI resolved to 127.0.0.1), HTTP/1.1, ARGS
    added. Returns the Response (the head as received, the body exact) with
    .tls, the "TLSvX / cipher" curl reports, and .alpn, what the server
    accepted (None if nothing)."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        head, body = os.path.join(d, "head"), os.path.join(d, "body")
        p = subprocess.run(["curl", "-sS", "-v", "--http1.1", "--cacert", str(ca),
                            *CURL_TLS[tls], "--resolve", f"{sni}:{port}:127.0.0.1",
                            "-D", head, "-o", body, *args, f"https://{sni}:{port}{target}"],
                           capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        err = p.stderr.decode(errors="replace")
        assert p.returncode == 0, f"curl exited with {p.returncode}: {err[-3000:]}"
        with open(head, "rb") as f:
            raw = f.read()
        with open(body, "rb") as f:
            data = f.read()
    resp = parse_head(raw)
    resp.body = data
    m = re.search(r"^\* SSL connection using (\S+ / \S+)", err, re.M)
    resp.tls = m and m.group(1)
    m = re.search(r"^\* ALPN: server accepted (\S+)", err, re.M)
    resp.alpn = m and m.group(1)
    return resp


def s_client(port, *args, sni="localhost", request=None, timeout=30):
    """openssl s_client to 127.0.0.1:PORT with ARGS and -servername SNI
    (None: none). With REQUEST (bytes) it sends them and reads until the
    server closes (-ign_eof): give it "Connection: close". Without, it
    closes after the handshake. Returns (exit status, stdout and stderr)."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args]
    cmd += ["-servername", sni] if sni else ["-noservername"]
    if request is not None:
        cmd.append("-ign_eof")
    p = subprocess.run(cmd, input=request or b"", capture_output=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def s_client_cert(output):
    """The DER of the "Server certificate" s_client printed."""
    import ssl
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", output, re.S)
    assert m, output
    return ssl.PEM_cert_to_DER_cert(m.group(0))


def tls_addrs(srv):
    """(host, port) of each TLS socket of SRV, as its log names them."""
    return srv.tls


def tls_port(srv):
    addrs = tls_addrs(srv)
    assert addrs, "the server named no TLS socket:\n" + srv.tail()
    return addrs[0][1]


def plain_port(srv):
    """The first plain HTTP socket's port (srv.port: listen's come first)."""
    return srv.port


# ------------------------------------------------------------------ HTTP/2

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# RFC 9113 7: error codes; 6.5.2: SETTINGS parameters
H2_NO_ERROR, H2_PROTOCOL_ERROR, H2_CANCEL = 0x0, 0x1, 0x8
H2_COMPRESSION_ERROR, H2_ENHANCE_YOUR_CALM = 0x9, 0xb
H2_HEADER_TABLE_SIZE, H2_ENABLE_PUSH, H2_MAX_CONCURRENT_STREAMS = 0x1, 0x2, 0x3
H2_INITIAL_WINDOW_SIZE, H2_MAX_FRAME_SIZE, H2_MAX_HEADER_LIST_SIZE = 0x4, 0x5, 0x6
H2_MAX_WINDOW = (1 << 31) - 1


class H2Response:
    """One stream's answer as an H2Client saw it: the response head's fields
    in order ([(name, value)] as str, :status among them), the body (its
    bytes when the client keeps bodies; .length and .sha always), and how
    the stream ended: .ended (END_STREAM seen), .reset (the RST_STREAM
    error code, or None), .head_ended (END_STREAM on the HEADERS frame)."""

    def __init__(self, stream_id):
        self.stream_id = stream_id
        self.fields = None
        self.trailers = None
        self.body = bytearray()
        self.length = 0
        self.hash = hashlib.sha256()
        self.ended = False
        self.head_ended = False
        self.reset = None
        self.data_frames = 0

    @property
    def done(self):
        return self.ended or self.reset is not None

    @property
    def status(self):
        return int(self[":status"]) if self.fields is not None else None

    @property
    def sha(self):
        return self.hash.hexdigest()

    def header(self, name):
        values = [v for k, v in (self.fields or []) if k == name]
        assert len(values) <= 1, f"field {name} sent {len(values)} times: {self!r}"
        return values[0] if values else None

    def __getitem__(self, name):
        value = self.header(name)
        assert value is not None, f"no {name} field in {self!r}"
        return value

    def regular(self):
        """The fields without the pseudo-header :status."""
        return [(k, v) for k, v in self.fields if not k.startswith(":")]

    def __repr__(self):
        return (f"<H2Response stream {self.stream_id} {self.fields} {self.length} body bytes"
                f"{' ended' if self.ended else ''}"
                f"{'' if self.reset is None else f' reset {self.reset:#x}'}>")


class H2Closed(AssertionError):
    """The server closed the connection while a frame was awaited."""


class H2Client(Connection):
    """One HTTP/2 connection in frames (hyperframe) and HPACK (hpack): over
    TLS with ALPN h2 when CONTEXT (an SSLContext) is given, else h2c with
    prior knowledge. The client's preface (unless PREFACE is False) is sent
    with SETTINGS (default: INITIAL_WINDOW_SIZE 2^31-1) and, with
    AUTO_WINDOW, a connection WINDOW_UPDATE to 2^31-1; received DATA is
    given back in the connection window (streams' windows are not
    replenished: 2 GiB each is more than any test file). SETTINGS and PING
    are acknowledged as they are read. Every frame read is in .frames;
    .server_settings holds the server's first SETTINGS, .goaways every
    GOAWAY as (last stream id, error code, debug data). KEEP_BODY=False
    keeps only each body's length and hash."""

    def __init__(self, port, context=None, sni="localhost", host="127.0.0.1",
                 settings=None, timeout=IO_TIMEOUT, preface=True, auto_window=True,
                 keep_body=True, rcvbuf=None, alpn=True):
        import hpack
        raw = connect_socket(port, host, timeout, rcvbuf)
        try:
            self.sock = context.wrap_socket(raw, server_hostname=sni) if context else raw
        except BaseException:
            raw.close()
            raise
        if context and alpn:
            got = self.sock.selected_alpn_protocol()
            assert got == "h2", f"ALPN selected {got!r}, not h2 (offer h2 in CONTEXT)"
        self.timeout = timeout
        self.buf = bytearray()
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.dec.max_header_list_size = 1 << 24
        self.streams = {}
        self.next_id = 1
        self.frames = []
        self.server_settings = None
        self.goaways = []
        self.closed = False
        self.auto_ack = True
        self.auto_window = auto_window
        self.keep_body = keep_body
        self.unacked = 0
        self._block = None          # (stream id, fragments, END_STREAM) of a header block
        self.settings = {H2_INITIAL_WINDOW_SIZE: H2_MAX_WINDOW} if settings is None else settings
        if preface:
            self.send(self.preface(self.settings, auto_window))

    @staticmethod
    def preface(settings, window=True):
        """The client's first bytes: the preface, SETTINGS (a dict) and, with
        WINDOW, the connection window raised to 2^31-1."""
        from hyperframe.frame import SettingsFrame, WindowUpdateFrame
        data = H2_PREFACE + SettingsFrame(0, settings=settings).serialize()
        if window:
            data += WindowUpdateFrame(0, window_increment=H2_MAX_WINDOW - 65535).serialize()
        return data

    def send_frames(self, *frames):
        self.send(b"".join(f.serialize() for f in frames))

    # requests
    def new_stream(self):
        sid = self.next_id
        self.next_id += 2
        self.streams[sid] = H2Response(sid)
        return sid

    def head_block(self, target, method="GET", authority="localhost", headers=(),
                   scheme=None, pseudo=None):
        """The HPACK block of a request (PSEUDO replaces the four pseudo-
        header fields, as [(name, value)])."""
        if pseudo is None:
            scheme = scheme or ("https" if hasattr(self.sock, "version") else "http")
            pseudo = [(":method", method), (":scheme", scheme), (":authority", authority),
                      (":path", target)]
        if isinstance(headers, dict):
            headers = list(headers.items())
        return self.enc.encode(list(pseudo) + list(headers))

    def request_frames(self, target, method="GET", end_stream=True, **kw):
        """(stream id, the HEADERS frame) of a new request."""
        from hyperframe.frame import HeadersFrame
        sid = self.new_stream()
        flags = ["END_HEADERS"] + (["END_STREAM"] if end_stream else [])
        return sid, HeadersFrame(sid, data=self.head_block(target, method, **kw), flags=flags)

    def request(self, target, method="GET", end_stream=True, **kw):
        """Send a request; returns its stream id."""
        sid, frame = self.request_frames(target, method, end_stream, **kw)
        self.send_frames(frame)
        return sid

    def get(self, target, method="GET", timeout=None, **kw):
        """One request and its whole answer."""
        return self.response(self.request(target, method, **kw), timeout)

    def response(self, sid, timeout=None):
        resp = self.streams[sid]
        self.read_until(lambda: resp.done, timeout, f"the end of stream {sid}")
        return resp

    # frames
    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return True

    def read_frame(self, timeout=None):
        """The next frame (handled as the class says), or None when the
        server closed the connection or TIMEOUT passed (.closed tells)."""
        from hyperframe.frame import Frame
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while len(self.buf) < 9:
            if self.closed or not self._fill(deadline):
                return None
        frame, length = Frame.parse_frame_header(memoryview(bytes(self.buf[:9])))
        while len(self.buf) < 9 + length:
            if self.closed or not self._fill(deadline):
                return None
        frame.parse_body(memoryview(bytes(self.buf[9:9 + length])))
        del self.buf[:9 + length]
        self._handle(frame)
        return frame

    def _stream(self, sid):
        if sid not in self.streams:
            self.streams[sid] = H2Response(sid)
        return self.streams[sid]

    def _handle(self, frame):
        from hyperframe.frame import (ContinuationFrame, DataFrame, GoAwayFrame, HeadersFrame,
                                      PingFrame, RstStreamFrame, SettingsFrame,
                                      WindowUpdateFrame)
        if not isinstance(frame, DataFrame):
            self.frames.append(frame)
        else:
            self.frames.append(("DATA", frame.stream_id, frame.flow_controlled_length,
                                frozenset(frame.flags)))
        if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
            if self.server_settings is None:
                self.server_settings = dict(frame.settings)
            if self.auto_ack:
                self.send_frames(SettingsFrame(0, flags=["ACK"]))
        elif isinstance(frame, PingFrame) and "ACK" not in frame.flags:
            if self.auto_ack:
                self.send_frames(PingFrame(0, opaque_data=frame.opaque_data, flags=["ACK"]))
        elif isinstance(frame, (HeadersFrame, ContinuationFrame)):
            if isinstance(frame, HeadersFrame):
                self._block = (frame.stream_id, [frame.data], "END_STREAM" in frame.flags)
            else:
                assert self._block and self._block[0] == frame.stream_id, \
                    f"CONTINUATION without its HEADERS: {frame}"
                self._block[1].append(frame.data)
            if "END_HEADERS" in frame.flags:
                sid, parts, end = self._block
                self._block = None
                fields = [(k.decode() if isinstance(k, bytes) else k,
                           v.decode("latin-1") if isinstance(v, bytes) else v)
                          for k, v in self.dec.decode(b"".join(parts))]
                s = self._stream(sid)
                if s.fields is None:
                    s.fields = fields
                    s.head_ended = end
                else:
                    s.trailers = fields
                s.ended = s.ended or end
        elif isinstance(frame, DataFrame):
            s = self._stream(frame.stream_id)
            s.length += len(frame.data)
            s.hash.update(frame.data)
            s.data_frames += 1
            if self.keep_body:
                s.body += frame.data
            s.ended = s.ended or "END_STREAM" in frame.flags
            if self.auto_window:
                self.unacked += frame.flow_controlled_length
                if self.unacked >= 1 << 24:
                    self.send_frames(WindowUpdateFrame(0, window_increment=self.unacked))
                    self.unacked = 0
        elif isinstance(frame, RstStreamFrame):
            self._stream(frame.stream_id).reset = frame.error_code
        elif isinstance(frame, GoAwayFrame):
            self.goaways.append((frame.last_stream_id, frame.error_code, frame.additional_data))
        elif isinstance(frame, WindowUpdateFrame):
            pass

    def read_until(self, predicate, timeout=None, what="a frame"):
        """Read frames until PREDICATE() holds; fails on a close or at TIMEOUT."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not predicate():
            if self.read_frame(max(deadline - time.monotonic(), 0.001)) is None \
                    and not predicate():
                why = "the server closed the connection" if self.closed else "time ran out"
                raise (H2Closed if self.closed else AssertionError)(
                    f"{why} waiting for {what}; GOAWAYs {self.goaways}; last frames "
                    f"{self.frames[-8:]}")

    def read_to_close(self, timeout=None):
        """Read frames until the server closes; fails if it does not within
        TIMEOUT. Returns the frames read meanwhile."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        start = len(self.frames)
        while not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the connection is still open after {timeout}s; "
                                     f"last frames {self.frames[-8:]}")
            try:
                self.read_frame(left)
            except OSError:
                self.closed = True
        return self.frames[start:]

    def expect_goaway_and_close(self, code, timeout=None):
        """The server sends GOAWAY with error CODE, then closes; returns the
        GOAWAY's (last stream id, code, debug data)."""
        try:
            self.read_to_close(timeout)
        except ssl_errors() as e:
            raise AssertionError(f"TLS error while reading to the close: {e}")
        assert self.goaways, f"closed without a GOAWAY; last frames {self.frames[-8:]}"
        assert self.goaways[-1][1] == code, \
            f"GOAWAY {self.goaways[-1]}, expected error {code:#x}; last frames {self.frames[-8:]}"
        return self.goaways[-1]

    def ping(self, data=b"rhtest!!", timeout=None):
        """A PING answered by its ACK: the connection works."""
        from hyperframe.frame import PingFrame
        self.send_frames(PingFrame(0, opaque_data=data))
        self.read_until(lambda: any(isinstance(f, PingFrame) and "ACK" in f.flags
                                    and f.opaque_data == data for f in self.frames[-50:]),
                        timeout, "the PING's ACK")


def ssl_errors():
    import ssl
    return (ssl.SSLError,)


def h2_context(ca=None, alpn=("h2",)):
    """A client SSLContext offering ALPN (default h2 alone), the chain
    checked against CA."""
    return tls_context(ca, alpn=list(alpn))


H2_STATUS_LINE_RE = re.compile(rb"^HTTP/2 ([1-5][0-9][0-9]) ?$")
H2_FIELD_RE = re.compile(rb"^([!#$%&'*+.^_`|~0-9a-z-]+): ([\t -~]*?)[ \t]*$")


def curl_h2(url, ca=None, args=(), resolve=None, timeout=60):
    """curl over HTTP/2 to URL: https with ALPN (--http2 and --cacert CA),
    http with --http2-prior-knowledge; RESOLVE is a --resolve entry. The
    Response's head as curl received it (HTTP/2 status line, lower-case
    field names checked), .body exact, .version curl's %{http_version}."""
    import tempfile
    mode = ["--http2", "--cacert", str(ca)] if url.startswith("https:") else \
        ["--http2-prior-knowledge"]
    with tempfile.TemporaryDirectory() as d:
        head, body = os.path.join(d, "head"), os.path.join(d, "body")
        cmd = ["curl", "-sS", *mode, *(["--resolve", resolve] if resolve else []),
               "-D", head, "-o", body, "-w", "%{http_version}", *args, url]
        p = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        err = p.stderr.decode(errors="replace")
        assert p.returncode == 0, f"curl exited with {p.returncode}: {err[-3000:]}"
        with open(head, "rb") as f:
            raw = f.read()
        data = b""
        if os.path.exists(body):        # curl makes no file for an empty body
            with open(body, "rb") as f:
                data = f.read()
    assert raw.endswith(b"\r\n\r\n"), raw
    lines = raw[:-4].split(b"\r\n")
    m = H2_STATUS_LINE_RE.match(lines[0])
    assert m, f"not an HTTP/2 status line in {raw!r}"
    headers = []
    for line in lines[1:]:
        h = H2_FIELD_RE.match(line)
        assert h, f"bad (or not lower-case) field line {line!r} in {raw!r}"
        headers.append((h.group(1).decode(), h.group(2).decode()))
    resp = Response(int(m.group(1)), "", headers, data, raw, None)
    cl = resp.header("content-length")
    if cl is not None:
        assert re.fullmatch(r"[0-9]+", cl), resp
        resp.length = int(cl)
    resp.version = p.stdout.decode().strip()
    return resp


def h2_fields_of(resp):
    """What an HTTP/2 answer to the request RESP (an HTTP/1.1 Response)
    answered must carry, RFC 9113 8.2.2: its fields with lower-case names,
    without Connection and Keep-Alive, and without Date (whose second may
    differ); sorted."""
    return sorted((k.lower(), v) for k, v in resp.headers
                  if k.lower() not in ("connection", "keep-alive", "date"))


def h2_fields(fields):
    """Fields of an HTTP/2 answer ([(name, value)]) comparable with
    h2_fields_of: without :status and date, sorted."""
    return sorted((k, v) for k, v in fields if k not in (":status", "date"))


def check_h2_common(fields):
    """server and date on every HTTP/2 answer; no connection-specific field."""
    names = [k for k, _ in fields]
    assert names.count("server") == 1 and dict(fields)["server"] == "ringhttpd", fields
    assert names.count("date") == 1 and IMF_FIXDATE_RE.match(dict(fields)["date"]), fields
    for bad in ("connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"):
        assert bad not in names, f"connection-specific field {bad}: {fields}"
    assert all(k == k.lower() for k in names), fields
