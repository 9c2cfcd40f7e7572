#include "h2.h"

#include <errno.h>
#include <pthread.h>
#include <nghttp2/nghttp2.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bufpool.h"
#include "clock.h"
#include "conn.h"
#include "exchange.h"
#include "file.h"
#include "h2_request.h"
#include "log.h"
#include "ring.h"
#include "server.h"
#include "site.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define FRAME_HEAD 9
/* The largest DATA payload sent: the peer's smallest allowed frame size,
 * and over TLS in user space a frame head and payload that make exactly
 * one full record. */
#define DATA_MAX 16384
#define RECORD_DATA_MAX (16384 - FRAME_HEAD)
/* The out buffer is written once it holds this much; any one frame fits
 * behind it. */
#define OUT_FILL 16384
#define OUT_CAP (OUT_FILL + FRAME_HEAD + DATA_MAX + 64)
/* Bytes one connection writes before the ring's other connections go (as
 * for HTTP/1, body.c). */
#define TURN (256u << 10)
/* Frames that ask work of the server and carry no request (PING, SETTINGS,
 * PRIORITY, empty DATA): more than this in one second is a flood. */
#define FLOOD_PER_SECOND 1000
/* How far ahead a file's pages are asked of the page cache at once:
 * asking for each frame cost a system call per 16 KiB. */
#define CACHED_AHEAD (256u << 10)
/* A nonzero window shut again before this many seconds of waiting does
 * not cost the stream its pooled buffer. */
#define BUFFER_HOLD_SECONDS 1

enum stream_state {
	S_HEADERS, /* its header block is arriving */
	S_WARM,	   /* waiting for a path look-up (its own, or its turn) */
	S_LISTING, /* waiting for a listing to be built */
	S_SENDING, /* its response is being sent */
	S_SENT,	   /* its last frame is sent */
};

/* How a DATA frame's payload is taken, decided when the frame is made. */
enum frame_source {
	F_MEMORY,   /* copied from memory behind its head */
	F_IN_PLACE, /* read from the page cache behind its head already */
	F_SENDFILE, /* its head, then sendfile(2) of its length */
};

struct h2_stream {
	struct h2_stream *prev, *next; /* the connection's streams */
	int32_t id;
	uint8_t state;
	uint8_t source; /* enum frame_source of the frame being made */
	uint8_t warmups;
	bool needs_read;   /* deferred until its next chunk is read */
	bool wants_room;   /* deferred until the out buffer has room, or the next turn */
	bool closed;	   /* the session closed it while its frame was half sent */
	uint32_t frame_len; /* of the frame being made */
	const char *frame_mem;
	uint32_t sendfile_left; /* F_SENDFILE: payload bytes still to send */
	uint64_t cached_from, cached_to; /* these pages were cached when last asked */
	uint32_t deadline;	/* S_SENDING: send_timeout since it last sent */
	uint32_t listing_since;
	uint64_t start_usec;
	uint64_t body_left; /* body bytes still to send */
	char *fields; /* the header block, as stored by on_header, until planned */
	uint32_t fields_len, fields_cap;
	uint32_t list_size; /* RFC 9113 6.5.2's measure of the fields received */
	struct rh_exchange *x;
};

struct rh_h2 {
	nghttp2_session *session;
	struct rh_ring *r;
	struct rh_conn *c;
	struct h2_stream *streams;
	unsigned n_streams;
	struct h2_stream *reading; /* whose chunk is being read */
	struct h2_stream *warming; /* whose path is being looked up */
	struct h2_stream *partial; /* whose DATA frame is part sent by sendfile */
	struct rh_warm *warm;
	char *out; /* gathered bytes to write, or NULL */
	uint32_t out_len, out_sent;
	uint32_t written; /* in this turn */
	bool wants_buf;	  /* a stream needs a chunk read, and the pool had no buffer */
	bool room_wanted; /* a frame waits for the out buffer to be written */
	bool room_waiting; /* some stream wants_room */
	bool corked;	  /* in this turn (TCP_CORK) */
	bool polling;	  /* a POLLOUT is armed */
	bool going_away;  /* a GOAWAY submitted: no new streams wanted */
	bool last_named;  /* the GOAWAY naming the last stream taken is submitted */
	uint32_t name_last_at; /* when to submit it, after the shutdown notice */
	bool terminated;  /* for breaking a limit, or a protocol error */
	bool failed;	  /* the socket failed, or a file changed while sent */
	bool idle;	  /* no stream and nothing to send: keepalive_timeout runs */
	int reset_budget; /* rapid reset: streams the client may reset unanswered */
	uint32_t flood_second;
	unsigned flood_count;
};

