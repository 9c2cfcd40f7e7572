"""kTLS: where the kernel's tls module is loaded, the server gives the
sending of its TLS connections to the kernel (ktls = "auto"), and every
body still arrives exact; where it is not, the same requests are answered
encrypted in user space, and the server says once why.

The first half needs a kernel with the tls module loaded. Where this one
has none, it runs on Debian 12's own kernel (6.1, the one its users run)
in a virtual machine started by tests/vm/run: this file runs there as a
script (--guest), which starts the built server with a TLS socket, makes
the requests with curl, and writes what it saw to a results file that the
tests below check. The certificates, ECDSA P-256 and
RSA-2048, are made with openssl req; the server has both, and each client
gets the one it asks for. The bodies: a 10 MB file, larger than
file_cache_max_file (sent by sendfile), a 1 MB and a 1,234-byte file
within it (from memory), single ranges of both and a multipart answer;
over TLS 1.3 and 1.2 with each certificate, and ChaCha20-Poly1305.
/proc/net/tls_stat counts the connections whose sending the kernel took,
and so do the status endpoint and STATUS=.

The second half makes the same requests on this kernel when it has no tls
module loaded (it is skipped where it has)."""

import base64
import json
import os
import random
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

import pytest

import rhtest
from test_semantics import multipart_parts

HERE = os.path.dirname(os.path.abspath(__file__))
VM_RUN = os.path.join(HERE, "..", "vm", "run")
VM_TIMEOUT = 900            # seconds for the whole run in the VM (TCG is slow)

