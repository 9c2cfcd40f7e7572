#include "request.h"

ssize_t rh_request_head(const char *data, size_t len, size_t max_head, struct rh_request *req,
			struct rh_framing *f)
{
	ssize_t n = rh_http_parse(data, len, max_head, req);

	if (n > 0) {
		f->body_left = req->content_length;
		f->chunked = req->chunked;
		if (f->chunked)
			rh_chunked_init(&f->chunks, RH_MAX_DISCARD);
	}
	return n;
}

bool rh_request_in_body(const struct rh_framing *f)
{
	return f->body_left > 0 || f->chunked;
}

bool rh_request_body_fits(const struct rh_framing *f)
{
	return f->body_left <= RH_MAX_DISCARD;
}

ssize_t rh_request_drop_body(struct rh_framing *f, const char *data, size_t len)
{
	ssize_t n;

	if (!f->chunked) {
		n = f->body_left < len ? (ssize_t)f->body_left : (ssize_t)len;
		f->body_left -= n;
		return n;
	}
	n = rh_chunked_feed(&f->chunks, data, len);
	if (n < 0)
		return n;
	if (rh_chunked_done(&f->chunks))
		f->chunked = false;
	return n;
}