static nghttp2_session_callbacks *callbacks;
static nghttp2_option *options;

void rh_h2_pool_init(struct rh_h2_pool *p)
{
	rh_slab_init(&p->sessions, sizeof(struct rh_h2));
	rh_slab_init(&p->streams, sizeof(struct h2_stream));
	rh_slab_init(&p->outs, OUT_CAP);
}

void rh_h2_pool_destroy(struct rh_h2_pool *p)
{
	rh_slab_destroy(&p->sessions);
	rh_slab_destroy(&p->streams);
	rh_slab_destroy(&p->outs);
}

int rh_h2_preface(const char *data, size_t len)
{
	size_t n = len < sizeof PREFACE - 1 ? len : sizeof PREFACE - 1;

	if (memcmp(data, PREFACE, n))
		return -1;
	return n == sizeof PREFACE - 1 ? 1 : 0;
}

static const struct rh_config *cfg_of(const struct rh_h2 *h)
{
	return h->r->site->cfg;
}

static struct rh_slab *fields_slab(struct rh_ring *r, uint32_t cap)
{
	return cap == RH_HEAD_SMALL ? &r->heads : &r->heads_large;
}

/* The connection's stream list. */
static void link_stream(struct rh_h2 *h, struct h2_stream *st)
{
	st->prev = NULL;
	st->next = h->streams;
	if (h->streams)
		h->streams->prev = st;
	h->streams = st;
	h->n_streams++;
}

static void unlink_stream(struct rh_h2 *h, struct h2_stream *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	h->n_streams--;
}

static struct rh_exchange_env env_of(struct rh_h2 *h, const struct h2_stream *st)
{
	struct rh_exchange_env env = rh_conn_exchange_env(h->r, h->c);

	env.may_block = st->warmups >= RH_WARMUPS_MAX;
	env.listing_since = st->listing_since ? st->listing_since : h->r->now;
	return env;
}

static void put_fields(struct rh_h2 *h, struct h2_stream *st)
{
	if (st->fields)
		rh_slab_put(fields_slab(h->r, st->fields_cap), st->fields);
	st->fields = NULL;
	st->fields_len = st->fields_cap = 0;
}

/* The stream is over: its exchange is logged and given back. A stream
 * whose chunk is still being read waits for the read to end. */
static void stream_free(struct rh_h2 *h, struct h2_stream *st)
{
	if (h->reading == st || h->partial == st) {
		st->closed = true;
		return;
	}
	if (h->warming == st)
		h->warming = NULL;
	if (st->x) {
		struct rh_exchange_env env = env_of(h, st);

		rh_exchange_end(&env, st->x);
		rh_slab_put(&h->r->exchanges, st->x);
	}
	put_fields(h, st);
	unlink_stream(h, st);
	rh_slab_put(&h->r->h2.streams, st);
}

/* Ends the session as misbehaving: GOAWAY with CODE, then the close. */
static void calm_down(struct rh_h2 *h, uint32_t code, const char *why)
{
	char peer[RH_PEER_STR];

	if (h->terminated)
		return;
	h->terminated = h->going_away = h->last_named = true;
	if (code == NGHTTP2_ENHANCE_YOUR_CALM)
		atomic_fetch_add_explicit(&h->r->stats.h2_misbehaving, 1, memory_order_relaxed);
	if (rh_ring_may_warn(h->r)) {
		rh_peer_format(&h->c->peer, peer);
		rh_warn("%s: HTTP/2: %s; connection closed", peer, why);
	}
	nghttp2_session_terminate_session(h->session, code);
}

/* ---- the response ---- */

/* Whether a field of an HTTP/1 head has no place in HTTP/2 (RFC 9113 8.2.2). */
static bool connection_specific(const char *name, size_t len)
{
	static const char *const names[] = { "connection", "keep-alive", "proxy-connection",
					     "transfer-encoding", "upgrade" };

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strlen(names[i]) == len && !strncasecmp(name, names[i], len))
			return true;
	return false;
}

/* The fields of the HTTP/1 head HEAD[0..LEN) (as the exchange made it:
 * the same head for both protocols) into NV, names lowered in place:
 * their count, or 0 when NV is short. */
