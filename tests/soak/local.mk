# The soak: `make soak` runs SOAK_REQUESTS (default 5,000,000) mixed
# requests, or requests for SOAK_SECONDS, against the server of this build
# (configure it with --enable-sanitizers for the 0-leaks, 0-reports check)
# and ends with "soak: N passed, N failed".
EXTRA_DIST += tests/soak/soak.py
soak: all
	@py='$(PYTEST_PYTHON)'; RINGHTTPD='$(abs_top_builddir)/src/ringhttpd' \
		$${py:-python3} -B $(srcdir)/tests/soak/soak.py
.PHONY: soak
