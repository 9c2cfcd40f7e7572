#!/usr/bin/python3
"""Entry point of `make check-system`: runs the system test suites, each in
its own container, and ends with one "N passed, N failed" line. A suite
(install_suite.py, package_suite.py, tls_suite.py) is a module whose run() drives the
checks of checks.py through a Results tally; it is no pytest module."""

import argparse
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(HERE, "..", "integration"))  # rhtest: the shared helpers

import install_suite  # noqa: E402
import package_suite  # noqa: E402
import tls_suite  # noqa: E402
from container import Results, log  # noqa: E402

TOOLS = ("debootstrap", "systemd-nspawn", "nsenter", "chroot", "mount", "tar", "dpkg-deb")


def prerequisites():
    assert os.geteuid() == 0, "the system tests need root (debootstrap, mount, systemd-nspawn)"
    missing = [t for t in TOOLS if not shutil.which(t)]
    assert not missing, "missing " + ", ".join(missing) + " (apt-get install debootstrap systemd-container)"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--stage", required=True,
                   help="a `make install DESTDIR=` tree of the build under test")
    p.add_argument("--sysconfdir", required=True, help="the build's sysconfdir")
    p.add_argument("--deb", help="the ringhttpd .deb to install")
    p.add_argument("--newer-deb", help="a newer build of it, to upgrade to")
    args = p.parse_args()
    results = Results()
    if results.check("running as root with the container tools", prerequisites):
        results.check("make install suite ran to its end",
                      install_suite.run, results, args.stage, args.sysconfdir)
        if args.deb and args.newer_deb:
            results.check("package suite ran to its end",
                          package_suite.run, results, args.deb, args.newer_deb)
            results.check("HTTPS suite ran to its end", tls_suite.run, results, args.deb)
        else:
            log("# package and HTTPS suites skipped: no --deb and --newer-deb given")
    return 0 if results.summary() else 1


if __name__ == "__main__":
    sys.exit(main())
