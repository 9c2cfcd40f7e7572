# Integration tests: the built server over real sockets. Each test_*.py is
# one automake test, run by pytest (-B: no bytecode written into the source
# tree; -rfEs: failures, errors and skips are named, skips with their reason).
TEST_EXTENSIONS = .py
PY_LOG_COMPILER = $(PYTEST_PYTHON)
AM_PY_LOG_FLAGS = -B -m pytest -q -p no:cacheprovider -rfEs

integration_tests = \
	tests/integration/test_http.py \
	tests/integration/test_traversal.py \
	tests/integration/test_bodies.py \
	tests/integration/test_badinput.py \
	tests/integration/test_robustness.py \
	tests/integration/test_config.py \
	tests/integration/test_systemd.py \
	tests/integration/test_crowd.py \
	tests/integration/test_ops.py \
	tests/integration/test_semantics.py \
	tests/integration/test_sites.py \
	tests/integration/test_faults.py \
	tests/integration/test_listing.py \
	tests/integration/test_cold.py \
	tests/integration/test_tls.py \
	tests/integration/test_h2.py \
	tests/integration/test_tls_security.py \
	tests/integration/test_ktls.py

TESTS += $(integration_tests)
EXTRA_DIST += $(integration_tests) \
	tests/integration/conftest.py \
	tests/integration/pytest.ini \
	tests/integration/rhtest.py
