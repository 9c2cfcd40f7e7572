#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "exchange.h"
#include "metrics.h"
#include "log.h"
#include "server.h"
#include "site.h"
#include "tls.h"
#include "tls_context.h"
#include "sq.h"
#include "uring_check.h"

/* io-wq runs only file reads that miss the page cache and access-log
 * writes; no operation on a socket waits there. The cap is a safety net. */
#define IOWQ_MAX_WORKERS 4

static void update_clock(struct rh_ring *r)
{
	struct timespec mono, wall;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &mono);
	clock_gettime(CLOCK_REALTIME_COARSE, &wall);
	r->now = mono.tv_sec;
	if (wall.tv_sec != r->wall) {
		r->wall = wall.tv_sec;
		rh_http_date_format(r->wall, r->date);
		rh_conns_second(r);
	}
}

static int fail(struct rh_ring *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct rh_ring *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->setup_msg, sizeof r->setup_msg, fmt, ap);
	va_end(ap);
	r->setup_error = err < 0 ? err : -EINVAL;
	return r->setup_error;
}

/* SINGLE_ISSUER with DEFER_TASKRUN is the best mode for a ring one thread
 * owns; SQPOLL excludes DEFER_TASKRUN. Older kernels fall back to
 * COOP_TASKRUN and then to no hint at all. */
static int init_uring(struct rh_ring *r, const struct rh_config *cfg, int attach_fd)
{
	/* SUBMIT_ALL: one bad entry must not hold back the others */
	unsigned base = IORING_SETUP_SUBMIT_ALL | (attach_fd >= 0 ? IORING_SETUP_ATTACH_WQ : 0);
	unsigned modes[3];
	int n = 0, ret = -EINVAL;

	if (cfg->enable_sq_poll) {
		modes[n++] = base | IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER;
		modes[n++] = base | IORING_SETUP_SQPOLL;
	} else {
		modes[n++] = base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
		modes[n++] = base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
		modes[n++] = base;
	}
	for (int i = 0; i < n; i++) {
		struct io_uring_params p = {
			.flags = modes[i] | IORING_SETUP_CQSIZE,
			.cq_entries = cfg->ring_entries * 4,
			.sq_thread_idle = 1000,
			.wq_fd = attach_fd >= 0 ? (unsigned)attach_fd : 0,
		};
		ret = io_uring_queue_init_params(cfg->ring_entries, &r->uring, &p);
		if (ret != -EINVAL)
			break;
	}
	if (ret < 0 && cfg->enable_sq_poll)
		return fail(r, ret, "enable_sq_poll: io_uring with SQPOLL: %s", strerror(-ret));
	if (ret < 0) {
		char why[256];

		rh_uring_explain(ret, why, sizeof why);
		return fail(r, ret, "%s", why);
	}
	r->uring_ready = true;
	return 0;
}

static int check_kernel(struct rh_ring *r)
{
	static const struct {
		int op;
		const char *name;
	} needed[] = {
		{ IORING_OP_ACCEPT, "ACCEPT" },	    { IORING_OP_RECV, "RECV" },
		{ IORING_OP_SEND, "SEND" },	    { IORING_OP_READ, "READ" },
		{ IORING_OP_READ_FIXED, "READ_FIXED" }, { IORING_OP_SENDMSG, "SENDMSG" },
		{ IORING_OP_POLL_ADD, "POLL_ADD" },
		{ IORING_OP_TIMEOUT, "TIMEOUT" },   { IORING_OP_CLOSE, "CLOSE" },
		{ IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL" }, { IORING_OP_MSG_RING, "MSG_RING" },
		{ IORING_OP_STATX, "STATX" },
	};
	struct io_uring_probe *probe = io_uring_get_probe_ring(&r->uring);

	if (!probe)
		return fail(r, -ENOMEM, "io_uring probe failed");
	for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
		if (!io_uring_opcode_supported(probe, needed[i].op)) {
			io_uring_free_probe(probe);
			return fail(r, -EOPNOTSUPP,
				    "the kernel lacks io_uring operation %s (Linux 5.19 or later needed)",
				    needed[i].name);
		}
	}
	io_uring_free_probe(probe);
	return 0;
}

/* The buffer pool with its provided-buffer ring and, optionally, the whole
 * pool registered as one fixed buffer: the target of READ_FIXED. */
