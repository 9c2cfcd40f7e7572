"""The soak: many mixed requests against one server (the sanitizer build),
every response checked byte for byte.

The HTTP/1.1 mix: small and medium files, single and multiple ranges,
conditional requests (304, 412), 404, pipelined requests, a chunked POST
(405 with its body read), and downloads closed mid-response (a FIN or a
reset). Several client processes each keep a connection alive and open a
new one when a request closed it (or when it closed one itself).

The HTTP/2 mix, from client processes of their own speaking h2c (prior
knowledge) on the same port: rounds of several concurrent streams on one
connection, of small, medium and big files, single and multiple ranges,
304, 404, HEAD and POST (405, its body whole or cut short and dropped),
streams reset with RST_STREAM mid-download, and connections closed (a FIN
or a reset) mid-response. Every answer is checked byte for byte, and with
the fields every HTTP/2 answer has; a GOAWAY before the end is a failure.

At the end the server is stopped with SIGTERM: it must exit 0 with no
sanitizer report in its stderr (LeakSanitizer runs at exit). Printed: the
totals per kind, the rate, the server's RSS after the warm-up and at the
end, and last "soak: N passed, N failed" (one test).

Environment: RINGHTTPD (the binary), SOAK_REQUESTS (default 5,000,000,
shared by the HTTP/1.1 clients; the HTTP/2 ones go on until those are
done) or SOAK_SECONDS (a duration instead), SOAK_CLIENTS (HTTP/1.1 client
processes, default 4), SOAK_H2_CLIENTS (HTTP/2 ones, default 1)."""

import multiprocessing
import os
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import rhtest  # noqa: E402
from rhtest import Client, H2Client, check_h2_common, req  # noqa: E402

WARMUP = 2.0    # seconds before the first RSS sample


def make_files(root):
    rnd = random.Random(5005)
    files = {"small.bin": rnd.randbytes(1024), "medium.bin": rnd.randbytes(200 * 1000),
             "big.bin": rnd.randbytes(3 * 1000 * 1000), "index.html": b"<p>soak</p>\n"}
    rhtest.write_files(root, files)
    return files


class Checker:
    def __init__(self, files, etags):
        self.files = files
        self.etags = etags

    def whole(self, r, name):
        data = self.files[name]
        assert (r.status, r.length, r.body) == (200, len(data), data), r
        assert r["ETag"] == self.etags[name], r

    def ranged(self, r, name, ranges):
        """A 206 for RANGES [(first, last)] of NAME: one Content-Range, or
        multipart/byteranges with a part per range (adjacent ones may be
        merged), each part's bytes exact."""
        data = self.files[name]
        assert r.status == 206, r
        ctype = r["Content-Type"]
        if not ctype.startswith("multipart/byteranges"):
            m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", r["Content-Range"])
            assert m and int(m.group(3)) == len(data), r
            first, last = int(m.group(1)), int(m.group(2))
            assert r.body == data[first:last + 1], r
            assert first == ranges[0][0] and last >= ranges[-1][1] or len(ranges) == 1, r
            return
        boundary = re.search(r"boundary=([^;\s]+)", ctype).group(1).encode()
        body = r.body
        assert body.startswith(b"--" + boundary + b"\r\n") or \
            body.startswith(b"\r\n--" + boundary + b"\r\n"), body[:200]
        assert body.endswith(b"\r\n--" + boundary + b"--\r\n"), body[-200:]
        covered = []
        for part in body.split(b"--" + boundary)[1:-1]:
            head, _, payload = part.partition(b"\r\n\r\n")
            assert payload.endswith(b"\r\n"), part[:200]
            payload = payload[:-2]
            m = re.search(rb"\r\nContent-Range: bytes (\d+)-(\d+)/(\d+)", head)
            assert m and int(m.group(3)) == len(data), head
            first, last = int(m.group(1)), int(m.group(2))
            assert payload == data[first:last + 1], (first, last)
            covered.append((first, last))
        assert covered and covered[0][0] == ranges[0][0] and covered[-1][1] == ranges[-1][1], \
            (covered, ranges)

    def error(self, r, status):
        assert r.status == status and r.body.startswith(b"<!DOCTYPE html>"), r


