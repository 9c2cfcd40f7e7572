/* libFuzzer target: frames fed into an HTTP/2 server session of Debian's
 * libnghttp2, after the client's preface, as the ring feeds received bytes
 * (the first byte of an input sets the size of each feed: 1 to 256 bytes,
 * 0 for all at once). Each request's fields are kept and made into a
 * request by h2_request.c, as the server does, under its header-list limit;
 * a response is submitted and the session's output drained. Whatever the
 * bytes, a request's strings stay within its store, nothing leaks, and the
 * session either goes on or says why it cannot. */
#include <nghttp2/nghttp2.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h2_request.h"

#define LIST_MAX 16384 /* buffer_size's default */
#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

struct stream {
	struct stream *prev, *next; /* the session does not close its streams when deleted */
	char store[LIST_MAX];
	uint32_t len;
	size_t cost;
};

static struct stream *streams;

static void within(const struct stream *st, struct rh_str s)
{
	if (s.p && (s.p < st->store || s.p + s.len > st->store + st->len))
		abort();
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct stream *st;

	(void)user;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (!(st = calloc(1, sizeof *st)))
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	st->next = streams;
	if (streams)
		streams->prev = st;
	streams = st;
	nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, st);
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
	struct stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

	(void)flags, (void)user;
	if (!st)
		return 0;
	st->cost += rh_h2_field_cost(nlen, vlen);
	if (st->cost > LIST_MAX)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (st->len + rh_h2_field_bytes(nlen, vlen) > sizeof st->store)
		abort(); /* the cost bounds the store */
	rh_h2_field_put(st->store, &st->len, name, nlen, value, vlen);
	return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	nghttp2_nv nv[] = { { (uint8_t *)":status", (uint8_t *)"200", 7, 3, 0 } };
	struct rh_request req;

	(void)user;
	if (!st || frame->hd.type != NGHTTP2_HEADERS || !(frame->hd.flags & NGHTTP2_FLAG_END_HEADERS))
		return 0;
	if (rh_h2_request(st->store, st->len, &req) == 0) {
		within(st, req.method_name);
		within(st, req.target);
		within(st, req.path);
		within(st, req.query);
		within(st, req.host);
		within(st, req.port);
		within(st, req.range);
		if (!req.path.len || !req.has_host)
			abort();
	}
	nghttp2_submit_response(session, frame->hd.stream_id, nv, 1, NULL);
	return 0;
}

static void stream_free(struct stream *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else
		streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	free(st);
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t code, void *user)
{
	struct stream *st = nghttp2_session_get_stream_user_data(session, id);

	(void)code, (void)user;
	if (st)
		stream_free(st);
	return 0;
}

static void drain(nghttp2_session *session)
{
	const uint8_t *data;

	while (nghttp2_session_mem_send(session, &data) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static nghttp2_session_callbacks *cbs;
	nghttp2_settings_entry settings[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 128 },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, LIST_MAX },
	};
	nghttp2_session *session;
	size_t feed, at = 0;

	if (!size)
		return 0;
	if (!cbs) {
		nghttp2_session_callbacks_new(&cbs);
		nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
		nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
		nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
		nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	}
	if (nghttp2_session_server_new(&session, cbs, NULL))
		return 0;
	nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, 2);
	feed = data[0] ? data[0] : size;
	data++, size--;
	if (nghttp2_session_mem_recv(session, (const uint8_t *)PREFACE, sizeof PREFACE - 1) < 0)
		abort();
	while (at < size) {
		size_t n = size - at < feed ? size - at : feed;

		if (nghttp2_session_mem_recv(session, data + at, n) < 0)
			break;
		drain(session);
		at += n;
	}
	nghttp2_session_del(session);
	while (streams)
		stream_free(streams);
	return 0;
}
