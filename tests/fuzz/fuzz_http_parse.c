/* libFuzzer target: the request parser and what the server derives from a
 * parsed request (path decoding, ranges, conditions) must accept any bytes
 * without a crash, a hang or an out-of-bounds access, and stay within them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "http_cond.h"
#include "http_parse.h"

static void within(const char *buf, size_t len, struct rh_str s)
{
	if (s.p && (s.p < buf || s.p + s.len > buf + len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly SIZE bytes, so that ASan sees any overread */
	char *buf = malloc(size ? size : 1);
	struct rh_request req;
	char path[RH_MAX_REQUEST_LINE + 1];
	uint64_t first, last;
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
		within(buf, size, req.if_none_match);
		rh_path_decode(req.path.p, req.path.len, path, sizeof path);
		if (req.range.p && rh_range_parse(req.range, 1000, &first, &last) == RH_RANGE_PARTIAL &&
		    (first > last || last >= 1000))
			abort();
		rh_not_modified(&req, etag, 1);
		rh_if_range_holds(&req, etag, 1);
	}
	free(buf);
	return 0;
}