CACHE_MAX = 1 << 20         # file_cache_max_file
FILES = {"big.bin": 10_000_000, "mem.bin": 1_000_000, "small.html": 1234}
# (name, file, Range or None); the first request of mem.bin loads it into
# memory, the next ones are sent from there
REQUESTS = [
    ("sendfile", "big.bin", None),
    ("memory-first", "mem.bin", None),
    ("memory", "mem.bin", None),
    ("memory-small", "small.html", None),
    ("sendfile-range", "big.bin", "1234567-2345677"),
    ("memory-range", "mem.bin", "-100000"),
    ("multipart", "big.bin", "0-99,5000000-5000999,9999900-"),
]
# name: (curl options, certificate wanted, protocol, cipher); "rsa" clients
# offer only RSA signatures (TLS 1.3 has no cipher that selects the key).
# The h2 clients take the same bodies as DATA frames: on kTLS, a file's
# frame head and then sendfile of the frame's length.
CLIENTS = {
    "tls1.3-ecdsa": (["--http1.1", "--tlsv1.3"], "ecdsa", "TLSv1.3", None),
    "tls1.3-rsa": (["--http1.1", "--tlsv1.3"], "rsa", "TLSv1.3", None),
    "tls1.3-chacha20": (["--http1.1", "--tlsv1.3", "--tls13-ciphers",
                         "TLS_CHACHA20_POLY1305_SHA256"],
                        "ecdsa", "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"),
    "tls1.2-ecdsa": (["--http1.1", "--tlsv1.2", "--tls-max", "1.2", "--ciphers",
                      "ECDHE-ECDSA-AES256-GCM-SHA384"],
                     "ecdsa", "TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384"),
    "tls1.2-rsa": (["--http1.1", "--tlsv1.2", "--tls-max", "1.2", "--ciphers",
                    "ECDHE-RSA-AES128-GCM-SHA256"],
                   "rsa", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
    "h2-tls1.3-ecdsa": (["--http2", "--tlsv1.3"], "ecdsa", "TLSv1.3", None),
    "h2-tls1.2-rsa": (["--http2", "--tlsv1.2", "--tls-max", "1.2", "--ciphers",
                       "ECDHE-RSA-AES128-GCM-SHA256"],
                      "rsa", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
}
KEPT_BODY = 64 * 1024       # bodies up to this size come back whole, larger ones as hashes
KTLS_ON = "notice: TLS: the kernel encrypts what is sent (kTLS); files go by sendfile"
KTLS_OFF = ('notice: TLS: encrypted in user space, kTLS not used: the kernel\'s tls module '
            'is not loaded (tcp_available_ulp has no "tls")')
CONNECTION_RE = re.compile(r"^debug: 127\.0\.0\.1: TLS (TLSv1\.[23]) (\S+)(, kTLS sending)?; "
                           r"sending (by the kernel|encrypted in user space)")


def content(name):
    seed = sorted(FILES).index(name)
    return random.Random(seed).randbytes(FILES[name])


class Pki:
    """The certificates in DIRECTORY: an ECDSA P-256 and an RSA-2048 pair,
    self-signed for localhost and 127.0.0.1, both in ca.pem, and an OpenSSL
    configuration for clients that offer only RSA signatures."""

    def __init__(self, directory):
        self.dir = str(directory)
        for kind in ("ecdsa", "rsa"):
            setattr(self, kind, (os.path.join(self.dir, f"{kind}.pem"),
                                 os.path.join(self.dir, f"{kind}.key")))
        self.ca = os.path.join(self.dir, "ca.pem")
        self.rsa_only = os.path.join(self.dir, "rsa-only.cnf")

    def make(self):
        for kind, newkey in (("ecdsa", ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                             ("rsa", ["rsa:2048"])):
            cert, key = getattr(self, kind)
            subprocess.run(["openssl", "req", "-x509", "-newkey", *newkey, "-nodes",
                            "-subj", f"/CN={kind}.test",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                            "-days", "2", "-keyout", key, "-out", cert],
                           check=True, capture_output=True)
        with open(self.ca, "w") as ca:
            for kind in ("ecdsa", "rsa"):
                with open(getattr(self, kind)[0]) as f:
                    ca.write(f.read())
        with open(self.rsa_only, "w") as f:
            f.write("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\n"
                    "system_default = client\n[client]\n"
                    "SignatureAlgorithms = rsa_pss_rsae_sha256\n")
        return self


# ---------------------------------------------- the server and its clients
# (run where the tls module is loaded, often in the VM, and where it is not)

def tls_stat():
    """/proc/net/tls_stat as {counter: value}; {} without the tls module."""
    try:
        with open("/proc/net/tls_stat") as f:
            return {name: int(value) for name, value in (line.split() for line in f)}
    except FileNotFoundError:
        return {}


def run_client(name, port, pki, out):
    """One curl for every request of REQUESTS, on one connection; its
    handshake as curl -v saw it, each answer's head and body hash (and
    the small bodies)."""
    options, cert, _, _ = CLIENTS[name]
    common = ["-sS", "-v", "--cacert", pki.ca, *options]
    cmd = ["curl"]
    for i, (_, path, byte_range) in enumerate(REQUESTS):
        cmd += ["--next"] if i else []
        cmd += common + (["-r", byte_range] if byte_range else [])
        cmd += [f"https://127.0.0.1:{port}/{path}", "-o", f"{out}/{name}-{i}.body",
                "-D", f"{out}/{name}-{i}.head"]
    env = dict(os.environ, OPENSSL_CONF=pki.rsa_only) if cert == "rsa" else None
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       errors="replace", env=env, timeout=600)
    handshakes = re.findall(r"^\* SSL connection using (\S+) / (\S+)$", p.stderr, re.M)
    subjects = re.findall(r"^\*  subject: CN=(\S+)$", p.stderr, re.M)
    answers = []
    for i, (request, _, _) in enumerate(REQUESTS):
        try:
            with open(f"{out}/{name}-{i}.head", "rb") as f:
                head = f.read()
            with open(f"{out}/{name}-{i}.body", "rb") as f:
                body = f.read()
        except FileNotFoundError:
            break
        kept = base64.b64encode(body).decode() if len(body) <= KEPT_BODY else None
        answers.append({"request": request, "head": head.decode("latin-1"),
                        "sha": rhtest.sha(body), "body": kept})
    return {"status": p.returncode, "stderr": p.stderr[-3000:], "handshakes": handshakes,
            "subjects": subjects, "answers": answers}


def held_connection(port, pki, before):
    """tls_stat while a TLS connection is open, after one request on it:
    once it counts one more connection than BEFORE (the server closes
    those of the clients before, which have gone), or as it is after 10 s."""
    with rhtest.Client(port) as c:
        c.sock = ssl.create_default_context(cafile=pki.ca).wrap_socket(
            c.sock, server_hostname="127.0.0.1")
        c.send(rhtest.req("/small.html", host="127.0.0.1"))
        r = c.response()
        assert (r.status, r.body) == (200, content("small.html")), r
        if not before:
            return {}
        deadline = time.monotonic() + 10
        while (now := tls_stat())["TlsCurrTxSw"] != before["TlsCurrTxSw"] + 1 \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        return now


def serve_and_fetch(binary, pki):
    """Start the server with ktls = "auto", run every client of CLIENTS,
    then one held connection; what was seen, for the checks."""
    work = tempfile.mkdtemp(prefix="ringhttpd-ktls.")     # in the VM: on tmpfs, so
    try:                                                  # sendfile is always taken
        root = os.path.join(work, "root")
        rhtest.write_files(root, {name: content(name) for name in FILES})
        out = os.path.join(work, "out")
        os.mkdir(out)
        settings = rhtest.base_settings(root)
        settings.update({"tls_listen": ["127.0.0.1:0"], "ktls": "auto",
                         "tls_certificate": [pki.ecdsa[0], pki.rsa[0]],
                         "tls_key": [pki.ecdsa[1], pki.rsa[1]], "status_path": "/status",
                         "file_cache_max_file": CACHE_MAX, "log_level": "debug"})
        pool = rhtest.ServerPool(binary, os.path.join(work, "servers"))
        with rhtest.Notify() as notify:
            srv = pool.new(settings, env={"NOTIFY_SOCKET": notify.address}).start()
            (_, port), = srv.tls
            (_, plain), = [a for a in srv.addrs if a not in srv.tls]
            try:
                before = tls_stat()
                clients = {name: run_client(name, port, pki, out) for name in CLIENTS}
                during = held_connection(port, pki, before)
                connections = sum(len(c["handshakes"]) for c in clients.values()) + 1
                metrics = rhtest.fetch(plain, "/status").body.decode()
                i, status = 0, ""
                deadline = time.monotonic() + 30    # STATUS= is sent every few seconds
                while f"{connections} TLS handshakes" not in status:
                    i, m = notify.wait("STATUS", start=i,
                                       timeout=max(deadline - time.monotonic(), 0.1))
                    i, status = i + 1, m["STATUS"]
            finally:
                pool.stop_all()
            after = tls_stat()
        return {"clients": clients,
                "connections": connections, "tls_stat": [before, during, after],
                "metrics": metrics, "status": status, "log": srv.stderr()}
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------- checks

def byte_ranges(spec, size):
    """[(first, last)] of a Range value's byte ranges."""
    ranges = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        if not first:
            ranges.append((size - int(last), size - 1))
        else:
            ranges.append((int(first), int(last) if last else size - 1))
    return ranges


def check_answers(result, name):
    """The client NAME got its certificate and protocol, on one connection,
    and every answer of REQUESTS exact."""
    _, cert, protocol, cipher = CLIENTS[name]
    assert result["status"] == 0, result["stderr"]
    assert len(result["handshakes"]) == 1, result["stderr"]   # one connection for all
    got_protocol, got_cipher = result["handshakes"][0]
    assert got_protocol == protocol and (cipher is None or got_cipher == cipher), \
        result["handshakes"]
    assert result["subjects"] == [f"{cert}.test"], result["stderr"]
    assert [a["request"] for a in result["answers"]] == [r for r, _, _ in REQUESTS], \
        result["stderr"]
    for answer, (request, path, spec) in zip(result["answers"], REQUESTS):
        head = answer["head"].encode("latin-1")
        if name.startswith("h2-"):
            status, rest = re.fullmatch(rb"HTTP/2 (\d{3}) \r\n(.*)", head, re.S).groups()
            head = b"HTTP/1.1 " + status + b" -\r\n" + rest
        r = rhtest.parse_head(head)
        data = content(path)
        what = f"{name} {request}: {r!r}"
        if spec is None:
            assert (r.status, r.length, answer["sha"]) == (200, len(data), rhtest.sha(data)), what
            continue
        ranges = byte_ranges(spec, len(data))
        if len(ranges) == 1:
            (first, last), = ranges
            assert r.status == 206 and r["Content-Range"] == f"bytes {first}-{last}/{len(data)}", \
                what
            assert (r.length, answer["sha"]) == (last - first + 1,
                                                 rhtest.sha(data[first:last + 1])), what
            continue
        assert answer["body"] is not None, what
        r.body = base64.b64decode(answer["body"])
        assert answer["sha"] == rhtest.sha(r.body), what
        _, parts = multipart_parts(r)
        parts = [(first, last, got, total) for first, last, _, got, total in parts]
        assert parts == [(first, last, data[first:last + 1], len(data))
                         for first, last in ranges], what


def metric(results, name):
    m = re.search(rf"^{name} (\d+)$", results["metrics"], re.M)
    assert m, results["metrics"]
    return int(m.group(1))


def connection_lines(results):
    return [m.groups() for m in map(CONNECTION_RE.match, results["log"].splitlines()) if m]


# ------------------------------------------- with kTLS: here or in the VM

def tls_module_loaded():
    with open("/proc/sys/net/ipv4/tcp_available_ulp") as f:
        return "tls" in f.read().split()


def vm_unavailable():
    """Why no VM can start here, or None (the kernel is then ready)."""
    p = subprocess.run([VM_RUN, "--prepare"], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=600)
    if p.returncode == 77:
        return p.stderr.strip()
    assert p.returncode == 0, p.stderr
    return None


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(tmp_path_factory.mktemp("pki")).make()


@pytest.fixture(scope="module")
def ktls(binary, pki, tmp_path_factory):
    """What serve_and_fetch saw on a kernel with the tls module: this one,
    or Debian 12's in the VM."""
    if tls_module_loaded():
        return serve_and_fetch(binary, pki)
    why = vm_unavailable()
    if why:
        rhtest.skip_unless_ci(f"no VM can start: {why}", "qemu-system-x86")
    work = tmp_path_factory.mktemp("vm")
    sanitizers = [f"--env={v}" for v in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
                  if v in os.environ]
    # the build and source trees, and where the test runs, may be in /tmp
    shown = {os.path.dirname(os.path.dirname(os.path.abspath(binary))),
             os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
             os.getcwd()}
    ro = [arg for d in sorted(shown) for arg in ("--ro", d)]
    p = subprocess.run([VM_RUN, *ro, "--rw", str(work), "--rw", pki.dir, f"--env=RINGHTTPD={binary}",
                        *sanitizers, "--timeout", str(VM_TIMEOUT), "--",
                        sys.executable, "-B", os.path.abspath(__file__), "--guest", str(work),
                        pki.dir],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace")
    assert p.returncode == 0, f"exit status {p.returncode}\n{p.stdout}\n{p.stderr}"
    with open(work / "results.json") as f:
        return json.load(f)


@pytest.mark.parametrize("name", CLIENTS)
def test_ktls_bodies_exact(ktls, name):
    check_answers(ktls["clients"][name], name)


def test_ktls_sending_offloaded(ktls):
    """Every connection's sending went to the kernel, its receiving stayed
    in user space; tls_stat, the status endpoint, STATUS= and the log say
    so."""
    n = ktls["connections"]
    before, during, after = ktls["tls_stat"]
    assert after["TlsTxSw"] - before["TlsTxSw"] == n, ktls["tls_stat"]
    assert after["TlsRxSw"] == before["TlsRxSw"], ktls["tls_stat"]
    assert during["TlsCurrTxSw"] == before["TlsCurrTxSw"] + 1, ktls["tls_stat"]
    assert after["TlsCurrTxSw"] == before["TlsCurrTxSw"], ktls["tls_stat"]
    assert metric(ktls, "ringhttpd_ktls_connections_total") == n
    assert metric(ktls, "ringhttpd_ktls_enabled") == 1
    assert metric(ktls, "ringhttpd_tls_handshakes_total") == n
    assert f", {n} TLS handshakes, kTLS on {n} connections" in ktls["status"], ktls["status"]
    lines = ktls["log"].splitlines()
    assert lines.count(KTLS_ON) == 1 and KTLS_OFF not in lines, ktls["log"]
    conns = connection_lines(ktls)
    assert len(conns) == n and all(c[2] and c[3] == "by the kernel" for c in conns), ktls["log"]


# ----------------------------------------------------- without kTLS: here

@pytest.fixture(scope="module")
def host(binary, pki):
    """What serve_and_fetch saw on this kernel, without the tls module."""
    if tls_module_loaded():
        pytest.skip("this kernel has the tls module loaded: no fallback to check")
    return serve_and_fetch(binary, pki)


@pytest.mark.parametrize("name", CLIENTS)
def test_fallback_bodies_exact(host, name):
    check_answers(host["clients"][name], name)


def test_fallback_says_why(host):
    """No connection offloaded, the metrics and STATUS= say so, and one line
    of the log says why."""
    assert metric(host, "ringhttpd_ktls_connections_total") == 0
    assert metric(host, "ringhttpd_ktls_enabled") == 0
    n = host["connections"]
    assert metric(host, "ringhttpd_tls_handshakes_total") == n
    assert (f", {n} TLS handshakes, TLS in user space (the kernel's tls module is not "
            f'loaded (tcp_available_ulp has no "tls"))') in host["status"], host["status"]
    lines = host["log"].splitlines()
    assert lines.count(KTLS_OFF) == 1 and KTLS_ON not in lines, host["log"]
    conns = connection_lines(host)
    assert len(conns) == n and not any(c[2] or c[3] == "by the kernel" for c in conns), \
        host["log"]


if __name__ == "__main__":
    # in the VM: tests/integration/test_ktls.py --guest RESULTS_DIR PKI_DIR
    assert sys.argv[1] == "--guest", sys.argv
    results = serve_and_fetch(os.environ["RINGHTTPD"], Pki(sys.argv[3]))
    with open(os.path.join(sys.argv[2], "results.json"), "w") as f:
        json.dump(results, f)