def failed(counts, errors, what, e, width, conn):
    """A wrong answer, or a bug of this script: both fail. The first five
    are kept (WIDTH characters of each); CONN, if any, is closed."""
    counts["errors"] += 1
    if len(errors) < 5:
        errors.append(f"{what}: {type(e).__name__}: {str(e)[:width]}")
    if conn is not None:
        conn.close()


def worker(port, files, etags, quota, until, seed, out):
    rnd = random.Random(seed)
    check = Checker(files, etags)
    counts, errors = Counter(), []
    kinds = ["small", "medium", "range", "multirange", "304", "412", "404", "pipelined",
             "chunked POST", "close mid-response", "reset mid-response"]
    weights = [30, 10, 10, 8, 8, 4, 8, 6, 6, 2, 2]
    conn = None
    done = 0
    while done < quota and time.monotonic() < until:
        kind = rnd.choices(kinds, weights)[0]
        try:
            if conn is None:
                conn = Client(port, timeout=30)
            n, keep = one(conn, kind, rnd, check)
            done += n
            counts[kind] += n
            if not keep:
                conn.close()
                conn = None
        except Exception as e:
            failed(counts, errors, kind, e, 400, conn)
            conn = None
    if conn is not None:
        conn.close()
    out.put(("HTTP/1.1", counts, errors))


def one(c, kind, rnd, check):
    """One exchange of KIND on C; returns (requests made, connection still
    good)."""
    if kind == "small":
        c.send(req("/small.bin"))
        r = c.response()
        check.whole(r, "small.bin")
    elif kind == "medium":
        c.send(req("/medium.bin"))
        r = c.response()
        check.whole(r, "medium.bin")
    elif kind == "range":
        size = len(check.files["medium.bin"])
        first = rnd.randrange(size)
        last = min(size - 1, first + rnd.randrange(1, 50000))
        spec = rnd.choice([f"{first}-{last}", f"{first}-", f"-{last - first + 1}"])
        c.send(req("/medium.bin", headers={"Range": f"bytes={spec}"}))
        r = c.response()
        if spec.endswith("-"):
            rng = [(first, size - 1)]
        elif spec.startswith("-"):
            rng = [(size - (last - first + 1), size - 1)]
        else:
            rng = [(first, last)]
        check.ranged(r, "medium.bin", rng)
    elif kind == "multirange":
        points = sorted(rnd.sample(range(0, 200000, 1000), 6))
        rng = [(points[i], points[i] + rnd.randrange(1, 500)) for i in range(0, 6, 2)]
        c.send(req("/medium.bin",
                   headers={"Range": "bytes=" + ",".join(f"{a}-{b}" for a, b in rng)}))
        r = c.response()
        check.ranged(r, "medium.bin", rng)
    elif kind == "304":
        name = rnd.choice(["small.bin", "medium.bin"])
        c.send(req("/" + name, headers={"If-None-Match": check.etags[name]}))
        r = c.response()
        assert r.status == 304 and r.body == b"" and r["ETag"] == check.etags[name], r
    elif kind == "412":
        c.send(req("/small.bin", headers={"If-Match": '"no-such-etag"'}))
        r = c.response()
        check.error(r, 412)
    elif kind == "404":
        c.send(req(f"/missing-{rnd.randrange(1000)}.bin"))
        r = c.response()
        check.error(r, 404)
    elif kind == "pipelined":
        c.send(req("/small.bin") + req("/index.html") + req("/medium.bin", method="HEAD")
               + req("/small.bin", headers={"Range": "bytes=10-19"}))
        check.whole(c.response(), "small.bin")
        r = c.response()
        assert (r.status, r.body) == (200, check.files["index.html"]), r
        r = c.response(head=True)
        assert (r.status, r.length, r.body) == (200, len(check.files["medium.bin"]), b""), r
        check.ranged(c.response(), "small.bin", [(10, 19)])
        return 4, True
    elif kind == "chunked POST":
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p)
                        for p in (os.urandom(rnd.randrange(1, 3000)) for _ in range(3)))
        c.send(req("/small.bin", method="POST",
                   headers={"Transfer-Encoding": "chunked"}) + body + b"0\r\n\r\n")
        r = c.response()
        check.error(r, 405)
        if r["Connection"] != "keep-alive":
            return 1, False
        c.send(req("/small.bin"))
        r = c.response()
        check.whole(r, "small.bin")
        return 2, r["Connection"] == "keep-alive"
    elif kind in ("close mid-response", "reset mid-response"):
        c.send(req(rnd.choice(["/big.bin", "/medium.bin"])))
        c.read_exact(rnd.randrange(1, 60000))
        if kind == "reset mid-response":
            c.reset()
        return 1, False
    return 1, r["Connection"] == "keep-alive"