static int setup_buffers(struct rh_ring *r, const struct rh_config *cfg)
{
	struct rh_server *s = r->srv;
	struct iovec iov;
	int ret;

	ret = rh_bufpool_init(&r->bufs, &r->uring, cfg->buffer_size, s->buffers_provided,
			      s->buffers_provided + s->buffers_owned);
	if (ret < 0)
		return fail(r, ret, "buffer pool: %s (Linux 5.19 or later needed)", strerror(-ret));
	if (!cfg->register_buffers)
		return 0;
	iov = (struct iovec){ r->bufs.base, r->bufs.size * r->bufs.count };
	ret = io_uring_register_buffers(&r->uring, &iov, 1);
	if (ret == -ENOMEM) {
		/* locked memory over RLIMIT_MEMLOCK: documented fallback */
		if (r->id == 0)
			rh_warn("register_buffers: %zu KiB per ring exceed RLIMIT_MEMLOCK; "
				"buffers stay unregistered (raise LimitMEMLOCK= or the memlock limit)",
				iov.iov_len / 1024);
	} else if (ret < 0) {
		return fail(r, ret, "register_buffers: %s", strerror(-ret));
	} else {
		r->body.fixed_buffers = true;
	}
	return 0;
}

static int setup(struct rh_ring *r)
{
	struct rh_server *s = r->srv;
	const struct rh_config *cfg = s->cfg;
	int ret;

	ret = init_uring(r, cfg, r->id > 0 && cfg->share_ring_backend ? s->rings[0].uring.ring_fd : -1);
	if (ret == 0)
		ret = check_kernel(r);
	if (ret == 0)
		ret = setup_buffers(r, cfg);
	if (ret < 0)
		return ret;
	{
		unsigned workers[2] = { IOWQ_MAX_WORKERS, IOWQ_MAX_WORKERS };
		io_uring_register_iowq_max_workers(&r->uring, workers); /* best effort */
	}
	rh_slab_init(&r->exchanges, sizeof(struct rh_exchange));
	rh_slab_init(&r->heads, RH_HEAD_SMALL);
	rh_slab_init(&r->multiparts, sizeof(struct rh_multipart));
	rh_slab_init(&r->warms, sizeof(struct rh_warm));
	rh_h2_pool_init(&r->h2);
	r->body.uring = &r->uring;
	r->body.bufs = &r->bufs;
	r->body.multiparts = &r->multiparts;
	if (getrandom(&r->random, sizeof r->random, 0) != sizeof r->random || !r->random)
		r->random = rh_monotonic_usec() | 1;
	rh_slab_init(&r->heads_large, cfg->buffer_size);
	r->accepting = calloc(s->listeners.n ? s->listeners.n : 1, sizeof *r->accepting);
	if ((ret = rh_conns_init(&r->conns, s->max_conns)) < 0 ||
	    (ret = rh_file_cache_init(&r->files, s->file_cache_entries, cfg->file_cache_size,
				      cfg->file_cache_max_file)) < 0 ||
	    (ret = rh_access_log_init(&r->access)) < 0 || !r->accepting)
		return fail(r, -ENOMEM, "out of memory");
	return 0;
}

/* Accepted sockets are nonblocking: a send or sendfile into a full
 * socket returns at once, and the ring waits for POLLOUT. */
static void arm_accept(struct rh_ring *r, size_t li)
{
	struct io_uring_sqe *sqe = rh_sq_get(&r->uring, 1);

	if (!sqe) {
		r->accept_retry = true;
		return;
	}
	io_uring_prep_multishot_accept(sqe, r->srv->listeners.fds[li], NULL, NULL,
				       SOCK_CLOEXEC | SOCK_NONBLOCK);
	io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_ACCEPT, li, 0));
	r->accepting[li] = true;
}

static bool accepting_any(const struct rh_ring *r)
{
	for (size_t li = 0; li < r->srv->listeners.n; li++)
		if (r->accepting[li])
			return true;
	return false;
}

/* The tick and the wake are armed at start and re-armed as they fire; a
 * ring that could not arm them would stop its clock, so that fails loud. */
static struct io_uring_sqe *sqe_or_die(struct rh_ring *r)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = rh_sq_get(&r->uring, 1)))
		io_uring_submit_and_wait(&r->uring, 0);
	return sqe;
}