static size_t head_fields(char *head, size_t len, nghttp2_nv *nv, size_t cap)
{
	char *end = head + len, *p = memchr(head, '\n', len);
	size_t n = 0;

	if (!p || len < 12)
		return 0;
	/* "HTTP/1.1 200 Reason" */
	nv[n++] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)head + 9, 7, 3,
				NGHTTP2_NV_FLAG_NONE };
	for (p++; p < end;) {
		char *eol = memchr(p, '\r', end - p), *colon, *value;

		if (!eol || eol == p)
			break;
		colon = memchr(p, ':', eol - p);
		if (colon) {
			for (char *c = p; c < colon; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c += 'a' - 'A';
			for (value = colon + 1; value < eol && (*value == ' ' || *value == '\t');)
				value++;
			if (!connection_specific(p, colon - p)) {
				if (n == cap)
					return 0;
				nv[n++] = (nghttp2_nv){ (uint8_t *)p, (uint8_t *)value, colon - p,
							eol - value, NGHTTP2_NV_FLAG_NONE };
			}
		}
		p = eol + 2;
	}
	return n;
}

static ssize_t read_body(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
			 uint32_t *flags, nghttp2_data_source *source, void *user);

/* Submits the planned response of ST: its head as HEADERS, its body as
 * DATA pulled by read_body. */
static void submit_response(struct rh_h2 *h, struct h2_stream *st)
{
	struct rh_exchange *x = st->x;
	struct rh_tx *t = &x->f.tx;
	nghttp2_nv nv[64 + RH_SITE_HEADER_LINES_MAX];
	nghttp2_data_provider body = { .source.ptr = st, .read_callback = read_body };
	const char *p;
	uint64_t len;
	size_t n = head_fields((char *)t->head, x->f.head_len, nv, sizeof nv / sizeof *nv);

	rh_tx_head_taken(t, x->f.head_len);
	st->body_left = t->head_len - x->f.head_len + t->left +
			(t->parts ? h->r->plan.body_len : 0);
	st->state = S_SENDING;
	st->deadline = h->r->now + cfg_of(h)->send_timeout;
	if (!n || nghttp2_submit_response(h->session, st->id, nv, n,
					  rh_tx_span(&h->r->body, t, &p, &len) == RH_SPAN_END
						  ? NULL
						  : &body))
		nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, st->id,
					  NGHTTP2_INTERNAL_ERROR);
}

/* Looks up the path ST's plan has just asked for (files.cold_path) when
 * no look-up is in flight; otherwise ST waits its turn. */
static void warm_for(struct rh_h2 *h, struct h2_stream *st)
{
	st->state = S_WARM;
	if (h->warm)
		return;
	h->warm = rh_conn_warm(h->r, h->c);
	if (h->warm) {
		h->warming = st;
		return;
	}
	st->state = S_SENT;
	nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_REFUSED_STREAM);
}

static void plan_stream(struct rh_h2 *h, struct h2_stream *st);

/* Once no look-up is in flight, the streams waiting their turn are planned
 * again: each asks for its own path, or is answered. */
static void warm_next(struct rh_h2 *h)
{
	while (!h->warm) {
		struct h2_stream *st = h->streams;

		while (st && st->state != S_WARM)
			st = st->next;
		if (!st)
			return;
		plan_stream(h, st);
	}
}

/* Plans the answer to the stream's request and submits it, or leaves the
 * stream waiting for a look-up or a listing. */
static void plan_stream(struct rh_h2 *h, struct h2_stream *st)
{
	struct rh_ring *r = h->r;
	struct rh_request req;
	struct rh_exchange_env env;
	enum rh_exchange_next next;
	int status = -rh_h2_request(st->fields, st->fields_len, &req);
	bool keep_alive = true;

	if (!st->x && !(st->x = rh_slab_get(&r->exchanges))) {
		nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, st->id,
					  NGHTTP2_REFUSED_STREAM);
		return;
	}
	rh_exchange_begin(st->x, &req, rh_access_log_enabled(r->site), st->start_usec);
	env = env_of(h, st);
	next = rh_exchange_plan(&env, st->x, &req, status, &keep_alive);
	if (next == RH_X_WAIT_COLD || next == RH_X_WAIT_LISTING) {
		rh_exchange_drop(&env, st->x);
		rh_slab_put(&r->exchanges, st->x);
		st->x = NULL;
		if (next == RH_X_WAIT_COLD) {
			warm_for(h, st);
		} else {
			st->state = S_LISTING;
			st->listing_since = env.listing_since;
		}
		return;
	}
	atomic_fetch_add_explicit(&r->requests, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->stats.h2_streams, 1, memory_order_relaxed);
	put_fields(h, st);
	submit_response(h, st);
}