class H2View:
    """An H2Response seen as Checker sees a Response: .status, .length
    (content-length, None if absent), .body as bytes, fields by name in any
    case."""

    def __init__(self, r):
        self.r = r
        self.status = r.status
        cl = r.header("content-length")
        self.length = None if cl is None else int(cl)
        self.body = bytes(r.body)

    def __getitem__(self, name):
        return self.r[name.lower()]

    def __repr__(self):
        return repr(self.r)


H2_KINDS = ["small", "medium", "big", "range", "multirange", "304", "404", "HEAD", "POST",
            "stream reset"]
H2_WEIGHTS = [30, 12, 2, 10, 8, 8, 8, 6, 5, 4]
H2_ROUND_TIMEOUT = 60       # seconds for one round's streams, the sanitizer build included


def h2_worker(port, files, etags, stop, until, seed, out):
    """Rounds of 1 to 8 concurrent streams on one h2c connection; now and
    then a round that ends by closing the connection mid-response. Until
    STOP is set (the HTTP/1.1 clients are done) or UNTIL."""
    rnd = random.Random(seed)
    check = Checker(files, etags)
    counts, errors = Counter(), []
    conn = None
    while not stop.is_set() and time.monotonic() < until:
        kinds = rnd.choices(H2_KINDS, H2_WEIGHTS, k=rnd.randrange(1, 9))
        cut = rnd.choices([None, "close mid-response", "reset mid-response"], [96, 2, 2])[0]
        try:
            if conn is None:
                conn = H2Client(port, timeout=30)
            n, keep = h2_round(conn, kinds, cut, rnd, check)
            for kind, k in n.items():
                counts["h2 " + kind] += k
            if not keep:
                conn.close()
                conn = None
        except Exception as e:
            failed(counts, errors, f"h2 round {kinds} {cut or ''}", e, 600, conn)
            conn = None
    if conn is not None:
        conn.close()
    out.put(("HTTP/2", counts, errors))


def h2_request(c, kind, rnd, check):
    """Send the request of KIND on C; returns (stream id, how to check its
    answer: a function of the H2Response, or None and the bytes of big.bin
    after which to reset it[, when the stream is over: a function of the
    H2Response, by default .done])."""
    from hyperframe.frame import DataFrame
    if kind in ("small", "medium", "big"):
        name = kind + ".bin"
        return c.request("/" + name), lambda r: h2_whole(check, r, name), None
    if kind == "range":
        size = len(check.files["medium.bin"])
        first = rnd.randrange(size)
        last = min(size - 1, first + rnd.randrange(1, 50000))
        spec = rnd.choice([f"{first}-{last}", f"{first}-", f"-{last - first + 1}"])
        if spec.endswith("-"):
            rng = [(first, size - 1)]
        elif spec.startswith("-"):
            rng = [(size - (last - first + 1), size - 1)]
        else:
            rng = [(first, last)]
        sid = c.request("/medium.bin", headers=[("range", f"bytes={spec}")])
        return sid, lambda r: h2_ranged(check, r, "medium.bin", rng), None
    if kind == "multirange":
        name = rnd.choice(["medium.bin", "big.bin"])
        points = sorted(rnd.sample(range(0, 200000, 1000), 6))
        rng = [(points[i], points[i] + rnd.randrange(1, 500)) for i in range(0, 6, 2)]
        sid = c.request("/" + name,
                        headers=[("range", "bytes=" + ",".join(f"{a}-{b}" for a, b in rng))])
        return sid, lambda r: h2_ranged(check, r, name, rng), None
    if kind == "304":
        name = rnd.choice(["small.bin", "medium.bin", "big.bin"])

        def is_304(r):
            h2_done(r)
            assert (r.status, r.head_ended, r.length, r.header("content-length"),
                    r["etag"]) == (304, True, 0, None, check.etags[name]), r
        return c.request("/" + name, headers=[("if-none-match", check.etags[name])]), \
            is_304, None
    if kind == "404":
        sid = c.request(f"/missing-{rnd.randrange(1000)}.bin")
        return sid, lambda r: h2_error(r, 404), None
    if kind == "HEAD":
        name = rnd.choice(["small.bin", "medium.bin", "big.bin"])

        def is_head(r):
            h2_done(r)
            assert (r.status, r.head_ended, r.length, r["content-length"], r["etag"]) == \
                (200, True, 0, str(len(check.files[name])), check.etags[name]), r
        return c.request("/" + name, "HEAD"), is_head, None
    if kind == "POST":
        body = os.urandom(rnd.randrange(1, 3000))
        whole = rnd.random() < 0.5
        # the whole body, or its first bytes of more announced: the rest is
        # dropped (RST_STREAM NO_ERROR once the 405 is complete)
        length = len(body) if whole else len(body) + rnd.randrange(1, 100000)
        sid, head = c.request_frames("/small.bin", "POST", end_stream=False,
                                     headers=[("content-length", str(length))])
        c.send_frames(head, DataFrame(sid, data=body, flags=["END_STREAM"] if whole else []))

        def is_405(r):
            h2_error(r, 405, reset=(None, rhtest.H2_NO_ERROR) if whole
                     else (rhtest.H2_NO_ERROR,))
        return sid, is_405, None, \
            (lambda r: r.done) if whole else (lambda r: r.reset is not None)
    if kind == "stream reset":
        # reset after 0 to 1,000,000 bytes of the 3,000,000
        return c.request("/big.bin"), None, rnd.choice([0, rnd.randrange(1, 1000000)])
    raise AssertionError(f"no kind {kind}")


