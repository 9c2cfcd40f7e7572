# automake fragment included by Makefile.am
#
# Benchmark of ringhttpd against nginx and lighttpd. Run by hand, never by
# `make check` (it needs wrk, nginx and lighttpd and takes minutes):
#   make bench
#   make bench BENCH_FLAGS="--rounds 3 --variant 'splice64k=splice_threshold = 65536;'"
#   make bench BENCH_FLAGS="--rounds 1 --workloads c1k,crowd,slow"
#   make bench BENCH_FLAGS="--workloads tls-1k,tls-new,tls-10m,tls-c1k,tls-idle"
# `tests/bench/run --help` explains the workloads and options.
EXTRA_DIST += tests/bench/run

bench: src/ringhttpd$(EXEEXT)
	$(srcdir)/tests/bench/run $(BENCH_FLAGS) $(abs_top_builddir)/src/ringhttpd$(EXEEXT)

.PHONY: bench
