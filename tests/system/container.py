"""Shared helpers for the system tests: a cached Debian root, a booted
systemd container made from it, and the pass/fail tally.

The root is made once with debootstrap from the mirror named in this
machine's apt sources and kept outside the source tree (default
/var/cache/ringhttpd-system-test, or $RINGHTTPD_SYSTEM_CACHE). Each run
boots a throw-away overlay of it with systemd-nspawn and runs commands in
it with nsenter; the container is always torn down, also on a signal.
"""

import fcntl
import glob
import os
import shutil
import signal
import subprocess
import tempfile

from rhtest import wait_until  # one helper for both suites (run.py sets the path)

SUITE = "bookworm"
# What the cached root holds besides a minimal Debian: an init, the tools the
# tests run inside (procps for the unit's ExecReload=/bin/kill, as on any
# standard system; openssl, ssl-cert's snakeoil pair, certbot and pebble, a
# local ACME CA, for HTTPS), and the libraries the server links with.
ROOT_PACKAGES = sorted([
    "systemd", "systemd-sysv", "dbus", "procps", "curl", "iproute2",
    "openssl", "ssl-cert", "certbot", "pebble",
    "liburing2", "libconfig9", "libsystemd0", "libssl3", "media-types",
])
CACHE = os.environ.get("RINGHTTPD_SYSTEM_CACHE", "/var/cache/ringhttpd-system-test")
STAMP = "etc/ringhttpd-system-test.stamp"


def log(msg):
    print(msg, flush=True)


class Results:
    """Runs named checks in order and counts them."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, func, *args):
        """Run func(*args), which fails by raising; it may return a detail
        string to show. Returns whether it passed."""
        try:
            detail = func(*args)
        except Exception as e:  # any failure of a check is reported, not fatal
            self.failed += 1
            log(f"FAIL - {name}: {type(e).__name__}: {e}")
            return False
        self.passed += 1
        log(f"ok - {name}" + (f" ({detail})" if detail else ""))
        return True

    def summary(self):
        log(f"{self.passed} passed, {self.failed} failed")
        return self.failed == 0


# ---------------------------------------------------------------- apt sources

def _one_line_entries(path):
    """Entries of a one-line-style sources file: deb [opts] URI SUITE COMP..."""
    with open(path) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if len(words) < 3 or words[0] not in ("deb", "deb-src"):
                continue
            if words[1].startswith("["):
                while words and not words[1].endswith("]"):
                    del words[1]
                del words[1]
            yield {"Types": [words[0]], "URIs": [words[1]],
                   "Suites": [words[2]], "Components": words[3:]}


def _deb822_entries(path):
    """Stanzas of a deb822 .sources file, fields split into words."""
    with open(path) as f:
        text = f.read()
    for stanza in text.split("\n\n"):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:
                fields[key].extend(line.split())
                continue
            key, _, value = line.partition(":")
            key = key.strip()
            fields[key] = value.split()
        if fields and fields.get("Enabled", ["yes"])[0].lower() != "no":
            yield fields


def host_sources():
    """(URI, suite, components, signed-by) of every enabled 'deb' entry for
    SUITE and its -updates/-security suites in this machine's apt sources."""
    entries = []
    if os.path.exists("/etc/apt/sources.list"):
        entries += _one_line_entries("/etc/apt/sources.list")
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        entries += _one_line_entries(path)
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        entries += _deb822_entries(path)
    found = []
    for e in entries:
        if "deb" not in e.get("Types", []):
            continue
        for suite in e.get("Suites", []):
            if suite == SUITE or suite.startswith(SUITE + "-"):
                for uri in e.get("URIs", []):
                    found.append((uri, suite, e.get("Components", ["main"]),
                                  (e.get("Signed-By") or [""])[0]))
    if not any(suite == SUITE for _, suite, _, _ in found):
        raise RuntimeError(f"no 'deb' entry for {SUITE} in this machine's apt sources")
    return found


def _write_root_sources(root, sources):
    """Give the root the host's entries, as one deb822 file."""
    stanzas = []
    for uri, suite, components, signed_by in sources:
        stanza = f"Types: deb\nURIs: {uri}\nSuites: {suite}\nComponents: {' '.join(components)}\n"
        if signed_by and os.path.exists(root + signed_by):
            stanza += f"Signed-By: {signed_by}\n"
        stanzas.append(stanza)
    os.makedirs(f"{root}/etc/apt/sources.list.d", exist_ok=True)
    with open(f"{root}/etc/apt/sources.list.d/host.sources", "w") as f:
        f.write("\n".join(stanzas))
    if os.path.exists(f"{root}/etc/apt/sources.list"):
        os.remove(f"{root}/etc/apt/sources.list")