def h2_done(r):
    """Ended by END_STREAM, not reset (a RST_STREAM NO_ERROR after the end
    is no reset); the fields every HTTP/2 answer has."""
    assert r.fields is not None and r.ended and r.reset in (None, rhtest.H2_NO_ERROR), r
    check_h2_common(r.fields)


def h2_whole(check, r, name):
    h2_done(r)
    check.whole(H2View(r), name)


def h2_ranged(check, r, name, rng):
    h2_done(r)
    v = H2View(r)
    assert v.length == len(v.body), r
    check.ranged(v, name, rng)


def h2_error(r, status, reset=(None,)):
    h2_done(r)
    assert r.reset in reset, r
    v = H2View(r)
    assert v.length == len(v.body), r
    assert v.status == status and v.body.startswith(b"<!DOCTYPE html>"), r


def h2_round(c, kinds, cut, rnd, check):
    """The streams of KINDS at once on C, read until every one is answered
    (or reset by this client); with CUT, a big.bin's stream is added and the
    connection is closed (a FIN or a reset) after some of its bytes, the
    other answers unchecked. Returns ({kind: requests}, connection still
    good)."""
    from hyperframe.frame import RstStreamFrame
    c.frames.clear()            # a long connection: keep no old frames or streams
    c.streams.clear()
    checks, over, resets = {}, {}, {}
    for kind in kinds:
        sid, how, reset_after, *finished = h2_request(c, kind, rnd, check)
        if how is not None:
            checks[sid] = how
            over[sid] = finished[0] if finished else (lambda r: r.done)
        else:
            resets[sid] = reset_after
    made = Counter(kinds)
    cut_sid = cut_after = None
    if cut:
        cut_sid, cut_after = c.request("/big.bin"), rnd.randrange(1, 1000000)
        made[cut] += 1
    deadline = time.monotonic() + H2_ROUND_TIMEOUT
    while True:
        for sid, after in list(resets.items()):
            s = c.streams[sid]
            if s.length >= after or s.done:
                assert s.reset is None, s
                if not s.ended:
                    c.send_frames(RstStreamFrame(sid, error_code=rhtest.H2_CANCEL))
                else:           # all of it came before the reset
                    h2_whole(check, s, "big.bin")
                del resets[sid]
        if cut_sid is not None and c.streams[cut_sid].length >= cut_after:
            assert c.streams[cut_sid].reset is None and not c.goaways, \
                (c.streams[cut_sid], c.goaways)
            c.reset() if cut == "reset mid-response" else c.close()
            return made, False
        if cut_sid is None and not resets and all(over[s](c.streams[s]) for s in checks):
            break
        left = deadline - time.monotonic()
        assert left > 0, f"no end of the round after {H2_ROUND_TIMEOUT} s: " \
            f"{[c.streams[s] for s in checks]}; last frames {c.frames[-8:]}"
        if c.read_frame(left) is None:
            why = "the server closed the connection" if c.closed else "time ran out"
            raise AssertionError(f"{why}: GOAWAYs {c.goaways}; streams "
                                 f"{[c.streams[s] for s in checks]}; last frames "
                                 f"{c.frames[-8:]}")
        assert not c.goaways, f"GOAWAY {c.goaways}; last frames {c.frames[-8:]}"
    for sid, how in checks.items():
        how(c.streams[sid])
    return made, True


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def main():
    binary = os.environ.get("RINGHTTPD")
    if not binary or not os.access(binary, os.X_OK):
        print("soak: RINGHTTPD must name the server binary")
        print("soak: 0 passed, 1 failed")
        return 1
    seconds = float(os.environ.get("SOAK_SECONDS") or 0)
    total = int(os.environ.get("SOAK_REQUESTS") or (10**12 if seconds else 5_000_000))
    clients = int(os.environ.get("SOAK_CLIENTS") or 4)
    h2_clients = int(os.environ.get("SOAK_H2_CLIENTS") or 1)
    rhtest.raise_nofile()
    failures = []
    with tempfile.TemporaryDirectory(prefix="ringhttpd-soak.") as tmp:
        root = os.path.join(tmp, "root")
        files = make_files(root)
        pool = rhtest.ServerPool(binary, tmp)
        srv = pool.new(rhtest.base_settings(root) | {"cpu_limit": 2},
                       env={"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
                            "UBSAN_OPTIONS": "print_stacktrace=1"})
        srv.start()
        etags = {}
        for name in files:
            with Client(srv.port) as c:
                c.send(req("/" + name))
                etags[name] = c.response()["ETag"]
        until = time.monotonic() + (seconds if seconds else 10**9)
        out = multiprocessing.Queue()
        stop = multiprocessing.Event()
        share = [total // clients + (i < total % clients) for i in range(clients)]
        procs = [multiprocessing.Process(target=worker, daemon=True,
                                         args=(srv.port, files, etags, share[i], until,
                                               1000 + i, out))
                 for i in range(clients)]
        procs += [multiprocessing.Process(target=h2_worker, daemon=True,
                                          args=(srv.port, files, etags, stop, until,
                                                2000 + i, out))
                  for i in range(h2_clients)]
        t0 = time.monotonic()
        for p in procs:
            p.start()
        time.sleep(WARMUP)
        rss_start = rss_kib(srv.pid)
        results = []
        while len(results) < len(procs):
            try:
                results.append(out.get(timeout=5))
                if sum(1 for kind, _, _ in results if kind == "HTTP/1.1") == clients:
                    stop.set()      # the HTTP/2 clients end their rounds
            except Exception:       # queue.Empty
                if not any(p.is_alive() for p in procs) and out.empty():
                    failures.append(f"{len(procs) - len(results)} client processes died")
                    break
        for p in procs:
            p.join(30)
        elapsed = time.monotonic() - t0
        rss_end = rss_kib(srv.pid)
        counts = sum((c for _, c, _ in results), Counter())
        errors = [e for _, _, es in results for e in es]
        made = sum(n for k, n in counts.items() if k != "errors")
        print(f"soak: {made} requests in {elapsed:.0f} s ({made / elapsed:.0f}/s) "
              f"by {clients} HTTP/1.1 and {h2_clients} HTTP/2 clients, "
              f"{counts['errors']} wrong or failed")
        for kind, n in sorted(counts.items()):
            print(f"  {kind}: {n}")
        print(f"soak: server RSS {rss_start} KiB after {WARMUP:.0f} s, {rss_end} KiB at the end")
        if counts["errors"]:
            failures.append(f"{counts['errors']} requests wrong or failed; first: " +
                            "\n  ".join(errors))
        if not seconds and made < total:
            failures.append(f"only {made} of {total} requests made")
        srv.signal(signal.SIGTERM)
        rc = srv.wait_exit(120)
        stderr = srv.stderr()
        reports = sum(stderr.count(m) for m in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                                "runtime error:"))
        leaks = len(re.findall(r"^(Direct|Indirect) leak of", stderr, re.M))
        print(f"soak: server exit status {rc}, {reports} sanitizer reports, {leaks} leaks")
        if rc != 0 or reports or leaks:
            failures.append("server stderr:\n" + "\n".join(stderr.splitlines()[-60:]))
    for f in failures:
        print("FAIL: " + f)
    print(f"soak: {0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