/* ---- the session's callbacks ---- */

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct rh_h2 *h = user;
	struct h2_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = rh_slab_get(&h->r->h2.streams);
	if (!st)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	memset(st, 0, sizeof *st);
	st->id = frame->hd.stream_id;
	st->start_usec = rh_monotonic_usec();
	st->deadline = h->r->now + cfg_of(h)->header_timeout;
	link_stream(h, st);
	h->idle = false;
	nghttp2_session_set_stream_user_data(session, st->id, st);
	return 0;
}

/* Keeps a field behind the others, in a head buffer: a small one while
 * the fields fit, else one of buffer_size, which holds any list within the
 * limit. */
static bool keep_field(struct rh_h2 *h, struct h2_stream *st, const uint8_t *name, uint32_t nlen,
		       const uint8_t *value, uint32_t vlen)
{
	uint32_t need = st->fields_len + rh_h2_field_bytes(nlen, vlen);

	if (need > st->fields_cap) {
		uint32_t cap = need <= RH_HEAD_SMALL ? RH_HEAD_SMALL : h->r->bufs.size;
		char *fields = need <= cap ? rh_slab_get(fields_slab(h->r, cap)) : NULL;

		if (!fields)
			return false;
		if (st->fields) {
			memcpy(fields, st->fields, st->fields_len);
			rh_slab_put(fields_slab(h->r, st->fields_cap), st->fields);
		}
		st->fields = fields;
		st->fields_cap = cap;
	}
	rh_h2_field_put(st->fields, &st->fields_len, name, nlen, value, vlen);
	return true;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
	struct rh_h2 *h = user;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

	(void)flags;
	if (!st || st->state != S_HEADERS)
		return 0;
	/* the head limit of HTTP/1 (buffer_size), as SETTINGS_MAX_HEADER_LIST_SIZE says */
	st->list_size += rh_h2_field_cost(nlen, vlen);
	if (st->list_size > h->r->bufs.size) {
		calm_down(h, NGHTTP2_ENHANCE_YOUR_CALM, "a header list over buffer_size");
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	return keep_field(h, st, name, nlen, value, vlen) ? 0
							  : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

/* A frame that costs work and carries no request: counted per second. */
static void count_unproductive(struct rh_h2 *h)
{
	if (h->flood_second != (uint32_t)h->r->now) {
		h->flood_second = h->r->now;
		h->flood_count = 0;
	}
	if (++h->flood_count == FLOOD_PER_SECOND + 1)
		calm_down(h, NGHTTP2_ENHANCE_YOUR_CALM, "a flood of control or empty frames");
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct rh_h2 *h = user;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
		/* answered once the head is whole; a body is never read */
		if (st && st->state == S_HEADERS && (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS))
			plan_stream(h, st);
		break;
	case NGHTTP2_DATA:
		if (!frame->hd.length && !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
			count_unproductive(h);
		break;
	case NGHTTP2_PING:
	case NGHTTP2_SETTINGS:
		if (!(frame->hd.flags & NGHTTP2_FLAG_ACK))
			count_unproductive(h);
		break;
	case NGHTTP2_PRIORITY:
		count_unproductive(h);
		break;
	case NGHTTP2_RST_STREAM:
		/* rapid reset (CVE-2023-44487): streams reset before their
		 * answer is out cost the budget that answered ones refill */
		if (st && st->state != S_SENT && --h->reset_budget < 0)
			calm_down(h, NGHTTP2_ENHANCE_YOUR_CALM, "streams reset faster than answered");
		break;
	}
	return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct rh_h2 *h = user;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

	if (!st || !st->x)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS) {
		/* the log counts the head as sent in its HTTP/2 form */
		st->x->f.head_len = frame->hd.length + FRAME_HEAD;
		st->x->f.tx.bytes_sent += frame->hd.length + FRAME_HEAD;
	}
	if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
		st->state = S_SENT;
		if (h->reset_budget < 2 * (int)cfg_of(h)->http2_max_streams)
			h->reset_budget++;
		/* the answer is whole: a request body still coming is not wanted
		 * (RFC 9113 8.1) */
		if (!nghttp2_session_get_stream_remote_close(session, st->id))
			nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id,
						  NGHTTP2_NO_ERROR);
	}
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t code, void *user)
{
	struct rh_h2 *h = user;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(session, id);

	(void)code;
	if (st)
		stream_free(h, st);
	return 0;
}

/* Whether the pages of the stream's next frame are cached, asked of the
 * page cache for CACHED_AHEAD bytes at a time. */