static void arm_tick(struct rh_ring *r)
{
	struct io_uring_sqe *sqe = sqe_or_die(r);

	r->tick_ts.tv_sec = 1;
	r->tick_ts.tv_nsec = 0;
	io_uring_prep_timeout(sqe, &r->tick_ts, 0, 0);
	io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_TICK, 0, 0));
}

static void arm_wake(struct rh_ring *r)
{
	struct io_uring_sqe *sqe = sqe_or_die(r);

	io_uring_prep_read(sqe, r->wake_fd, &r->wake_buf, sizeof r->wake_buf, 0);
	io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_WAKE, 0, 0));
}

void rh_ring_wake(struct rh_ring *r)
{
	eventfd_write(r->wake_fd, 1);
}

static void start_stopping(struct rh_ring *r)
{
	struct io_uring_sqe *sqe;

	r->stopping = true;
	r->stop_deadline = r->now + r->site->cfg->send_timeout;
	for (size_t li = 0; li < r->srv->listeners.n; li++) {
		if (!r->accepting[li])
			continue;
		sqe = sqe_or_die(r);
		io_uring_prep_cancel64(sqe, rh_ud(RH_OP_ACCEPT, li, 0), 0);
		io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_IGNORE, 0, 0));
	}
	rh_conns_drain(r);
}

static void on_wake(struct rh_ring *r)
{
	struct rh_site *next = atomic_exchange(&r->next_site, NULL);

	if (next) {
		/* a reload: the cache is flushed and HTTP/2 clients are asked to
		 * come back (GOAWAY); a reopened access log keeps both */
		bool reloaded = next->cfg != r->site->cfg;

		if (reloaded)
			rh_file_cache_flush(&r->files);
		rh_site_put(r->site);
		r->site = next;
		if (reloaded)
			rh_conns_reloaded(r);
	}
	for (size_t i = 0, n = rh_mailbox_take(&r->mailbox, &r->tokens, &r->tokens_cap); i < n; i++)
		rh_conn_listing_ready(r, r->tokens[i]);
	if (atomic_load(&r->srv->stopping) && !r->stopping)
		start_stopping(r);
	arm_wake(r);
}

/* The ring with the fewest connections. Several rings accepting from one
 * socket are woken unevenly (one took every connection in measurements),
 * so the ring that accepts places each connection where it is best served. */
static struct rh_ring *least_loaded(struct rh_ring *r)
{
	struct rh_server *s = r->srv;
	struct rh_ring *best = r;
	unsigned best_n = atomic_load_explicit(&r->n_conns, memory_order_relaxed);

	for (unsigned i = 0; i < s->n_rings; i++) {
		unsigned n = atomic_load_explicit(&s->rings[i].n_conns, memory_order_relaxed);
		if (n < best_n) {
			best = &s->rings[i];
			best_n = n;
		}
	}
	return best;
}

static void place_connection(struct rh_ring *r, int fd, bool tls)
{
	struct rh_server *s = r->srv;
	struct rh_ring *target = r->stopping ? r : least_loaded(r);
	struct io_uring_sqe *sqe;

	if (atomic_fetch_add_explicit(&s->open_conns, 1, memory_order_relaxed) >= s->max_conns) {
		atomic_fetch_sub_explicit(&s->open_conns, 1, memory_order_relaxed);
		if (rh_ring_may_warn(r))
			rh_warn("%u connections open, the most allowed (max_connections); answering "
				"503", s->max_conns);
		rh_conn_refuse(r, fd, tls);
		return;
	}
	/* counted now, so that the next placement sees it and the target does
	 * not stop before the connection arrives */
	atomic_fetch_add_explicit(&target->n_conns, 1, memory_order_relaxed);
	if (target == r) {
		rh_conn_accepted(r, fd, tls);
		return;
	}
	sqe = rh_sq_get(&r->uring, 1);
	if (!sqe) { /* it stays here */
		atomic_fetch_sub_explicit(&target->n_conns, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&r->n_conns, 1, memory_order_relaxed);
		rh_conn_accepted(r, fd, tls);
		return;
	}
	/* the handoff's idx says whether it speaks TLS; the sent one's gen
	 * holds the target and that, below it */
	io_uring_prep_msg_ring(sqe, target->uring.ring_fd, fd, rh_ud(RH_OP_HANDOFF, tls, 0), 0);
	io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_HANDOFF_SENT, fd, target->id << 1 | tls));
}

