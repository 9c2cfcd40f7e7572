"""ringhttpd installed with `make install` under a booted systemd: socket
activation, journald fields, reload, a restart that loses no request, and
the sandbox's exposure score."""

import subprocess

import checks
from container import Container

PAGE = "<!DOCTYPE html>\n<title>first root</title>\n<p>served from /var/www/html</p>\n"


def install_tree(c, stage):
    """Copy a `make install DESTDIR=stage` tree into the root; directory
    symlinks of the merged-/usr root (/lib -> usr/lib) stay symlinks and
    existing directories keep their modes."""
    pack = subprocess.Popen(["tar", "-C", stage, "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-C", c.root, "-x", "--keep-directory-symlink", "--no-overwrite-dir"],
                   stdin=pack.stdout, check=True, timeout=120)
    if pack.wait(120) != 0:
        raise RuntimeError(f"tar of {stage} failed")


def enable_socket(c):
    c.run("systemctl", "daemon-reload")
    c.run("systemctl", "enable", "--now", "ringhttpd.socket")
    return checks.socket_waits(c)


def run(results, stage, sysconfdir):
    with Container() as c:
        install_tree(c, stage)
        checks.write(c, "/var/www/html/index.html", PAGE)
        c.boot()
        checks.run_all(results, c, [
            ("socket enabled and listening, https socket disabled, service inactive",
             enable_socket),
            ("first connection starts the service and gets the page",
             checks.first_connection, PAGE),
            ("journal entries carry structured fields", checks.journal_fields),
            ("reload serves a new document_root", checks.reload_new_root,
             f"{sysconfdir}/ringhttpd/ringhttpd.conf"),
            ("access_log = journal: one entry with the request's fields",
             checks.access_log_journal, f"{sysconfdir}/ringhttpd/ringhttpd.conf"),
            ("restart during a request loop loses no request", checks.restart_loses_nothing),
            ("SQPOLL, registered buffers and an access log file work in the sandbox",
             checks.sandbox_features,
             f"{sysconfdir}/ringhttpd/ringhttpd.conf"),
            (f"systemd-analyze security exposure <= {checks.MAX_EXPOSURE}",
             checks.security_score),
        ])