static bool pages_cached(struct h2_stream *st, const struct rh_tx *t)
{
	uint64_t ahead = t->left < CACHED_AHEAD ? t->left : CACHED_AHEAD;

	if (t->off >= st->cached_from && t->off + st->frame_len <= st->cached_to)
		return true;
	st->cached_from = st->cached_to = 0;
	if (rh_tx_cached(t, ahead)) {
		st->cached_from = t->off;
		st->cached_to = t->off + ahead;
		return true;
	}
	return rh_tx_cached(t, st->frame_len);
}

/* The stream's next DATA frame: how long, and where its payload comes
 * from. A frame is made only when the out buffer has room for it in this
 * turn; otherwise the stream waits for the next write. A file's bytes that
 * go through user space are read here, from the page cache only, straight
 * into the out buffer behind where the frame's head goes; pages that are
 * not cached are read through the ring first, the stream deferred until
 * they are. */
static ssize_t read_body(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
			 uint32_t *flags, nghttp2_data_source *source, void *user)
{
	struct rh_h2 *h = user;
	struct h2_stream *st = source->ptr;
	struct rh_tx *t = &st->x->f.tx;
	const char *p;
	uint64_t len;
	enum rh_span span = rh_tx_span(&h->r->body, t, &p, &len);
	size_t max = rh_wire_encrypts(&h->c->w) ? RECORD_DATA_MAX : DATA_MAX;
	ssize_t n;

	(void)session, (void)id, (void)buf;
	if (span == RH_SPAN_END) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		return 0;
	}
	if (h->written >= TURN || h->out_len + FRAME_HEAD + max > OUT_CAP) {
		st->wants_room = h->room_waiting = true;
		h->room_wanted |= h->written < TURN;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (length > max)
		length = max;
	st->frame_len = len < length ? len : length;
	if (span == RH_SPAN_MEMORY) {
		st->source = F_MEMORY;
		st->frame_mem = p;
	} else if (rh_wire_sends_pages(&h->c->w) && !t->reads_only) {
		if (!pages_cached(st, t)) {
			st->needs_read = true;
			return NGHTTP2_ERR_DEFERRED;
		}
		st->source = F_SENDFILE;
	} else {
		n = rh_tx_read_cached(t, h->out + h->out_len + FRAME_HEAD, st->frame_len);
		if (n == -EAGAIN) {
			st->needs_read = true;
			return NGHTTP2_ERR_DEFERRED;
		}
		if (n <= 0) {
			if (rh_ring_may_warn(h->r))
				rh_warn("%.*s: %s while being sent; connection closed",
					(int)t->file->key_len, t->file->key,
					n < 0 ? strerror(-n) : "shorter than announced");
			h->failed = true;
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		}
		st->source = F_IN_PLACE;
		st->frame_len = n;
	}
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	if (st->frame_len == st->body_left)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return st->frame_len;
}

/* The streams that waited for room in the out buffer, or for the next
 * turn, make their frames again. */
static void resume_room_waiters(struct rh_h2 *h)
{
	if (!h->room_waiting)
		return;
	h->room_waiting = false;
	for (struct h2_stream *st = h->streams; st; st = st->next) {
		if (st->wants_room) {
			st->wants_room = false;
			nghttp2_session_resume_data(h->session, st->id);
		}
	}
}

/* Writes what the out buffer holds. MORE: further bytes follow at once.
 * False when the socket is full or failed (h->failed). */
static bool flush_out(struct rh_h2 *h, bool more)
{
	/* more to come in this turn: held for full segments until its end */
	if (more && !h->corked) {
		rh_wire_cork(&h->c->w, true);
		h->corked = true;
	}
	while (h->out_sent < h->out_len) {
		ssize_t n = rh_wire_send_now(&h->c->w, h->out + h->out_sent,
					     h->out_len - h->out_sent, more);

		if (n == -EAGAIN)
			return false;
		if (n <= 0) {
			h->failed = true;
			return false;
		}
		h->out_sent += n;
		h->written += n;
		h->c->deadline = h->r->now + cfg_of(h)->send_timeout;
	}
	h->out_len = h->out_sent = 0;
	return true;
}

/* The rest of a DATA frame whose payload goes by sendfile: false while
 * the socket is full. */
static bool send_pages(struct rh_h2 *h, struct h2_stream *st)
{
	struct rh_tx *t = &st->x->f.tx;

	if (!flush_out(h, true))
		return false;
	while (st->sendfile_left) {
		ssize_t n = rh_tx_sendfile(t, &h->c->w, st->sendfile_left);

		if (n == -EAGAIN)
			return false;
		if (n <= 0) {
			h->failed = true;
			if (n == 0)
				rh_warn("%.*s: shorter than announced while being sent; connection "
					"closed",
					(int)t->file->key_len, t->file->key);
			return false;
		}
		st->sendfile_left -= n;
		h->written += n;
		h->c->deadline = h->r->now + cfg_of(h)->send_timeout;
	}
	h->partial = NULL;
	if (st->closed)
		stream_free(h, st);
	return true;
}

