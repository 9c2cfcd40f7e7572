/* ringhttpd: command line, start-up order, signals and sd_notify. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "journal.h"
#include "log.h"
#include "msgid.h"
#include "server.h"
#include "site.h"

#define STATUS_INTERVAL_USEC (5 * 1000000ULL)
#define DROP_WARNING_INTERVAL_USEC (60 * 1000000ULL)
#define MAX_LISTEN_FLAGS 64

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ringhttpd [OPTION]...\n"
		"Serve static files over HTTP/1.1, HTTP/2 and HTTPS with io_uring.\n\n"
		"  -c, --config FILE     configuration file (default %s)\n"
		"  -t, --test-config     check the configuration and exit\n"
		"  -r, --root DIR        serve DIR (overrides document_root)\n"
		"  -l, --listen ADDR:PORT  listen there (repeatable; overrides listen)\n"
		"  -n, --cpu-limit N     number of rings (overrides cpu_limit)\n"
		"  -u, --user USER       user to switch to when started as root (overrides\n"
		"                        user; \"\" stays)\n"
		"  -V, --version         print the version and exit\n"
		"  -h, --help            print this help and exit\n\n"
		"Signals: TERM/INT stop gracefully, HUP reloads the configuration,\n"
		"USR1 reopens the access log.\n",
		RH_DEFAULT_CONFIG);
}

static void notify_status(struct rh_server *s)
{
	uint64_t requests, dropped = rh_journal_dropped(NULL), handshakes, ktls;
	unsigned conns;
	char more[64] = "", tls[160] = "";

	rh_server_stats(s, &requests, &conns);
	rh_server_tls_stats(s, &handshakes, &ktls);
	if (dropped)
		snprintf(more, sizeof more, ", %llu journal entries dropped",
			 (unsigned long long)dropped);
	if (s->site && s->site->tls && s->ktls)
		snprintf(tls, sizeof tls, ", %llu TLS handshakes, kTLS on %llu connections",
			 (unsigned long long)handshakes, (unsigned long long)ktls);
	else if (s->site && s->site->tls)
		snprintf(tls, sizeof tls, ", %llu TLS handshakes, TLS in user space (%s)",
			 (unsigned long long)handshakes, s->ktls_why);
	sd_notifyf(0, "STATUS=%u rings, %u connections open, %llu requests served%s%s", s->n_rings,
		   conns, (unsigned long long)requests, tls, more);
}

/* Entries journald did not take: a warning at most once a minute. */
static void warn_dropped(uint64_t now, uint64_t *warned_count, uint64_t *next_warning)
{
	int err;
	uint64_t dropped = rh_journal_dropped(&err);

	if (dropped == *warned_count || now < *next_warning)
		return;
	rh_warn("journal: %llu entries dropped so far (%s): journald did not take them at once",
		(unsigned long long)dropped, strerror(err));
	*warned_count = dropped;
	*next_warning = now + DROP_WARNING_INTERVAL_USEC;
}

/* The main thread's life after start-up: signals, STATUS=, WATCHDOG=. */
static void serve(struct rh_server *s, const sigset_t *signals)
{
	uint64_t watchdog_usec = 0, next_status = 0, next_watchdog = UINT64_MAX;
	uint64_t warned_count = 0, next_warning = 0;

	if (sd_watchdog_enabled(0, &watchdog_usec) > 0)
		next_watchdog = 0;
	for (;;) {
		uint64_t now = rh_monotonic_usec(), wake;
		struct timespec timeout;
		int sig;

		if (now >= next_status) {
			warn_dropped(now, &warned_count, &next_warning);
			notify_status(s);
			next_status = now + STATUS_INTERVAL_USEC;
		}
		if (now >= next_watchdog) {
			/* only while every ring makes progress: a stuck ring means a restart */
			if (rh_server_healthy(s))
				sd_notify(0, "WATCHDOG=1");
			next_watchdog = now + watchdog_usec / 2;
		}
		wake = next_status < next_watchdog ? next_status : next_watchdog;
		timeout.tv_sec = (wake - now) / 1000000;
		timeout.tv_nsec = (wake - now) % 1000000 * 1000;
		sig = sigtimedwait(signals, NULL, &timeout);
		if (sig == SIGTERM || sig == SIGINT) {
			rh_notice("stopping on signal %d", sig);
			return;
		}
		if (sig == SIGHUP) {
			sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)rh_monotonic_usec());
			rh_server_reload(s);
			sd_notify(0, "READY=1");
			notify_status(s);
		}
		if (sig == SIGUSR1)
			rh_server_reopen_log(s);
	}
}

