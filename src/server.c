#include "server.h"

#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "listing_cache.h"
#include "log.h"
#include "msgid.h"
#include "preflight.h"
#include "ring.h"
#include "site.h"
#include "tls_context.h"
#include "uring_check.h"

#define HEARTBEAT_TOLERANCE 3 /* seconds; rings tick every second */

/* A start-up failure: logged, and kept for STATUS=. */
static int start_failed(struct rh_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int start_failed(struct rh_server *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof s->error, fmt, ap);
	va_end(ap);
	rh_err("%s", s->error);
	return -1;
}

/* The CPUs of the process's affinity mask, in order. */
static int allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof set, &set) < 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

/* Descriptors that do not grow with the connections: per ring its cached
 * files, the ring and its eventfd; for the server the listeners, and
 * headroom for the rest (log files and document roots, two of each during
 * a reload, the journal socket, /etc/mime.types at reload). */
#define HEADROOM_DESCRIPTORS 16

static uint64_t fixed_descriptors(const struct rh_server *s, unsigned n_rings)
{
	return (uint64_t)n_rings * (s->file_cache_entries + 2) + s->listeners.n +
	       HEADROOM_DESCRIPTORS;
}

/* Raises the soft descriptor limit to the hard one and divides it: each
 * ring's file cache keeps open at most a quarter of it (up to
 * RH_FILE_CACHE_ENTRIES), and the connections get the rest, one
 * descriptor each, their socket (bodies go by sendfile, without pipes).
 * A max_connections the limit cannot carry is an error, not a surprise
 * under load, so accept never meets EMFILE from the server's own use. The
 * limit is the server's: rings may accept unevenly. */