/* After a frame of LENGTH for ST: a chunk read ahead that a shut window
 * leaves waiting goes back to the pool, to be read again once the window
 * opens (the session takes the frame off the windows after this). */
static void give_back_stalled(struct rh_h2 *h, struct h2_stream *st, size_t length)
{
	int32_t conn = nghttp2_session_get_remote_window_size(h->session) - (int32_t)length;

	if (conn > 0) {
		if (st->x->f.tx.buf >= 0 &&
		    nghttp2_session_get_stream_remote_window_size(h->session, st->id) <=
			    (int32_t)length)
			rh_tx_unread(&h->r->body, &st->x->f.tx);
		return;
	}
	for (struct h2_stream *s = h->streams; s; s = s->next)
		if (s->x && s->x->f.tx.buf >= 0 && h->reading != s)
			rh_tx_unread(&h->r->body, &s->x->f.tx);
}

static int send_data(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
		     size_t length, nghttp2_data_source *source, void *user)
{
	struct rh_h2 *h = user;
	struct h2_stream *st = source->ptr;
	struct rh_tx *t = &st->x->f.tx;

	(void)session, (void)frame;
	if (h->partial != st) { /* read_body saw to the room */
		memcpy(h->out + h->out_len, framehd, FRAME_HEAD);
		h->out_len += FRAME_HEAD;
		st->body_left -= length;
		st->deadline = h->r->now + cfg_of(h)->send_timeout;
		switch (st->source) {
		case F_MEMORY:
			memcpy(h->out + h->out_len, st->frame_mem, length);
			/* fall through */
		case F_IN_PLACE:
			h->out_len += length;
			rh_tx_took(&h->r->body, t, length);
			give_back_stalled(h, st, length);
			return 0;
		case F_SENDFILE:
			h->partial = st;
			st->sendfile_left = length;
			break;
		}
	}
	if (send_pages(h, st))
		return 0;
	return h->failed ? NGHTTP2_ERR_CALLBACK_FAILURE : NGHTTP2_ERR_WOULDBLOCK;
}

/* ---- writing ---- */

/* Starts reading the next chunk a stream waits for, one at a time. */
static void read_next(struct rh_h2 *h, int buf)
{
	struct h2_stream *st;

	if (h->reading) {
		if (buf >= 0)
			rh_bufpool_release(&h->r->bufs, buf);
		return;
	}
	for (st = h->streams; st && !st->needs_read; st = st->next)
		;
	if (!st) {
		if (buf >= 0)
			rh_bufpool_release(&h->r->bufs, buf);
		return;
	}
	h->wants_buf = buf < 0 && (buf = rh_bufpool_take_in_turn(&h->r->bufs)) < 0;
	if (h->wants_buf)
		return;
	if (rh_tx_read_ahead(&h->r->body, &st->x->f.tx, &h->c->w, buf) != RH_TX_BUSY) {
		h->failed = true;
		return;
	}
	st->needs_read = false;
	h->reading = st;
}

/* Writes what the session has to send, until the socket is full or the
 * connection's turn is over; then a POLLOUT brings it back. */
static void write_some(struct rh_h2 *h)
{
	struct rh_ring *r = h->r;

	if (h->polling || h->failed)
		return;
	if (!h->out && !(h->out = rh_slab_get(&r->h2.outs))) {
		h->failed = true;
		return;
	}
	h->written = 0;
	for (;;) {
		const uint8_t *data;
		ssize_t n;

		if (h->partial && h->partial->closed && !send_pages(h, h->partial))
			break;
		if ((h->out_len >= OUT_FILL || h->room_wanted) && !flush_out(h, true))
			break;
		h->room_wanted = false;
		if (h->written < TURN)
			resume_room_waiters(h);
		if (h->written >= TURN)
			break;
		n = nghttp2_session_mem_send(h->session, &data);
		if (n < 0) {
			h->failed = true;
			break;
		}
		if (n == 0 && h->room_wanted)
			continue;
		if (n == 0) {
			if (!h->partial)
				flush_out(h, false);
			break;
		}
		if (h->out_len + n > OUT_CAP && !flush_out(h, true)) {
			h->failed = true; /* cannot happen: the session's frames fit */
			break;
		}
		memcpy(h->out + h->out_len, data, n);
		h->out_len += n;
	}
	if (h->corked) {
		rh_wire_cork(&h->c->w, false);
		h->corked = false;
	}
	if (h->failed)
		return;
	if (h->out_len == h->out_sent && !h->partial) {
		rh_slab_put(&r->h2.outs, h->out);
		h->out = NULL;
		h->out_len = h->out_sent = 0;
		if (!h->room_waiting &&
		    (h->written < TURN || !nghttp2_session_want_write(h->session)))
			return;
	}
	/* a full socket, or the turn is over (then POLLOUT fires at once) */
	if (rh_wire_wait_writable(&r->uring, &h->c->w) < 0)
		h->failed = true;
	else
		h->polling = true;
}

