#include "request.h"

ssize_t rh_request_head(const char *data, size_t len, size_t max_head, struct rh_request *req,
			struct rh_framing *f)
{
	ssize_t n = rh_http_parse(data, len, max_head, req);

	if (n > 0)
		f->body_left = req->content_length;
	return n;
}

bool rh_request_body_keeps_connection(const struct rh_framing *f)
{
	return f->body_left <= RH_MAX_DISCARD;
}

size_t rh_request_drop_body(struct rh_framing *f, const char *data, size_t len)
{
	size_t n = f->body_left < len ? f->body_left : len;

	(void)data;
	f->body_left -= n;
	return n;
}