/* A handoff that failed: the connection stays here. */
static void on_handoff_sent(struct rh_ring *r, const struct io_uring_cqe *cqe)
{
	uint32_t gen = rh_ud_gen(cqe->user_data);
	struct rh_ring *target = &r->srv->rings[gen >> 1];

	if (cqe->res >= 0)
		return;
	atomic_fetch_sub_explicit(&target->n_conns, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->n_conns, 1, memory_order_relaxed);
	rh_conn_accepted(r, rh_ud_idx(cqe->user_data), gen & 1);
}

static void on_accept(struct rh_ring *r, const struct io_uring_cqe *cqe)
{
	size_t li = rh_ud_idx(cqe->user_data);

	/* accepted while stopping too: the client is answered, then closed */
	if (cqe->res >= 0)
		place_connection(r, cqe->res, r->srv->listeners.tls[li]);
	else if (cqe->res != -ECANCELED && rh_ring_may_warn(r))
		rh_warn("ring %u: accept on %s: %s; retrying every second", r->id,
			r->srv->listeners.n > 1 ? "a listener" : "the listener", strerror(-cqe->res));
	/* a multishot accept ends on errors such as EMFILE: this listener's is
	 * armed again at the next tick, never at once (that would spin) */
	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		r->accepting[li] = false;
		if (!r->stopping)
			r->accept_retry = true;
	}
}

/* Submits the access log's buffered lines, when they are due. */
static void write_access_log(struct rh_ring *r)
{
	struct io_uring_sqe *sqe;
	const char *buf;
	size_t len;

	if (!rh_access_log_next_write(&r->access, r->site, &buf, &len))
		return;
	sqe = rh_sq_get(&r->uring, 1);
	if (!sqe) {
		rh_access_log_written(&r->access, -EBUSY);
		return;
	}
	/* the file is O_APPEND: offset -1 writes at its end */
	io_uring_prep_write(sqe, r->site->access_fd, buf, len, -1);
	io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_LOG_WRITE, 0, 0));
}

static void on_tick(struct rh_ring *r)
{
	atomic_store_explicit(&r->heartbeat, r->now, memory_order_relaxed);
	rh_conns_expire(r);
	rh_access_log_tick(&r->access);
	write_access_log(r);
	if (r->accept_retry && !r->stopping) {
		r->accept_retry = false;
		for (size_t li = 0; li < r->srv->listeners.n; li++)
			if (!r->accepting[li])
				arm_accept(r, li);
	}
	arm_tick(r);
}

static void run(struct rh_ring *r)
{
	while (!(r->stopping && !accepting_any(r) && atomic_load(&r->n_conns) == 0 &&
		 !r->access.writing)) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		int ret = io_uring_submit_and_wait(&r->uring, 1);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			rh_err("ring %u: io_uring_enter: %s", r->id, strerror(-ret));
			break;
		}
		update_clock(r);
		io_uring_for_each_cqe(&r->uring, head, cqe) {
			switch (rh_ud_op(cqe->user_data)) {
			case RH_OP_ACCEPT:
				on_accept(r, cqe);
				break;
			case RH_OP_TICK:
				on_tick(r);
				break;
			case RH_OP_WAKE:
				on_wake(r);
				break;
			case RH_OP_LOG_WRITE:
				rh_access_log_written(&r->access, cqe->res);
				write_access_log(r);
				break;
			case RH_OP_HANDOFF:
				rh_conn_accepted(r, cqe->res, rh_ud_idx(cqe->user_data));
				break;
			case RH_OP_HANDOFF_SENT:
				on_handoff_sent(r, cqe);
				break;
			case RH_OP_FILE_LOAD:
				rh_file_cache_loaded(&r->files, rh_ud_idx(cqe->user_data), cqe->res);
				break;
			case RH_OP_IGNORE:
				break;
			default:
				rh_conn_complete(r, cqe);
				break;
			}
			seen++;
		}
		io_uring_cq_advance(&r->uring, seen);
		rh_conns_wake(r);
		rh_file_cache_submit_loads(&r->files, &r->uring);
		write_access_log(r); /* when a buffer is half full */
	}
}

