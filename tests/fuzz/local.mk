# The parser's fuzz target. `make check` replays the seed corpus through it
# (with any compiler); `make fuzz` builds it with clang's libFuzzer and runs
# it for FUZZ_SECONDS (default 60) on a copy of the corpus.
fuzz_corpus = \
	tests/fuzz/corpus/absolute \
	tests/fuzz/corpus/absolute-no-path \
	tests/fuzz/corpus/get \
	tests/fuzz/corpus/pipelined \
	tests/fuzz/corpus/range \
	tests/fuzz/corpus/suffix \
	tests/fuzz/corpus/te
check_PROGRAMS += tests/fuzz/replay
tests_fuzz_replay_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_http_parse.c
tests_fuzz_replay_LDADD = $(RH_LIBS)
TESTS += tests/fuzz/replay-corpus
EXTRA_DIST += tests/fuzz/replay-corpus $(fuzz_corpus)

FUZZ_SECONDS = 60
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined $(DEFS) -I$(srcdir)/src $(URING_CFLAGS) \
		$(srcdir)/tests/fuzz/fuzz_http_parse.c $(srcdir)/src/http_parse.c \
		$(srcdir)/src/http_cond.c $(srcdir)/src/http_date.c $(srcdir)/src/file.c \
		$(srcdir)/src/mime.c $(srcdir)/src/config.c $(srcdir)/src/listen.c \
		$(srcdir)/src/log.c $(srcdir)/src/site.c \
		$(srcdir)/src/site_conf.c $(srcdir)/src/vhost.c $(srcdir)/src/rules.c \
		$(srcdir)/src/negotiate.c $(srcdir)/src/metrics.c \
		$(CONFIG_LIBS) $(SYSTEMD_LIBS) -o tests/fuzz/fuzz_http_parse
	rm -rf tests/fuzz/work && mkdir -p tests/fuzz/work && cp $(srcdir)/tests/fuzz/corpus/* tests/fuzz/work/
	tests/fuzz/fuzz_http_parse -max_total_time=$(FUZZ_SECONDS) tests/fuzz/work
.PHONY: fuzz
CLEANFILES += tests/fuzz/fuzz_http_parse
clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/work
.PHONY: clean-fuzz
