# C unit tests of the pure parts: parser, conditions and ranges, chunked
# bodies, path normalization, MIME types, configuration errors, path
# resolution and the file cache, the handler's response plans, the sites
# layer (path rules, negotiation, Host selection, per-site configuration,
# directory listings and their cache, metrics), the per-address connection
# count, the journal protocol and access log escaping.
unit_tests = \
	tests/unit/test_http_parse \
	tests/unit/test_http_cond \
	tests/unit/test_http_chunked \
	tests/unit/test_path \
	tests/unit/test_mime \
	tests/unit/test_config \
	tests/unit/test_file \
	tests/unit/test_handler \
	tests/unit/test_http_resp \
	tests/unit/test_rules \
	tests/unit/test_negotiate \
	tests/unit/test_vhost \
	tests/unit/test_peer_limit \
	tests/unit/test_site_conf \
	tests/unit/test_listing \
	tests/unit/test_listing_cache \
	tests/unit/test_metrics \
	tests/unit/test_journal
check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests)
EXTRA_DIST += tests/unit/check.h
tests_unit_test_http_parse_LDADD = $(RH_LIBS)
tests_unit_test_http_cond_LDADD = $(RH_LIBS)
tests_unit_test_http_chunked_LDADD = $(RH_LIBS)
tests_unit_test_path_LDADD = $(RH_LIBS)
tests_unit_test_mime_LDADD = $(RH_LIBS)
tests_unit_test_config_LDADD = $(RH_LIBS)
tests_unit_test_file_LDADD = $(RH_LIBS)
tests_unit_test_handler_LDADD = $(RH_LIBS)
tests_unit_test_http_resp_LDADD = $(RH_LIBS)
tests_unit_test_rules_LDADD = $(RH_LIBS)
tests_unit_test_negotiate_LDADD = $(RH_LIBS)
tests_unit_test_vhost_LDADD = $(RH_LIBS)
tests_unit_test_peer_limit_LDADD = $(RH_LIBS)
tests_unit_test_site_conf_LDADD = $(RH_LIBS)
tests_unit_test_listing_LDADD = $(RH_LIBS)
tests_unit_test_listing_cache_LDADD = $(RH_LIBS)
tests_unit_test_metrics_LDADD = $(RH_LIBS)
tests_unit_test_journal_LDADD = $(RH_LIBS)