char *rh_ring_metrics_text(void *ctx, size_t *len)
{
	struct rh_ring *r = ctx;
	struct rh_server *s = r->srv;
	uint64_t open[s->n_rings];
	struct rh_metrics m = { .open_connections = open, .n_rings = s->n_rings,
				.uptime_seconds = r->now - s->started,
				.ktls = r->site->tls && r->site->tls->ktls };
	char *text;

	for (unsigned i = 0; i < s->n_rings; i++) {
		const struct rh_ring *ri = &s->rings[i];
		const struct rh_ring_stats *st = &ri->stats;

		for (int k = 0; k < 5; k++)
			m.requests[k] += atomic_load_explicit(&st->responses[k], memory_order_relaxed);
		m.bytes_sent += atomic_load_explicit(&st->bytes_sent, memory_order_relaxed);
		m.accepts += atomic_load_explicit(&st->accepts, memory_order_relaxed);
		m.buffer_waits += atomic_load_explicit(&st->buffer_waits, memory_order_relaxed);
		m.tls_handshakes += atomic_load_explicit(&st->tls_handshakes, memory_order_relaxed);
		m.tls_handshake_failures +=
			atomic_load_explicit(&st->tls_failures, memory_order_relaxed);
		m.tls_not_tls += atomic_load_explicit(&st->tls_not_tls, memory_order_relaxed);
		m.ktls_connections += atomic_load_explicit(&st->ktls_connections, memory_order_relaxed);
		m.h2_connections += atomic_load_explicit(&st->h2_connections, memory_order_relaxed);
		m.h2_streams += atomic_load_explicit(&st->h2_streams, memory_order_relaxed);
		m.h2_misbehaving += atomic_load_explicit(&st->h2_misbehaving, memory_order_relaxed);
		m.file_cache_hits += atomic_load_explicit(&ri->files.hits, memory_order_relaxed);
		m.file_cache_misses += atomic_load_explicit(&ri->files.misses, memory_order_relaxed);
		open[i] = atomic_load_explicit(&ri->n_conns, memory_order_relaxed);
	}
	*len = rh_metrics_write(NULL, 0, &m);
	text = malloc(*len + 1);
	if (text)
		rh_metrics_write(text, *len + 1, &m);
	return text;
}

static void pin_to_cpu(struct rh_ring *r)
{
	cpu_set_t set;
	char name[16];

	snprintf(name, sizeof name, "ringhttpd-ring%u", r->id);
	pthread_setname_np(pthread_self(), name);
	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
		rh_warn("ring %u: cannot pin to CPU %d", r->id, r->cpu);
}

static void teardown(struct rh_ring *r)
{
	if (r->site)
		rh_access_log_final_flush(&r->access, r->site);
	rh_access_log_destroy(&r->access);
	rh_conns_destroy(&r->conns);
	if (r->uring_ready)
		io_uring_queue_exit(&r->uring);
	rh_file_cache_destroy(&r->files);
	rh_slab_destroy(&r->exchanges);
	rh_slab_destroy(&r->heads);
	rh_slab_destroy(&r->multiparts);
	rh_slab_destroy(&r->warms);
	rh_h2_pool_destroy(&r->h2);
	rh_slab_destroy(&r->heads_large);
	free(r->accepting);
	rh_bufpool_destroy(&r->bufs);
	free(r->tokens);
	rh_site_put(r->site);
	rh_site_put(atomic_exchange(&r->next_site, NULL));
}

static void *ring_main(void *arg)
{
	struct rh_ring *r = arg;

	pin_to_cpu(r);
	update_clock(r);
	setup(r);
	if (rh_startup_ring_set_up(&r->srv->startup)) {
		for (size_t li = 0; li < r->srv->listeners.n; li++)
			arm_accept(r, li);
		arm_tick(r);
		arm_wake(r);
		io_uring_submit(&r->uring);
		atomic_store(&r->heartbeat, r->now);
		rh_startup_ring_accepting(&r->srv->startup);
		run(r);
	}
	teardown(r);
	rh_tls_thread_end();
	return NULL;
}

int rh_ring_start(struct rh_ring *r)
{
	return -pthread_create(&r->thread, NULL, ring_main, r);
}

void rh_ring_join(struct rh_ring *r)
{
	pthread_join(r->thread, NULL);
}
