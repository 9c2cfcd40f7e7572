# C unit tests of the pure parts: parser, conditions and ranges, MIME
# types, configuration errors, path resolution, the open-file cache, the
# journal protocol and access log escaping.
unit_tests = \
	tests/unit/test_http_parse \
	tests/unit/test_http_cond \
	tests/unit/test_mime \
	tests/unit/test_config \
	tests/unit/test_file \
	tests/unit/test_journal
check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests)
EXTRA_DIST += tests/unit/check.h
tests_unit_test_http_parse_LDADD = $(RH_LIBS)
tests_unit_test_http_cond_LDADD = $(RH_LIBS)
tests_unit_test_mime_LDADD = $(RH_LIBS)
tests_unit_test_config_LDADD = $(RH_LIBS)
tests_unit_test_file_LDADD = $(RH_LIBS)
tests_unit_test_journal_LDADD = $(RH_LIBS)
