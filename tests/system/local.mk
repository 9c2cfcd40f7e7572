# automake fragment included by Makefile.am
#
# make check-system: as root, boots systemd in containers made from a cached
# Debian root (see tests/system/container.py) and checks this build installed
# by `make install`, then the .deb (built by `make deb` of packaging.mk, once
# as is and once as the next Debian revision, to upgrade to; without running
# the test suite again, which `make check` runs), then HTTPS with the .deb
# (snakeoil, certbot against pebble). Ends with one "N passed, N failed" line.
EXTRA_DIST += \
	tests/system/checks.py \
	tests/system/container.py \
	tests/system/install_suite.py \
	tests/system/package_suite.py \
	tests/system/run.py \
	tests/system/tls_suite.py
SYSTEM_TEST_PY = /usr/bin/python3

.PHONY: check-system
check-system: all
	@set -e; stage=`mktemp -d`; trap 'rm -rf "$$stage"' EXIT; \
	$(MAKE) $(AM_MAKEFLAGS) install DESTDIR="$$stage" >/dev/null; \
	version=`dpkg-parsechangelog -l $(srcdir)/debian/changelog -S Version`; \
	next=$$(( $${version##*-} + 1 )); \
	DEB_BUILD_OPTIONS=nocheck $(MAKE) $(AM_MAKEFLAGS) deb; \
	DEB_BUILD_OPTIONS=nocheck $(MAKE) $(AM_MAKEFLAGS) deb DEB_REVISION=$$next; \
	arch=`dpkg --print-architecture`; \
	PYTHONDONTWRITEBYTECODE=1 $(SYSTEM_TEST_PY) $(srcdir)/tests/system/run.py \
		--stage "$$stage" --sysconfdir '$(sysconfdir)' \
		--deb "$(PKGDIR)/ringhttpd_$${version}_$$arch.deb" \
		--newer-deb "$(PKGDIR)/ringhttpd_$${version%-*}-$${next}_$$arch.deb"
