"""The .deb under a booted systemd, as an administrator uses it: install,
first connection, logs, an edited conffile and reload, restart, upgrade to
a newer build, remove, purge."""

import os
import re
import shutil
import subprocess

import checks
from container import Container, chroot_apt, log

CONF = "/etc/ringhttpd/ringhttpd.conf"
DEBS = "/var/tmp/ringhttpd-debs"  # readable by apt's _apt user
DEFAULT_PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "..", "data", "www", "index.html")


def deb_version(deb):
    return subprocess.run(["dpkg-deb", "-f", deb, "Version"], capture_output=True,
                          text=True, check=True, timeout=30).stdout.strip()


def stage_debs(c, debs):
    """Copy the .deb files into the root, where apt's _apt user can read
    them, and fetch what they need; returns their paths in the root."""
    os.makedirs(c.root + DEBS, mode=0o755)
    staged = [f"{DEBS}/{os.path.basename(d)}" for d in debs]
    for src, dst in zip(debs, staged):
        shutil.copy(src, c.root + dst)
        os.chmod(c.root + dst, 0o644)
    fetch_dependencies(c, staged)
    return staged


def fetch_dependencies(c, debs):
    """While the root still has network: its apt cache gets whatever the
    packages need. The apt lists of the cached root may be stale, and are
    refreshed only when that fails."""
    for deb in debs:
        try:
            chroot_apt(c.root, "install", "--download-only", deb, timeout=600)
        except RuntimeError:
            log("# apt-get --download-only failed: updating the lists of the root")
            chroot_apt(c.root, "update", timeout=600)
            chroot_apt(c.root, "install", "--download-only", deb, timeout=600)


def apt(c, *args):
    """apt-get inside the container, which has no network: only what is in
    its cache can be installed."""
    c.run("apt-get", "-q", "-y", *args, timeout=300)


def installed_version(c):
    return c.run("dpkg-query", "-W", "-f", "${Version}", "ringhttpd", check=False).stdout


def install(c, deb):
    apt(c, "install", deb)
    assert installed_version(c) == deb_version(c.root + deb), installed_version(c)
    return f"ringhttpd {installed_version(c)}"


def upgrade_keeps_serving(c, deb):
    """The newer build installs while requests flow, none fails, the server
    runs the new binary and the edited conffile stays as edited."""
    detail = checks.no_request_lost(c, lambda c: install(c, deb), "the upgrade")
    with open(c.root + CONF) as f:
        assert re.search(rf'(?m)^document_root = "{checks.NEW_ROOT}";$', f.read()), \
            f"{CONF} lost its edit"
    checks.expect_page(c, checks.NEW_PAGE)
    return f"to {installed_version(c)}, {detail}"


def remove_stops_listening(c):
    apt(c, "remove", "ringhttpd")
    for port in (80, 443):
        listening = checks.listeners(c, port)
        assert not listening, f"still listening on port {port} after remove:\n" + listening
    assert os.path.exists(c.root + CONF), f"remove deleted the conffile {CONF}"


def purge_removes_config(c):
    apt(c, "purge", "ringhttpd")
    assert not os.path.exists(c.root + "/etc/ringhttpd"), "/etc/ringhttpd is still there"
    assert installed_version(c) == "", "ringhttpd is still known to dpkg"


def run(results, deb, newer_deb):
    with open(DEFAULT_PAGE) as f:
        page = f.read()
    with Container() as c:
        first, newer = stage_debs(c, [deb, newer_deb])
        c.boot()
        checks.run_all(results, c, [
            ("apt-get install of the .deb", install, first),
            ("socket enabled and listening after install, https socket disabled, "
             "service inactive", checks.socket_waits),
            ("first connection starts the service and gets the default page",
             checks.first_connection, page),
            ("journalctl -u ringhttpd has the start-up line", checks.journal_ready_line),
            ("start-up and reload found by MESSAGE_ID, explained by the catalog",
             checks.journal_events, CONF),
            ("edited conffile applied by systemctl reload", checks.reload_new_root, CONF),
            ("restart during a request loop loses no request", checks.restart_loses_nothing),
            (f"systemd-analyze security exposure <= {checks.MAX_EXPOSURE}",
             checks.security_score),
            ("apt-get install of a newer build upgrades in place and keeps serving",
             upgrade_keeps_serving, newer),
            ("apt-get remove leaves nothing listening on port 80 or 443",
             remove_stops_listening),
            ("apt-get purge removes /etc/ringhttpd", purge_removes_config),
        ])
