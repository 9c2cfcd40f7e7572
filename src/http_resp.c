#include "http_resp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *rh_status_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

struct out {
	char *p;
	size_t cap, len;
	bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n > o->cap) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	size_t room = o->cap - o->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		o->overflow = true;
	else
		o->len += n;
}

size_t rh_resp_head(char *buf, size_t cap, const struct rh_resp *r)
{
	struct out o = { buf, cap, 0, false };

	putf(&o, "HTTP/1.1 %d %s\r\nServer: ringhttpd\r\nDate: %s\r\n", r->status,
	     rh_status_reason(r->status), r->date);
	if (r->content_type)
		putf(&o, "Content-Type: %s\r\n", r->content_type);
	if (r->status != 304 && r->status != 204)
		putf(&o, "Content-Length: %llu\r\n", (unsigned long long)r->content_length);
	if (r->last_modified)
		putf(&o, "Last-Modified: %s\r\n", r->last_modified);
	if (r->etag.len) {
		puts_(&o, "ETag: ");
		put(&o, r->etag.p, r->etag.len);
		puts_(&o, "\r\n");
	}
	if (r->accept_ranges && r->status != 304)
		puts_(&o, "Accept-Ranges: bytes\r\n");
	if (r->ranged)
		putf(&o, "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)r->first,
		     (unsigned long long)r->last, (unsigned long long)r->size);
	if (r->unsatisfiable)
		putf(&o, "Content-Range: bytes */%llu\r\n", (unsigned long long)r->size);
	if (r->location.len) {
		puts_(&o, "Location: ");
		put(&o, r->location.p, r->location.len);
		if (r->location_slash) {
			puts_(&o, "/");
			if (r->location_has_query) {
				puts_(&o, "?");
				put(&o, r->location_query.p, r->location_query.len);
			}
		}
		puts_(&o, "\r\n");
	}
	if (r->allow)
		puts_(&o, "Allow: GET, HEAD\r\n");
	if (r->retry_after)
		putf(&o, "Retry-After: %u\r\n", r->retry_after);
	if (r->content_encoding)
		putf(&o, "Content-Encoding: %s\r\n", r->content_encoding);
	if (r->vary)
		putf(&o, "Vary: %s\r\n", r->vary);
	if (r->hsts)
		putf(&o, "Strict-Transport-Security: %s\r\n", r->hsts);
	for (size_t i = 0; i < r->n_extra; i++) {
		put(&o, r->extra[i].h->line, r->extra[i].h->line_len);
		puts_(&o, "\r\n");
	}
	puts_(&o, r->keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
	return o.overflow ? 0 : o.len;
}

size_t rh_resp_error(char *buf, size_t cap, struct rh_resp *r)
{
	char body[256];
	int body_len = snprintf(body, sizeof body,
				"<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
				"<body><h1>%d %s</h1><hr>ringhttpd</body></html>\n",
				r->status, rh_status_reason(r->status), r->status,
				rh_status_reason(r->status));
	size_t n;

	r->content_type = "text/html";
	r->content_length = body_len;
	r->allow = r->status == 405;
	r->unsatisfiable = r->status == 416;
	n = rh_resp_head(buf, cap, r);
	if (!n || r->head_only)
		return n;
	if (n + body_len > cap)
		return 0;
	memcpy(buf + n, body, body_len);
	return n + body_len;
}
