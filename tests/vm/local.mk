# automake fragment included by Makefile.am
#
# tests/vm/run runs a command in a VM that boots Debian 12's own kernel
# (6.1) with the tls module loaded; test_ktls.py uses it (`tests/vm/run
# --help` says more). make check-vm runs make check on that kernel, with
# this build directory writable in the VM. Under emulation (no KVM) guest
# CPU work is 10 to 50 times slower, so pick the tests:
#   make check-vm TESTS="tests/unit/test_http_parse tests/integration/test_http.py"
EXTRA_DIST += tests/vm/run

check-vm: all $(check_PROGRAMS)
	$(srcdir)/tests/vm/run --rw $(abs_top_builddir) --env CI -- \
		$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(TESTS)'

.PHONY: check-vm
