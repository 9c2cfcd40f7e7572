#include "exchange.h"

#include <stdlib.h>
#include <string.h>

#include "bufpool.h"
#include "clock.h"
#include "file.h"
#include "handler.h"
#include "http_resp.h"
#include "listing_cache.h"
#include "log.h"
#include "path.h"
#include "site.h"

/* The largest head a response can need: a Location made of the longest
 * request line accepted, percent-encoded, with its query, and the site's
 * header rules. */
#define BIG_HEAD_MAX (4 * RH_MAX_REQUEST_LINE + 16384)

void rh_exchange_begin(struct rh_exchange *x, const struct rh_request *req, bool logged,
		       uint64_t start_usec)
{
	x->f.file = NULL;
	x->f.owned = NULL;
	x->f.page = NULL;
	x->f.big_head = NULL;
	x->f.tx = (struct rh_tx){ .buf = -1 };
	x->f.status = 0;
	x->f.head_len = 0;
	x->f.logged = logged;
	if (logged)
		rh_access_rec_fill(&x->f.rec, req, start_usec);
}

/* Gives back what the exchange holds, and leaves it empty. */
static void release(const struct rh_exchange_env *env, struct rh_exchange *x)
{
	rh_tx_end(env->body, &x->f.tx);
	if (x->f.file)
		rh_file_put(x->f.file);
	if (x->f.page)
		rh_listing_page_put(x->f.page);
	free(x->f.owned);
	free(x->f.big_head);
	x->f.file = NULL;
	x->f.page = NULL;
	x->f.owned = x->f.big_head = NULL;
}

void rh_exchange_end(const struct rh_exchange_env *env, struct rh_exchange *x)
{
	const struct rh_tx *t = &x->f.tx;
	char peer[RH_PEER_STR];

	if (x->f.logged) {
		uint64_t head = x->f.head_len, sent = t->bytes_sent;
		rh_peer_format(env->peer, peer);
		rh_access_log_request(env->access, env->site, env->wall, peer, &x->f.rec,
				      x->f.status, sent, sent > head ? sent - head : 0,
				      rh_monotonic_usec());
	}
	if (x->f.status >= 100 && x->f.status < 600)
		atomic_fetch_add_explicit(&env->stats->responses[x->f.status / 100 - 1], 1,
					  memory_order_relaxed);
	atomic_fetch_add_explicit(&env->stats->bytes_sent, t->bytes_sent, memory_order_relaxed);
	release(env, x);
}

void rh_exchange_drop(const struct rh_exchange_env *env, struct rh_exchange *x)
{
	release(env, x);
}

/* The length of the head in an error response's bytes, its built-in body
 * after it: the log counts the body as body. */
static size_t head_part(const char *resp, size_t len)
{
	const char *end = memmem(resp, len, "\r\n\r\n", 4);

	return end ? (size_t)(end - resp) + 4 : len;
}

static size_t format_head(char *buf, size_t cap, struct rh_plan *plan)
{
	return plan->error ? rh_resp_error(buf, cap, &plan->resp) : rh_resp_head(buf, cap, &plan->resp);
}

/* Writes the plan's head into the exchange, or into a buffer of its own
 * when it is longer (a long Location); a head that fits neither is
 * answered 500 instead. Returns where it is and its length in *LEN. */
static const char *write_head(const struct rh_exchange_env *env, struct rh_exchange *x,
			      struct rh_plan *plan, size_t *len)
{
	size_t n = format_head(x->head, sizeof x->head, plan);

	if (n) {
		*len = n;
		return x->head;
	}
	x->f.big_head = malloc(BIG_HEAD_MAX);
	if (x->f.big_head && (n = format_head(x->f.big_head, BIG_HEAD_MAX, plan))) {
		*len = n;
		return x->f.big_head;
	}
	free(x->f.big_head);
	x->f.big_head = NULL;
	rh_warn("a response head of status %d does not fit in %d bytes; answering 500",
		plan->resp.status, BIG_HEAD_MAX);
	if (plan->file)
		rh_file_put(plan->file);
	plan->file = NULL;
	plan->body_len = 0;
	plan->parts.n = 0;
	plan->error = true;
	plan->resp = (struct rh_resp){ .status = 500, .date = env->date, .keep_alive = false,
				       .head_only = plan->resp.head_only };
	*len = rh_resp_error(x->head, sizeof x->head, &plan->resp);
	return x->head;
}

static void log_problem(const struct rh_exchange_env *env, const struct rh_request *req,
			const struct rh_plan *plan)
{
	char peer[RH_PEER_STR], path[4 * RH_ACCESS_REC_MAX];
	struct rh_log_request rq = { peer, req->method == RH_METHOD_HEAD ? "HEAD" : "GET",
				     req->path.p, req->path.len, plan->resp.status };
	size_t n;

	if (*env->last_warning == env->now)
		return;
	*env->last_warning = env->now;
	rh_peer_format(env->peer, peer);
	n = rh_log_escape(path, sizeof path, req->path.p, req->path.len);
	rh_log_req(RH_LOG_WARNING, &rq, "%.*s: %s", (int)n, path, plan->problem);
}

/* A multipart body needs a record of its own; without one the answer is
 * a 503 that says it closes, never a head promising what cannot come. */
