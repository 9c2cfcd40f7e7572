/* libFuzzer target: the request parser and what the server derives from a
 * parsed request (path normalization, ranges, conditions, a chunked body)
 * must accept any bytes without a crash, a hang or an out-of-bounds access,
 * and stay within them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_chunked.h"
#include "http_cond.h"
#include "http_parse.h"
#include "path.h"

static void within(const char *buf, size_t len, struct rh_str s)
{
	if (s.p && (s.p < buf || s.p + s.len > buf + len))
		abort();
}

/* small enough for the fuzzer's inputs to pass it */
#define CHUNKED_WIRE_MAX 1024

struct chunked_result {
	ssize_t consumed; /* or -400, -413 */
	bool done;
	uint64_t wire;
};

/* Feeds BUF[0..LEN) cut at the positions in CUTS (ascending, at most LEN). */
static struct chunked_result feed_split(const char *buf, size_t len, const size_t *cuts,
					size_t ncuts)
{
	struct rh_chunked c;
	struct chunked_result r = { 0, false, 0 };
	size_t at = 0;

	rh_chunked_init(&c, CHUNKED_WIRE_MAX);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;
		ssize_t n = rh_chunked_feed(&c, buf + at, to - at);

		if (n < 0) {
			r.consumed = n;
			break;
		}
		if ((size_t)n > to - at || (n < (ssize_t)(to - at) && !rh_chunked_done(&c)))
			abort(); /* it stops early only at the end of the body */
		r.consumed += n;
		if (rh_chunked_done(&c))
			break;
		at = to;
	}
	r.done = rh_chunked_done(&c);
	r.wire = c.wire;
	if (r.wire > len || r.wire > CHUNKED_WIRE_MAX ||
	    (r.consumed >= 0 && r.wire != (uint64_t)r.consumed))
		abort();
	return r;
}

/* The bytes after the head as a chunked body: cut anywhere, at positions
 * drawn from the bytes themselves, the result must be the same. */
static void check_chunked(const char *buf, size_t len)
{
	size_t cuts[8], ncuts = 0, at = 0;
	uint64_t h = 1469598103934665603ULL;
	struct chunked_result whole, split;

	whole = feed_split(buf, len, NULL, 0);
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
	while (ncuts < 8 && len) {
		h = h * 6364136223846793005ULL + 1442695040888963407ULL;
		at += (h >> 33) % (len / 4 + 2);
		if (at > len)
			break;
		cuts[ncuts++] = at;
	}
	split = feed_split(buf, len, cuts, ncuts);
	if (split.consumed != whole.consumed || split.done != whole.done ||
	    (whole.consumed >= 0 && split.wire != whole.wire))
		abort();
}

static void check_ranges(const struct rh_request *req)
{
	static const uint64_t sizes[] = { 0, 1, 1000, 5368709120ULL };
	struct rh_str boundary = { "0123456789abcdef", 16 }, type = { "text/plain", 10 };

	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		struct rh_ranges rs;
		uint64_t size = sizes[s], total = 0, heads = 0;
		char head[256];

		if (rh_ranges_parse(req->range, size, 16, &rs) != RH_RANGE_PARTIAL)
			continue;
		if (!rs.n || rs.n > 16)
			abort();
		for (unsigned i = 0; i < rs.n; i++) {
			const struct rh_byte_range *r = &rs.r[i];
			size_t n = rh_multipart_part_head(head, sizeof head, boundary, type, *r, size);

			if (r->first > r->last || r->last >= size || !n)
				abort();
			if (i && r->first - rs.r[i - 1].last <= RH_RANGE_COALESCE_GAP)
				abort(); /* sorted, apart */
			total += r->last - r->first + 1;
			heads += n;
		}
		if (total > size)
			abort();
		if (rh_multipart_length(&rs, boundary, type, size) !=
		    heads + total + rh_multipart_tail(head, sizeof head, boundary))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly SIZE bytes, so that ASan sees any overread */
	char *buf = malloc(size ? size : 1);
	struct rh_request req;
	char path[RH_MAX_REQUEST_LINE + 1];
	ssize_t n;

	memcpy(buf, data, size);
	n = rh_http_parse(buf, size, 16384, &req);
	if (n > 0) {
		struct rh_str etag = { "\"1-2-3\"", 7 };
		if ((size_t)n > size)
			abort();
		within(buf, size, req.path);
		within(buf, size, req.query);
		within(buf, size, req.range);
		for (unsigned i = 0; i < req.if_none_match.n; i++)
			within(buf, size, req.if_none_match.line[i]);
		for (unsigned i = 0; i < req.if_match.n; i++)
			within(buf, size, req.if_match.line[i]);
		within(buf, size, req.if_unmodified_since);
		within(buf, size, req.authority);
		within(buf, size, req.host);
		within(buf, size, req.port);
		if (req.version == 11 && !req.host.p && !(req.path.len == 1 && req.path.p[0] == '*'))
			abort();
		if (req.chunked && req.has_content_length)
			abort();
		if (req.path.len && req.path.p[0] == '/')
			rh_path_normalize(req.path.p, req.path.len, path, sizeof path);
		if (req.range.p)
			check_ranges(&req);
		rh_if_range_holds(&req, etag, 1);
		rh_preconditions(&req, etag, 1, 2);
		check_chunked(buf + n, size - n);
	} else {
		check_chunked(buf, size);
	}
	free(buf);
	return 0;
}