/* After every event: what was submitted goes out, reads start, and the
 * connection says what it does next. */
static enum rh_h2_next settle(struct rh_h2 *h)
{
	bool pending;

	warm_next(h); /* which may answer streams that waited their turn */
	write_some(h);
	read_next(h, -1);
	if (h->failed)
		return RH_H2_FAILED;
	pending = h->out || h->partial || h->polling || h->reading;
	/* a connection ended for breaking a limit whose socket takes no more
	 * is closed without its GOAWAY: the client does not read */
	if (h->terminated && (h->out || h->partial || h->polling))
		return RH_H2_FAILED;
	if (!pending && !nghttp2_session_want_read(h->session) &&
	    !nghttp2_session_want_write(h->session))
		return RH_H2_DONE;
	if (!pending && h->last_named && !h->n_streams)
		return RH_H2_DONE;
	if (!h->n_streams && !pending && !h->idle) {
		h->idle = true;
		h->c->deadline = h->r->now + cfg_of(h)->keepalive_timeout;
	}
	return h->wants_buf ? RH_H2_WAIT_BUF : RH_H2_GO_ON;
}

/* ---- the connection's events ---- */

static void setup_callbacks(void)
{
	if (callbacks)
		return;
	nghttp2_session_callbacks_new(&callbacks);
	nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
	nghttp2_session_callbacks_set_send_data_callback(callbacks, send_data);
	nghttp2_option_new(&options);
	/* closed streams are not kept for the priority tree */
	nghttp2_option_set_no_closed_streams(options, 1);
}

struct rh_h2 *rh_h2_new(struct rh_ring *r, struct rh_conn *c)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const struct rh_config *cfg = r->site->cfg;
	struct rh_h2 *h = rh_slab_get(&r->h2.sessions);
	nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cfg->http2_max_streams },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, r->bufs.size },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};

	pthread_once(&once, setup_callbacks);
	if (!h)
		return NULL;
	memset(h, 0, sizeof *h);
	h->r = r;
	h->c = c;
	h->reset_budget = 2 * cfg->http2_max_streams;
	if (!callbacks || !options || nghttp2_session_server_new2(&h->session, callbacks, h, options)) {
		rh_slab_put(&r->h2.sessions, h);
		return NULL;
	}
	nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, settings,
				sizeof settings / sizeof *settings);
	atomic_fetch_add_explicit(&r->stats.h2_connections, 1, memory_order_relaxed);
	return h;
}

void rh_h2_free(struct rh_ring *r, struct rh_conn *c)
{
	struct rh_h2 *h = c->h2;

	h->reading = h->partial = NULL; /* the connection's operations are over */
	while (h->streams)
		stream_free(h, h->streams);
	if (h->warm)
		rh_slab_put(&r->warms, h->warm);
	if (h->out)
		rh_slab_put(&r->h2.outs, h->out);
	nghttp2_session_del(h->session);
	rh_slab_put(&r->h2.sessions, h);
	c->h2 = NULL;
}

/* Why the session refused the peer's bytes, and the GOAWAY it is owed. */
static void refused(struct rh_h2 *h, ssize_t rc)
{
	switch (rc) {
	case NGHTTP2_ERR_FLOODED:
		calm_down(h, NGHTTP2_ENHANCE_YOUR_CALM, "a flood of frames owed an answer");
		break;
	case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
		calm_down(h, NGHTTP2_ENHANCE_YOUR_CALM, "too many CONTINUATION frames");
		break;
	case NGHTTP2_ERR_BAD_CLIENT_MAGIC:
		h->going_away = h->terminated = h->last_named = true;
		nghttp2_session_terminate_session(h->session, NGHTTP2_PROTOCOL_ERROR);
		break;
	default:
		if (!h->failed)
			calm_down(h, NGHTTP2_INTERNAL_ERROR, nghttp2_strerror(rc));
	}
}

