# The fuzz targets: the request parser (with what is derived from a parsed
# request, and the chunked-body decoder) and path normalization. `make
# check` replays their seed corpora through them (with any compiler); `make
# fuzz` builds them with clang's libFuzzer and runs each for FUZZ_SECONDS
# (default 60) on a copy of its corpus.
fuzz_corpus = \
	tests/fuzz/corpus/absolute \
	tests/fuzz/corpus/absolute-no-path \
	tests/fuzz/corpus/absolute-userinfo \
	tests/fuzz/corpus/chunked \
	tests/fuzz/corpus/expect-te \
	tests/fuzz/corpus/get \
	tests/fuzz/corpus/multirange \
	tests/fuzz/corpus/pipelined \
	tests/fuzz/corpus/range \
	tests/fuzz/corpus/suffix \
	tests/fuzz/corpus/te \
	tests/fuzz/corpus-path/dots \
	tests/fuzz/corpus-path/encoded-dots \
	tests/fuzz/corpus-path/escapes \
	tests/fuzz/corpus-path/slashes \
	tests/fuzz/corpus-path/trailing
check_PROGRAMS += tests/fuzz/replay tests/fuzz/replay-path
tests_fuzz_replay_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_http_parse.c
tests_fuzz_replay_LDADD = $(RH_LIBS)
tests_fuzz_replay_path_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_path.c
tests_fuzz_replay_path_LDADD = $(RH_LIBS)
TESTS += tests/fuzz/replay-corpus
EXTRA_DIST += tests/fuzz/replay-corpus $(fuzz_corpus)

FUZZ_SECONDS = 60
FUZZ_CC = clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined $(DEFS) -I$(srcdir)/src
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	$(FUZZ_CC) $(srcdir)/tests/fuzz/fuzz_http_parse.c $(srcdir)/src/http_parse.c \
		$(srcdir)/src/http_cond.c $(srcdir)/src/http_date.c $(srcdir)/src/http_chunked.c \
		$(srcdir)/src/path.c -o tests/fuzz/fuzz_http_parse
	$(FUZZ_CC) $(srcdir)/tests/fuzz/fuzz_path.c $(srcdir)/src/path.c -o tests/fuzz/fuzz_path
	rm -rf tests/fuzz/work tests/fuzz/work-path && mkdir -p tests/fuzz/work tests/fuzz/work-path
	cp $(srcdir)/tests/fuzz/corpus/* tests/fuzz/work/
	cp $(srcdir)/tests/fuzz/corpus-path/* tests/fuzz/work-path/
	tests/fuzz/fuzz_http_parse -max_total_time=$(FUZZ_SECONDS) tests/fuzz/work
	tests/fuzz/fuzz_path -max_total_time=$(FUZZ_SECONDS) tests/fuzz/work-path
.PHONY: fuzz
CLEANFILES += tests/fuzz/fuzz_http_parse tests/fuzz/fuzz_path
clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/work tests/fuzz/work-path
.PHONY: clean-fuzz