static void reserve_parts(const struct rh_exchange_env *env, struct rh_exchange *x,
			  struct rh_plan *plan, bool reads_only)
{
	if (plan->parts.n < 2 || !plan->body_len)
		return;
	if (rh_tx_multipart(env->body, &x->f.tx, NULL, 0, plan->file, &plan->parts,
			    plan->boundary, plan->part_type, reads_only))
		return;
	rh_file_put(plan->file);
	plan->file = NULL;
	plan->body_len = 0;
	plan->parts.n = 0;
	plan->error = true;
	plan->problem = "out of memory";
	plan->resp = (struct rh_resp){ .status = 503, .date = env->date, .keep_alive = false,
				       .retry_after = 1, .head_only = plan->resp.head_only };
}

/* The bytes of a body held in memory. */
static const char *memory_body(const struct rh_plan *plan)
{
	if (plan->owned)
		return plan->owned;
	if (plan->page)
		return plan->page->body;
	return plan->file && plan->file->data ? plan->file->data + plan->body_off : NULL;
}

/* Writes the plan into the exchange: the head, and where the body comes
 * from. Nothing is sent yet. */
static void prepare(const struct rh_exchange_env *env, struct rh_exchange *x, struct rh_plan *plan)
{
	struct rh_tx *t = &x->f.tx;
	uint64_t threshold = env->site->cfg->splice_threshold;
	bool reads_only = threshold ? plan->body_len < threshold
				    : plan->body_len <= env->body->bufs->size;
	const char *head;
	size_t len;

	*t = (struct rh_tx){ .buf = -1 };
	reserve_parts(env, x, plan, reads_only);
	head = write_head(env, x, plan, &len);
	x->f.head_len = plan->error ? head_part(head, len) : len;
	x->f.status = plan->resp.status;
	x->f.file = plan->file;
	x->f.owned = plan->owned;
	x->f.page = plan->page;
	if (t->parts) {
		t->head = head;
		t->head_len = len;
	} else if (!plan->body_len || !plan->file || plan->file->data) {
		rh_tx_memory(t, head, len, memory_body(plan), plan->body_len);
	} else {
		rh_tx_file(t, head, len, plan->file, plan->body_off, plan->body_len, reads_only);
	}
}

/* The target the access log records: the normalized path, encoded, and
 * the query. */
static void log_target(struct rh_exchange *x, const struct rh_request *req,
		       const struct rh_plan *plan)
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
	rh_access_rec_target(&x->f.rec, target, n);
}

enum rh_exchange_next rh_exchange_plan(const struct rh_exchange_env *env, struct rh_exchange *x,
				       const struct rh_request *req, int parse_status,
				       bool *keep_alive)
{
	struct rh_handler_env henv = {
		.site = env->site, .files = env->files, .now = env->now, .wall = env->wall,
		.date = env->date, .random = env->random, .peer = env->peer,
		.may_block = env->may_block, .listings = env->listings,
		.listing_since = env->listing_since, .wake = env->wake, .wake_ctx = env->wake_ctx,
		.token = env->token, .metrics = env->metrics, .ctx = env->metrics_ctx,
		.tls = env->tls, .server_name = env->server_name, .https_port = env->https_port,
	};
	struct rh_plan *plan = env->plan;

	rh_handle(&henv, req, parse_status, *keep_alive, env->site->cfg->max_ranges, plan);
	if (plan->cold || plan->listing_wait) {
		if (plan->file)
			rh_file_put(plan->file);
		if (plan->page)
			rh_listing_page_put(plan->page);
		free(plan->owned);
		return plan->cold ? RH_X_WAIT_COLD : RH_X_WAIT_LISTING;
	}
	if (plan->problem)
		log_problem(env, req, plan);
	if (x->f.logged && plan->sc)
		rh_access_rec_site(&x->f.rec, plan->sc->name);
	if (x->f.logged && plan->path)
		log_target(x, req, plan);
	prepare(env, x, plan);
	*keep_alive = plan->resp.keep_alive;
	return plan->close ? RH_X_SEND_CLOSE : RH_X_SEND;
}

void rh_exchange_refuse_body(const struct rh_exchange_env *env, struct rh_exchange *x, int status)
{
	struct rh_handler_env henv = { .site = env->site, .date = env->date, .tls = env->tls };
	struct rh_plan *plan = env->plan;

	release(env, x);
	rh_handle(&henv, NULL, status, false, 0, plan);
	prepare(env, x, plan);
}

size_t rh_exchange_plain_on_tls(char *buf, size_t cap, const char *date)
{
	static const char body[] =
		"<!DOCTYPE html>\n<html><head><title>400 Bad Request</title></head><body>"
		"<h1>400 Bad Request</h1><p>The plain HTTP request was sent to an HTTPS port.</p>"
		"<hr>ringhttpd</body></html>\n";
	struct rh_resp resp = { .status = 400, .date = date, .content_type = "text/html",
				.content_length = sizeof body - 1 };
	size_t n = rh_resp_head(buf, cap, &resp);

	if (!n || n + sizeof body - 1 > cap)
		return 0;
	memcpy(buf + n, body, sizeof body - 1);
	return n + sizeof body - 1;
}

size_t rh_exchange_refusal(char *buf, size_t cap, const char *date)
{
	struct rh_resp resp = { .status = 503, .date = date, .retry_after = 1 };

	return rh_resp_error(buf, cap, &resp);
}