def chroot_apt(root, *args, timeout=1800):
    """apt-get in the unbooted root (it shares this machine's network); its
    output is shown only when it fails."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C.UTF-8")
    shutil.copyfile("/etc/resolv.conf", root + "/etc/resolv.conf")
    r = subprocess.run(["chroot", root, "apt-get", "-q", "-y", *args], env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"apt-get {' '.join(args)} in {root} exited with {r.returncode}:\n"
                           + r.stdout)


# ---------------------------------------------------------------- the cached root

def cached_root():
    """Path of the cached root: debootstrapped once, and given ROOT_PACKAGES
    whenever the list differs from what the stamp says it holds. Serialised
    with a lock so that parallel runs share one build."""
    os.makedirs(CACHE, exist_ok=True)
    root = os.path.join(CACHE, f"{SUITE}-{os.uname().machine}")
    stamp = "\n".join(ROOT_PACKAGES) + "\n"
    with open(root + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(os.path.join(root, STAMP)) as f:
                if f.read() == stamp:
                    return root
        except FileNotFoundError:
            pass
        sources = host_sources()
        if not os.path.isdir(root):
            log(f"# making the cached {SUITE} root in {root} (once; takes minutes)")
            mirror = next(uri for uri, suite, _, _ in sources if suite == SUITE)
            new = root + ".new"
            shutil.rmtree(new, ignore_errors=True)
            subprocess.run(["debootstrap", "--variant=minbase", SUITE, new, mirror],
                           check=True, timeout=3600)
            os.rename(new, root)
        _write_root_sources(root, sources)
        chroot_apt(root, "update")
        chroot_apt(root, "install", "--no-install-recommends", *ROOT_PACKAGES)
        chroot_apt(root, "clean")
        with open(os.path.join(root, STAMP), "w") as f:
            f.write(stamp)
        return root


# ---------------------------------------------------------------- the container

class Container:
    """A booted overlay of the cached root, torn down on exit.

    with Container() as c:
        chroot_apt(c.root, ...)   # before boot(): the root still has network
        c.boot()
        c.run("systemctl", "is-system-running")   # inside, via nsenter
    """

    def __init__(self):
        self.base = cached_root()
        self.dir = tempfile.mkdtemp(prefix="ringhttpd-system.")
        self.root = os.path.join(self.dir, "root")
        self.nspawn = None
        self.pid = None
        self.console = None

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _raise_exit)
        try:
            for d in ("upper", "work", "root"):
                os.mkdir(os.path.join(self.dir, d))
            subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            f"lowerdir={self.base},upperdir={self.dir}/upper,"
                            f"workdir={self.dir}/work", self.root], check=True, timeout=30)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.nspawn is not None:
            self._stop()
        if os.path.ismount(self.root):
            subprocess.run(["umount", "--lazy", self.root], timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def boot(self, timeout=60):
        """Boot systemd in the root without network and wait until it has
        finished starting up."""
        self.console = open(os.path.join(self.dir, "console.log"), "w")
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "-b", "--quiet", "--register=no", "--keep-unit",
             "--private-network", "-D", self.root,
             # As on a host, systemd may raise limits (LimitMEMLOCK=, LimitNOFILE=).
             "--capability=CAP_SYS_RESOURCE"],
            stdin=subprocess.DEVNULL, stdout=self.console, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.pid = wait_until(self._init_pid, timeout, "the container's init")
        state = wait_until(self._booted, timeout, "systemd to finish booting", 0.5)
        log(f"# container booted (init pid {self.pid}, system {state})")

    def _init_pid(self):
        if self.nspawn.poll() is not None:
            raise RuntimeError(f"systemd-nspawn exited with {self.nspawn.returncode}:\n"
                               + self.console_log())
        children = glob.glob(f"/proc/{self.nspawn.pid}/task/*/children")
        pids = [int(p) for c in children for p in open(c).read().split()]
        return pids[0] if pids else None

    def _booted(self):
        state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
        return state if state in ("running", "degraded") else None

    def run(self, *cmd, check=True, timeout=60, input=None):
        """Run cmd inside the booted container; returns the CompletedProcess."""
        stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        r = subprocess.run(["nsenter", "-t", str(self.pid), "-a", "--", *cmd],
                           **stdin, capture_output=True, text=True, timeout=timeout,
                           env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8",
                                "DEBIAN_FRONTEND": "noninteractive"})
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited with {r.returncode}:\n{r.stdout}{r.stderr}")
        return r

    def console_log(self):
        with open(os.path.join(self.dir, "console.log")) as f:
            return f.read()

    def _stop(self, timeout=30):
        """Ask systemd in the container to power off; kill it if it does not."""
        self.nspawn.terminate()
        try:
            self.nspawn.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.nspawn.pid, signal.SIGKILL)
            self.nspawn.wait(timeout)
        self.console.close()
        self.nspawn = None


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)