enum rh_h2_next rh_h2_received(struct rh_ring *r, struct rh_conn *c, const char *data,
			       size_t len)
{
	struct rh_h2 *h = c->h2;
	ssize_t rc;

	(void)r;
	rc = nghttp2_session_mem_recv(h->session, (const uint8_t *)data, len);
	if (rc < 0)
		refused(h, rc);
	return settle(h);
}

enum rh_h2_next rh_h2_writable(struct rh_ring *r, struct rh_conn *c, int res)
{
	(void)r;
	c->h2->polling = false;
	if (res < 0)
		return RH_H2_FAILED;
	return settle(c->h2);
}

enum rh_h2_next rh_h2_read_done(struct rh_ring *r, struct rh_conn *c, int res)
{
	struct rh_h2 *h = c->h2;
	struct h2_stream *st = h->reading;

	h->reading = NULL;
	if (st->closed) {
		stream_free(h, st);
	} else if (res != (int)st->x->f.tx.buf_len) {
		if (rh_ring_may_warn(r))
			rh_warn("%.*s: %s while being sent; connection closed",
				(int)st->x->f.tx.file->key_len, st->x->f.tx.file->key,
				res < 0 ? strerror(-res) : "shorter than announced");
		return RH_H2_FAILED;
	} else {
		nghttp2_session_resume_data(h->session, st->id);
	}
	return settle(h);
}

enum rh_h2_next rh_h2_buffer(struct rh_ring *r, struct rh_conn *c, uint32_t buf)
{
	(void)r;
	read_next(c->h2, buf);
	return settle(c->h2);
}

enum rh_h2_next rh_h2_warmed(struct rh_ring *r, struct rh_conn *c)
{
	struct rh_h2 *h = c->h2;
	struct h2_stream *st = h->warming;

	rh_slab_put(&r->warms, h->warm);
	h->warm = NULL;
	h->warming = NULL;
	if (st && st->state == S_WARM) {
		st->warmups++;
		plan_stream(h, st);
	}
	return settle(h);
}

enum rh_h2_next rh_h2_listing_ready(struct rh_ring *r, struct rh_conn *c)
{
	struct rh_h2 *h = c->h2;
	struct h2_stream *st, *next;

	(void)r;
	for (st = h->streams; st; st = next) {
		next = st->next;
		if (st->state == S_LISTING)
			plan_stream(h, st);
	}
	return settle(h);
}

/* The GOAWAY that names the last stream taken: the streams the client
 * opens after it are not answered, and it may retry them elsewhere. */
static void name_last_stream(struct rh_h2 *h)
{
	h->going_away = h->last_named = true;
	nghttp2_submit_goaway(h->session, NGHTTP2_FLAG_NONE,
			      nghttp2_session_get_last_proc_stream_id(h->session), NGHTTP2_NO_ERROR,
			      NULL, 0);
}

enum rh_h2_next rh_h2_tick(struct rh_ring *r, struct rh_conn *c)
{
	struct rh_h2 *h = c->h2;
	uint32_t timeout = r->site->cfg->send_timeout;

	for (struct h2_stream *st = h->streams; st; st = st->next) {
		/* a header block left unfinished holds the whole connection */
		if (st->state == S_HEADERS && st->deadline <= r->now)
			return RH_H2_FAILED;
		if (st->state != S_SENDING)
			continue;
		/* a window shut for a while: the chunk goes back to the pool */
		if (st->x->f.tx.buf >= 0 && h->reading != st &&
		    st->deadline + BUFFER_HOLD_SECONDS <= r->now + timeout)
			rh_tx_unread(&r->body, &st->x->f.tx);
		if (st->deadline <= r->now && h->partial != st)
			nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, st->id,
						  NGHTTP2_CANCEL);
	}
	if (c->deadline <= r->now) {
		if (h->out || h->partial || h->polling)
			return RH_H2_FAILED; /* the socket took nothing for send_timeout */
		if (h->idle && !h->going_away)
			name_last_stream(h);
	}
	if (h->going_away && !h->last_named && h->name_last_at <= r->now)
		name_last_stream(h);
	return settle(h);
}

enum rh_h2_next rh_h2_goaway(struct rh_ring *r, struct rh_conn *c)
{
	struct rh_h2 *h = c->h2;

	/* first the shutdown notice (a GOAWAY of 2^31-1): the client opens no
	 * more streams, and the ones it sent meanwhile are still answered;
	 * a second later the GOAWAY that names the last one (RFC 9113 6.8) */
	if (!h->going_away) {
		h->going_away = true;
		h->name_last_at = r->now + 1;
		nghttp2_submit_shutdown_notice(h->session);
	}
	return settle(h);
}