/* The "stopped" event, with what was served. */
static void log_stopped(const char *config_path, uint64_t requests)
{
	char served[24];
	struct rh_log_field f[] = { { "CONFIG_FILE", config_path }, { "REQUESTS", served } };

	snprintf(served, sizeof served, "%llu", (unsigned long long)requests);
	rh_log_event(RH_LOG_NOTICE, RH_MSGID_STOPPED, f, 2, "stopped");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test-config", no_argument, NULL, 't' },
		{ "root", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "cpu-limit", required_argument, NULL, 'n' },
		{ "user", required_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = RH_DEFAULT_CONFIG;
	const char *listen[MAX_LISTEN_FLAGS];
	struct rh_config_overrides ov = { .listen = listen, .cpu_limit = -1 };
	struct rh_server srv = { 0 };
	struct rh_config *cfg;
	bool test_only = false;
	char err[512], *end;
	uint64_t requests;
	unsigned conns;
	sigset_t signals;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:tr:l:n:u:Vh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			test_only = true;
			break;
		case 'r':
			ov.document_root = optarg;
			break;
		case 'l':
			if (ov.n_listen == MAX_LISTEN_FLAGS) {
				fprintf(stderr, "ringhttpd: at most %d --listen\n", MAX_LISTEN_FLAGS);
				return 1;
			}
			listen[ov.n_listen++] = optarg;
			break;
		case 'n':
			errno = 0;
			ov.cpu_limit = strtol(optarg, &end, 10);
			if (errno || *end || ov.cpu_limit < 0 || ov.cpu_limit > 4096) {
				fprintf(stderr, "ringhttpd: --cpu-limit: \"%s\" is not 0 to 4096\n", optarg);
				return 1;
			}
			break;
		case 'u':
			ov.user = optarg;
			break;
		case 'V':
			printf("ringhttpd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ringhttpd: unexpected argument \"%s\"\n", argv[optind]);
		return 1;
	}

	rh_log_init();
	cfg = rh_config_load(config_path, &ov, err, sizeof err);
	if (!cfg) {
		if (test_only) {
			fprintf(stderr, "%s\n", err);
		} else {
			rh_err("%s", err);
			sd_notifyf(0, "STATUS=%s", err);
		}
		return 1;
	}
	if (test_only) {
		int ret = rh_server_check(cfg, err, sizeof err);

		rh_config_free(cfg);
		if (ret < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		fprintf(stderr, "%s: configuration OK\n", config_path);
		return 0;
	}
	rh_log_set_level(cfg->log_level);

	/* every thread inherits this mask; the main thread takes the signals */
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	sigaddset(&signals, SIGUSR1);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	srv.config_path = config_path;
	srv.overrides = &ov;
	if (rh_server_start(&srv, cfg) < 0) {
		sd_notifyf(0, "STATUS=%s", srv.error);
		rh_server_stop(&srv);
		return 1;
	}
	sd_notify(0, "READY=1");
	serve(&srv, &signals);
	sd_notify(0, "STOPPING=1");
	rh_server_stats(&srv, &requests, &conns);
	rh_server_stop(&srv);
	log_stopped(config_path, requests);
	return 0;
}
