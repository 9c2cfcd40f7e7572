# The fuzz targets: the request parser (with what is derived from a parsed
# request, and the chunked-body decoder), path normalization, the
# configuration loader (libconfig text -> a configuration or one line of
# error), the TLS engine (records fed as the ring feeds them, before and
# after a handshake) and HTTP/2 requests (frames fed into a session). `make check` replays their seed corpora through them (with any
# compiler); `make fuzz` builds them with clang's libFuzzer and runs each
# for FUZZ_SECONDS (default 60) on a copy of its corpus, FUZZ_JOBS (default
# 2) at a time, and ends with "fuzz: N passed, N failed".
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
	tests/fuzz/corpus-path/trailing \
	tests/fuzz/corpus-config/bad-key \
	tests/fuzz/corpus-config/bad-syntax \
	tests/fuzz/corpus-config/bad-value \
	tests/fuzz/corpus-config/default \
	tests/fuzz/corpus-config/limits \
	tests/fuzz/corpus-config/minimal \
	tests/fuzz/corpus-config/newline-in-value \
	tests/fuzz/corpus-config/rules \
	tests/fuzz/corpus-config/sites \
	tests/fuzz/corpus-tls/client-hello-tls12-bytewise \
	tests/fuzz/corpus-tls/client-hello-tls13 \
	tests/fuzz/corpus-tls/not-tls \
	tests/fuzz/corpus-tls/plain-http \
	tests/fuzz/corpus-tls/records-after-handshake \
	tests/fuzz/corpus-tls/requests-tls12 \
	tests/fuzz/corpus-tls/requests-tls13 \
	tests/fuzz/corpus-h2/bad-authority \
	tests/fuzz/corpus-h2/continuation \
	tests/fuzz/corpus-h2/get \
	tests/fuzz/corpus-h2/get-bytewise \
	tests/fuzz/corpus-h2/host-mismatch \
	tests/fuzz/corpus-h2/ping-reset \
	tests/fuzz/corpus-h2/post \
	tests/fuzz/corpus-h2/priority-window
check_PROGRAMS += tests/fuzz/replay tests/fuzz/replay-path tests/fuzz/replay-config \
	tests/fuzz/replay-tls tests/fuzz/replay-h2
tests_fuzz_replay_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_http_parse.c
tests_fuzz_replay_LDADD = $(RH_LIBS)
tests_fuzz_replay_path_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_path.c
tests_fuzz_replay_path_LDADD = $(RH_LIBS)
tests_fuzz_replay_config_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_config.c
tests_fuzz_replay_config_LDADD = $(RH_LIBS)
tests_fuzz_replay_tls_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_tls.c
tests_fuzz_replay_tls_LDADD = $(RH_LIBS)
tests_fuzz_replay_h2_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_h2.c
tests_fuzz_replay_h2_LDADD = $(RH_LIBS)
TESTS += tests/fuzz/replay-corpus
EXTRA_DIST += tests/fuzz/replay-corpus tests/fuzz/run-fuzz tests/fuzz/lsan.supp $(fuzz_corpus)

# Each target is its own fuzz_*.c linked with the server's library, whose
# sources are automake's list (src_librh_a_SOURCES), compiled once here
# with libFuzzer's coverage and the sanitizers.
fuzz_targets = fuzz_http_parse:corpus fuzz_path:corpus-path fuzz_config:corpus-config \
	fuzz_tls:corpus-tls fuzz_h2:corpus-h2
FUZZ_SECONDS = 60
FUZZ_JOBS = 2
FUZZ_CLANG = clang
FUZZ_SAN = address,undefined
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fno-sanitize-recover=undefined $(DEFS) $(DEFAULT_INCLUDES) \
	-I$(srcdir)/src -DSYSCONFDIR='"$(sysconfdir)"' $(URING_CFLAGS) $(CONFIG_CFLAGS) $(SYSTEMD_CFLAGS) \
	$(SSL_CFLAGS) $(NGHTTP2_CFLAGS)
FUZZ_LIBS = $(URING_LIBS) $(CONFIG_LIBS) $(SYSTEMD_LIBS) $(SSL_LIBS) $(NGHTTP2_LIBS)
fuzz-build:
	@command -v $(FUZZ_CLANG) >/dev/null || { echo "make fuzz needs clang and its libFuzzer" \
		"(apt-get install clang libclang-rt-14-dev)"; exit 1; }
	@rm -rf tests/fuzz/lib && mkdir -p tests/fuzz/lib
	@echo "  FUZZCC   src_librh_a_SOURCES"; n=0; \
	for s in $(src_librh_a_SOURCES); do \
		case $$s in *.c) ;; *) continue ;; esac; \
		$(FUZZ_CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c $(srcdir)/$$s \
			-o tests/fuzz/lib/`basename $$s .c`.o & \
		n=$$((n + 1)); [ $$((n % $(FUZZ_JOBS))) -ne 0 ] || wait; \
	done; wait; \
	for s in $(src_librh_a_SOURCES); do \
		case $$s in *.c) test -f tests/fuzz/lib/`basename $$s .c`.o || exit 1 ;; esac; \
	done
	@rm -f tests/fuzz/lib/librh-fuzz.a && $(AR) cr tests/fuzz/lib/librh-fuzz.a tests/fuzz/lib/*.o
	@for t in $(fuzz_targets); do \
		t=$${t%%:*}; echo "  FUZZLD   tests/fuzz/$$t"; \
		$(FUZZ_CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) $(srcdir)/tests/fuzz/$$t.c \
			tests/fuzz/lib/librh-fuzz.a $(FUZZ_LIBS) -o tests/fuzz/$$t || exit 1; \
	done
fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) \
		$(SHELL) $(srcdir)/tests/fuzz/run-fuzz $(srcdir)/tests/fuzz tests/fuzz $(fuzz_targets)
.PHONY: fuzz fuzz-build
CLEANFILES += tests/fuzz/fuzz_http_parse tests/fuzz/fuzz_path tests/fuzz/fuzz_config tests/fuzz/fuzz_tls
clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/lib tests/fuzz/work-*
.PHONY: clean-fuzz
