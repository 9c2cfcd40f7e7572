#include "respond.h"

#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "handler.h"
#include "http_resp.h"
#include "log.h"
#include "metrics.h"
#include "path.h"
#include "ring.h"
#include "server.h"
#include "site.h"

/* The response is over: its log record, its file and its buffers go. */
void rh_respond_end(struct rh_ring *r, struct rh_conn *c)
{
	struct rh_exchange *x = c->x;
	struct rh_tx *t;
	char peer[RH_PEER_STR];

	if (!x)
		return;
	t = &x->f.tx;
	if (x->f.logged) {
		uint64_t head = x->f.head_len, sent = t->bytes_sent;
		rh_peer_format(&c->peer, peer);
		rh_access_log_request(&r->access, r->site, r->wall, peer, &x->f.rec, x->f.status,
				      sent, sent > head ? sent - head : 0, rh_ring_usec());
	}
	if (x->f.status >= 100 && x->f.status < 600)
		atomic_fetch_add_explicit(&r->stats.responses[x->f.status / 100 - 1], 1,
					  memory_order_relaxed);
	atomic_fetch_add_explicit(&r->stats.bytes_sent, t->bytes_sent, memory_order_relaxed);
	rh_tx_end(r, t);
	if (x->f.file)
		rh_file_put(x->f.file);
	free(x->f.owned);
	rh_slab_put(&r->exchanges, x);
	c->x = NULL;
}

/* Transport mode for the plan's body. */
static enum rh_tx_mode tx_mode(struct rh_ring *r, const struct rh_plan *plan)
{
	uint64_t threshold = r->site->cfg->splice_threshold;

	if (plan->parts.n > 1 && plan->body_len)
		return RH_TX_SENDFILE;
	if (!plan->body_len || plan->owned || plan->file->data)
		return RH_TX_MEMORY;
	if (threshold ? plan->body_len < threshold : plan->body_len <= r->bufs.size)
		return RH_TX_READ;
	return RH_TX_SENDFILE;
}

/* Writes the plan's head into the exchange; a head that does not fit is
 * answered 500 instead. */
static size_t write_head(struct rh_ring *r, struct rh_conn *c, struct rh_plan *plan)
{
	char *head = c->x->head;
	size_t cap = sizeof c->x->head;
	size_t n = plan->error ? rh_resp_error(head, cap, &plan->resp)
			       : rh_resp_head(head, cap, &plan->resp);

	if (n)
		return n;
	if (rh_ring_may_warn(r))
		rh_warn("a response head of status %d does not fit in %zu bytes; answering 500",
			plan->resp.status, cap);
	if (plan->file)
		rh_file_put(plan->file);
	plan->file = NULL;
	plan->body_len = 0;
	plan->error = true;
	plan->resp = (struct rh_resp){ .status = 500, .date = r->date, .keep_alive = false,
				       .head_only = plan->resp.head_only };
	c->keep_alive = false;
	return rh_resp_error(head, cap, &plan->resp);
}

static void log_problem(struct rh_ring *r, struct rh_conn *c, const struct rh_request *req,
			const struct rh_plan *plan)
{
	char peer[RH_PEER_STR];
	struct rh_log_request rq = { peer, req->method == RH_METHOD_HEAD ? "HEAD" : "GET",
				     req->path.p, req->path.len, plan->resp.status };

	if (!rh_ring_may_warn(r))
		return;
	rh_peer_format(&c->peer, peer);
	rh_log_req(RH_LOG_WARNING, &rq, "%.*s: %s", (int)req->path.len, req->path.p, plan->problem);
}