static int size_connections(struct rh_server *s, unsigned n_rings, char *err, size_t errlen)
{
	struct rlimit rl;
	uint64_t fixed, avail, entries;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	entries = rl.rlim_cur / 4 / n_rings;
	s->file_cache_entries = entries < 16 ? 16 : entries > RH_FILE_CACHE_ENTRIES
							 ? RH_FILE_CACHE_ENTRIES : entries;
	fixed = fixed_descriptors(s, n_rings);
	avail = rl.rlim_cur > fixed ? rl.rlim_cur - fixed : 0;
	if (s->cfg->max_connections > avail) {
		snprintf(err, errlen,
			 "max_connections: %u connections need %llu descriptors with %u rings, but "
			 "RLIMIT_NOFILE is %llu (raise LimitNOFILE= or lower max_connections)",
			 s->cfg->max_connections, (unsigned long long)(s->cfg->max_connections + fixed),
			 n_rings, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	if (!s->cfg->max_connections && avail < 16) {
		snprintf(err, errlen, "RLIMIT_NOFILE is %llu: too low for %u rings (at least %llu needed)",
			 (unsigned long long)rl.rlim_cur, n_rings, (unsigned long long)fixed + 16);
		return -1;
	}
	avail = s->cfg->max_connections ? s->cfg->max_connections : avail;
	s->max_conns = avail > (1u << 20) ? 1u << 20 : avail;
	return 0;
}

/* Buffers per ring: buffer_count, or about 8 MiB for file chunks and
 * partial requests, and 2 MiB for receives, whatever buffer_size is. */
static void size_buffers(struct rh_server *s)
{
	unsigned size = s->cfg->buffer_size, owned = (8u << 20) / size, provided = 1;

	s->buffers_owned = owned < 16 ? 16 : owned > 512 ? 512 : owned;
	if (s->cfg->buffer_count)
		s->buffers_owned = s->cfg->buffer_count;
	while (provided * 2 * size <= (2u << 20) && provided < 128)
		provided *= 2;
	s->buffers_provided = provided < 8 ? 8 : provided;
	if (s->cfg->buffer_count) /* a small pool stays small */
		while (s->buffers_provided > 4 && s->buffers_provided >= s->cfg->buffer_count)
			s->buffers_provided /= 2;
}

/* After binding and before anything else: the rings, their kernel threads
 * (SQPOLL, io-wq) and every file opened run as USER, whoever made the
 * listening sockets. Registered buffers are locked memory, so the limit is
 * lifted while that is still allowed. */
static int drop_privileges(struct rh_server *s, const struct rh_config *cfg)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	const char *user = cfg->user;
	char where[256];
	struct passwd *pw;

	if (!user[0] || geteuid() != 0)
		return 0;
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	rh_config_where(cfg, RH_KEY_USER, where, sizeof where);
	pw = getpwnam(user);
	if (!pw)
		return start_failed(s, "%s: %s: no such user", where, user);
	if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return start_failed(s, "%s: %s: cannot switch: %s", where, user, strerror(errno));
	rh_info("running as user %s", user);
	return 0;
}

static bool rings_set_up(struct rh_server *s, unsigned n)
{
	rh_startup_wait_set_up(&s->startup, n);
	for (unsigned i = 0; i < n; i++)
		if (s->rings[i].setup_error) {
			start_failed(s, "%s", s->rings[i].setup_msg);
			return false;
		}
	return true;
}

/* Gives up on rings [0, started): they wait for the go, which says no.
 * The rings never started drop the site they were given. */
static void abandon(struct rh_server *s, unsigned started)
{
	rh_startup_go(&s->startup, false);
	for (unsigned i = 0; i < started; i++)
		rh_ring_join(&s->rings[i]);
	for (unsigned i = started; i < s->n_rings; i++)
		rh_site_put(s->rings[i].site);
	s->n_rings = 0;
}

static int start_rings(struct rh_server *s)
{
	int cpus[CPU_SETSIZE];
	int n_cpus = allowed_cpus(cpus, CPU_SETSIZE);
	unsigned started = 0, n_rings;
	char err[256];

	if (n_cpus <= 0)
		cpus[0] = 0, n_cpus = 1;
	n_rings = s->cfg->cpu_limit ? s->cfg->cpu_limit : (unsigned)n_cpus;
	if (size_connections(s, n_rings, err, sizeof err) < 0)
		return start_failed(s, "%s", err);
	size_buffers(s);
	if (rh_peer_limit_init(&s->per_ip, s->max_conns, s->cfg->max_connections_per_ip,
			       s->cfg->max_connections_per_ip_v6_prefix) < 0)
		return -1;
	s->rings = calloc(n_rings, sizeof *s->rings);
	if (!s->rings)
		return -1;
	s->n_rings = n_rings;
	for (unsigned i = 0; i < s->n_rings; i++) {
		struct rh_ring *r = &s->rings[i];
		r->srv = s;
		r->id = i;
		r->cpu = cpus[i % n_cpus];
		r->site = rh_site_get(s->site);
		r->wake_fd = eventfd(0, EFD_CLOEXEC);
		if (r->wake_fd < 0) {
			start_failed(s, "cannot start ring %u: %s", i, strerror(errno));
			s->n_rings = 0;
			return -1;
		}
		rh_mailbox_init(&r->mailbox, r->wake_fd);
		s->n_ring_slots = i + 1;
	}
	/* ring 0 first: the others attach to its io-wq (and SQPOLL thread) */
	for (unsigned i = 0; i < s->n_rings; i++) {
		int ret = rh_ring_start(&s->rings[i]);

		if (ret < 0) {
			start_failed(s, "cannot start ring %u: %s", i, strerror(-ret));
			abandon(s, started);
			return -1;
		}
		started++;
		if (i == 0 && !rings_set_up(s, 1)) {
			abandon(s, started);
			return -1;
		}
	}
	if (!rings_set_up(s, s->n_rings)) {
		abandon(s, started);
		return -1;
	}
	return 0;
}

static bool lists_directories(const struct rh_config *cfg)
{
	for (size_t i = 0; i < cfg->sites->n_site; i++)
		if (cfg->sites->site[i].directory_listing)
			return true;
	return false;
}

/* The listing workers, started the first time a configuration lists a
 * directory (a thread the other configurations do without). */
static int need_listings(struct rh_server *s, const struct rh_config *cfg, char *err, size_t len)
{
	int ret;

	if (s->listings || !lists_directories(cfg))
		return 0;
	ret = rh_listings_init(&s->listings, 1, RH_LISTINGS_CACHE_BYTES);
	if (ret < 0)
		snprintf(err, len, "directory_listing: cannot start the listing worker: %s",
			 strerror(-ret));
	return ret;
}

/* TLS sockets need the default site's certificate; and whether the
 * kernel encrypts is said once, and again when a reload changes it. */
static int check_tls(struct rh_server *s, const struct rh_site *site, char *err, size_t errlen)
{
	const char *why = NULL;
	bool tls_socket = false, ktls;

	for (size_t i = 0; i < s->listeners.n; i++)
		tls_socket |= s->listeners.tls[i];
	if (tls_socket && !site->tls) {
		snprintf(err, errlen, "%s: a socket speaks TLS (tls_listen, or systemd's \"https\"), "
			 "and the default site (the top level) has no tls_certificate and tls_key",
			 site->cfg->path);
		return -1;
	}
	if (!site->tls)
		return 0;
	ktls = rh_tls_ktls_usable(site->cfg, &why);
	if (!s->tls_noted || ktls != s->ktls) {
		if (ktls)
			rh_notice("TLS: the kernel encrypts what is sent (kTLS); files go by sendfile");
		else
			rh_notice("TLS: encrypted in user space, kTLS not used: %s", why);
	}
	s->tls_noted = true;
	s->ktls = ktls;
	s->ktls_why = why;
	return 0;
}

/* The "ready" event: what the server runs with. */
static void log_ready(struct rh_server *s)
{
	size_t n = s->listeners.n, nf = 0;
	struct rh_log_field *f = calloc(n + 2, sizeof *f);
	char (*names)[80] = calloc(n ? n : 1, sizeof *names);
	char rings[16];

	snprintf(rings, sizeof rings, "%u", s->n_rings);
	if (f && names) {
		f[nf++] = (struct rh_log_field){ "CONFIG_FILE", s->config_path };
		f[nf++] = (struct rh_log_field){ "RINGS", rings };
		for (size_t i = 0; i < n; i++) {
			rh_listen_describe(s->listeners.fds[i], names[i], sizeof names[i]);
			f[nf++] = (struct rh_log_field){ "LISTEN", names[i] };
		}
	}
	rh_log_event(RH_LOG_NOTICE, RH_MSGID_READY, f, f && names ? nf : 0, "ready (%u rings)",
		     s->n_rings);
	free(f);
	free(names);
}

int rh_server_start(struct rh_server *s, struct rh_config *cfg)
{
	char err[512];
	char name[80];

	rh_startup_init(&s->startup);
	if (rh_listen_open(cfg, &s->listeners, err, sizeof err) < 0) {
		rh_config_free(cfg);
		return start_failed(s, "%s", err);
	}
	for (size_t i = 0; i < s->listeners.n; i++) {
		rh_listen_describe(s->listeners.fds[i], name, sizeof name);
		rh_notice("listening on %s%s", name, s->listeners.tls[i] ? " (TLS)" : "");
	}
	if (drop_privileges(s, cfg) < 0) {
		rh_config_free(cfg);
		return -1;
	}
	/* as the user the rings run as: a refusal is explained before any ring */
	if (rh_uring_available(err, sizeof err) < 0) {
		struct rh_log_field f[] = { { "CONFIG_FILE", s->config_path } };

		snprintf(s->error, sizeof s->error, "%s", err);
		rh_log_event(RH_LOG_ERR, RH_MSGID_URING_REFUSED, f, 1, "%s", err);
		rh_config_free(cfg);
		return -1;
	}
	s->cfg = cfg;
	s->site = rh_site_new(cfg, err, sizeof err);
	if (!s->site)
		return start_failed(s, "%s", err);
	s->boot_site = rh_site_get(s->site);
	if (check_tls(s, s->site, err, sizeof err) < 0)
		return start_failed(s, "%s", err);
	if (need_listings(s, cfg, err, sizeof err) < 0)
		return start_failed(s, "%s", err);
	if (start_rings(s) < 0)
		return -1;
	{
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
		s->started = now.tv_sec;
	}
	rh_startup_go(&s->startup, true);
	rh_startup_wait_accepting(&s->startup, s->n_rings);
	log_ready(s);
	return 0;
}

/* Every ring moves to SITE at its next wake-up. Takes SITE. */
static void publish(struct rh_server *s, struct rh_site *site)
{
	for (unsigned i = 0; i < s->n_rings; i++) {
		struct rh_site *old = atomic_exchange(&s->rings[i].next_site, rh_site_get(site));
		rh_site_put(old); /* a reload the ring had not picked up yet */
		rh_ring_wake(&s->rings[i]);
	}
	rh_site_put(s->site);
	s->site = site;
}

static int reload_refused(struct rh_server *s, const char *err)
{
	struct rh_log_field f[] = { { "CONFIG_FILE", s->config_path } };

	rh_log_event(RH_LOG_ERR, RH_MSGID_RELOAD_REFUSED, f, 1,
		     "reload failed, keeping the running configuration: %s", err);
	return -1;
}

int rh_server_reload(struct rh_server *s)
{
	char err[512];
	struct rh_config *cfg = rh_config_load(s->config_path, s->overrides, err, sizeof err);
	struct rh_site *site;

	if (!cfg)
		return reload_refused(s, err);
	/* everything is checked before anything changes */
	site = rh_site_new(cfg, err, sizeof err);
	if (!site)
		return reload_refused(s, err);
	cfg = site->cfg;
	if (rh_config_restart_keys(s->cfg, cfg, err, sizeof err))
		rh_warn("reload: %s change only with a restart", err);
	if (check_tls(s, site, err, sizeof err) < 0 || need_listings(s, cfg, err, sizeof err) < 0) {
		rh_site_put(site);
		return reload_refused(s, err);
	}
	rh_log_set_level(cfg->log_level);
	publish(s, site);
	{
		struct rh_log_field f[] = { { "CONFIG_FILE", s->config_path },
					    { "DOCUMENT_ROOT", cfg->document_root } };
		rh_log_event(RH_LOG_NOTICE, RH_MSGID_RELOADED, f, 2,
			     "configuration reloaded: serving %s", cfg->document_root);
	}
	return 0;
}

int rh_server_reopen_log(struct rh_server *s)
{
	const char *path = s->site->cfg->access_log;
	struct rh_site *site;
	char err[512];

	if (s->site->access_fd < 0) {
		rh_info("no access log file to reopen");
		return 0;
	}
	site = rh_site_reopen(s->site, err, sizeof err);
	if (!site) {
		rh_err("%s; still writing to the file opened before", err);
		return -1;
	}
	publish(s, site);
	rh_notice("access log %s reopened", path);
	return 0;
}

int rh_server_check(const struct rh_config *cfg, char *err, size_t errlen)
{
	struct rh_server probe = { .cfg = cfg, .listeners.n = cfg->n_listen };
	int cpus[CPU_SETSIZE], n_cpus = allowed_cpus(cpus, CPU_SETSIZE);

	/* the descriptor budget, as start-up makes it (with the configured
	 * listeners: systemd's are not known here) */
	if (size_connections(&probe, cfg->cpu_limit ? cfg->cpu_limit : n_cpus > 0 ? (unsigned)n_cpus : 1,
			     err, errlen) < 0)
		return -EMFILE;
	size_buffers(&probe);
	return rh_preflight(cfg, (size_t)probe.buffers_owned * cfg->buffer_size, err, errlen);
}

void rh_server_stop(struct rh_server *s)
{
	atomic_store(&s->stopping, true);
	for (unsigned i = 0; i < s->n_rings; i++)
		rh_ring_wake(&s->rings[i]);
	for (unsigned i = 0; i < s->n_rings; i++)
		rh_ring_join(&s->rings[i]);
	/* a build still running posts to a mailbox that is still there */
	if (s->listings)
		rh_listings_destroy(s->listings);
	s->listings = NULL;
	for (unsigned i = 0; i < s->n_ring_slots; i++) {
		rh_mailbox_destroy(&s->rings[i].mailbox);
		close(s->rings[i].wake_fd);
	}
	free(s->rings);
	s->rings = NULL;
	rh_listen_close(&s->listeners);
	rh_peer_limit_destroy(&s->per_ip);
	rh_site_put(s->site);
	rh_site_put(s->boot_site);
	rh_startup_destroy(&s->startup);
}

void rh_server_stats(struct rh_server *s, uint64_t *requests, unsigned *conns)
{
	*requests = 0;
	*conns = 0;
	for (unsigned i = 0; i < s->n_rings; i++) {
		*requests += atomic_load_explicit(&s->rings[i].requests, memory_order_relaxed);
		*conns += atomic_load_explicit(&s->rings[i].n_conns, memory_order_relaxed);
	}
}

void rh_server_tls_stats(struct rh_server *s, uint64_t *handshakes, uint64_t *ktls)
{
	*handshakes = *ktls = 0;
	for (unsigned i = 0; i < s->n_rings; i++) {
		const struct rh_ring_stats *st = &s->rings[i].stats;

		*handshakes += atomic_load_explicit(&st->tls_handshakes, memory_order_relaxed);
		*ktls += atomic_load_explicit(&st->ktls_connections, memory_order_relaxed);
	}
}

bool rh_server_healthy(struct rh_server *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	for (unsigned i = 0; i < s->n_rings; i++)
		if (now.tv_sec - atomic_load(&s->rings[i].heartbeat) > HEARTBEAT_TOLERANCE)
			return false;
	return true;
}