/* The status endpoint's text: every ring's counters, read without locks. */
static char *metrics_text(void *ctx, size_t *len)
{
	struct rh_ring *r = ctx;
	struct rh_server *s = r->srv;
	uint64_t open[s->n_rings];
	struct rh_metrics m = { .open_connections = open, .n_rings = s->n_rings,
				.uptime_seconds = r->now - s->started };
	char *text;

	for (unsigned i = 0; i < s->n_rings; i++) {
		const struct rh_ring *ri = &s->rings[i];
		const struct rh_ring_stats *st = &ri->stats;

		for (int k = 0; k < 5; k++)
			m.requests[k] += atomic_load_explicit(&st->responses[k], memory_order_relaxed);
		m.bytes_sent += atomic_load_explicit(&st->bytes_sent, memory_order_relaxed);
		m.accepts += atomic_load_explicit(&st->accepts, memory_order_relaxed);
		m.buffer_waits += atomic_load_explicit(&st->buffer_waits, memory_order_relaxed);
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

/* Writes the plan into the exchange: the head, and where the body comes
 * from. Nothing is sent yet. */
static void prepare(struct rh_ring *r, struct rh_conn *c, struct rh_plan *plan)
{
	struct rh_exchange *x = c->x;
	struct rh_tx *t = &x->f.tx;

	if (plan->close) {
		c->keep_alive = false;
		c->linger = true;
	}
	*t = (struct rh_tx){ .head = x->head, .buf = -1 };
	t->head_len = x->f.head_len = write_head(r, c, plan);
	x->f.status = plan->resp.status;
	x->f.file = plan->file;
	x->f.owned = plan->owned;
	t->mode = tx_mode(r, plan);
	if (plan->owned) {
		t->mem = plan->owned;
		t->left = plan->body_len;
	}
	if (!plan->file)
		return;
	t->fd = plan->file->fd;
	if (plan->parts.n > 1 && plan->body_len) {
		/* the parts' heads are made as they are sent; bytes by sendfile */
		t->parts = rh_slab_get(&r->multiparts);
		if (!t->parts) {
			t->left = 0; /* out of memory: the head alone, then close */
			c->keep_alive = false;
			return;
		}
		rh_multipart_init(t->parts, &plan->parts, plan->boundary, plan->part_type,
				  plan->file->size);
		return;
	}
	t->left = plan->body_len;
	t->off = plan->body_off;
	if (plan->file->data)
		t->mem = plan->file->data + plan->body_off;
}

/* The target the access log records: the normalized path, encoded, and
 * the query. */
static void log_target(struct rh_conn *c, const struct rh_request *req, const struct rh_plan *plan)
{
	char target[RH_ACCESS_REC_MAX];
	size_t n = rh_path_encode(plan->path, plan->path_len, target, sizeof target);

	if (!n)
		return; /* longer than a record holds: the target as sent, truncated */
	if (req->has_query && n + 1 < sizeof target) {
		size_t q = req->query.len < sizeof target - n - 1 ? req->query.len
								: sizeof target - n - 1;
		target[n++] = '?';
		memcpy(target + n, req->query.p, q);
		n += q;
	}
	rh_access_rec_target(&c->x->f.rec, target, n);
}

/* Plans the answer to one request (or to a head that failed to parse,
 * PARSE_STATUS) into the exchange. */
void rh_respond_plan(struct rh_ring *r, struct rh_conn *c, const struct rh_request *req,
		     int parse_status)
{
	struct rh_handler_env env = {
		.site = r->site, .files = &r->files, .now = r->now, .wall = r->wall,
		.date = r->date, .random = rh_ring_random(r), .peer = &c->peer,
		.metrics = metrics_text, .ctx = r,
	};
	struct rh_plan plan;

	rh_handle(&env, req, parse_status, c->keep_alive, r->site->cfg->max_ranges, &plan);
	if (plan.problem)
		log_problem(r, c, req, &plan);
	if (c->x->f.logged && plan.sc)
		rh_access_rec_site(&c->x->f.rec, plan.sc->name);
	if (c->x->f.logged && plan.path)
		log_target(c, req, &plan);
	prepare(r, c, &plan);
}

/* A request body that turned out malformed (400) or too large (413): its
 * planned answer is replaced by that status, and the connection closes. */
void rh_respond_refuse_body(struct rh_ring *r, struct rh_conn *c, int status)
{
	struct rh_handler_env env = { .site = r->site, .date = r->date };
	struct rh_plan plan;

	rh_tx_end(r, &c->x->f.tx);
	if (c->x->f.file)
		rh_file_put(c->x->f.file);
	free(c->x->f.owned);
	rh_handle(&env, NULL, status, false, 0, &plan);
	prepare(r, c, &plan);
}
