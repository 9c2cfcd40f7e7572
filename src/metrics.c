#include "metrics.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

bool rh_cidr_parse(struct rh_cidr *c, const char *text, char *msg, size_t msglen)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char addr[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned max, prefix;

	memset(c, 0, sizeof *c);
	if (alen >= sizeof addr)
		goto bad;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	prefix = max;
	if (slash) {
		char *end;
		unsigned long v;

		if (slash[1] < '0' || slash[1] > '9')
			goto bad;
		v = strtoul(slash + 1, &end, 10);
		if (*end || v > max)
			goto bad;
		prefix = v;
	}
	for (unsigned b = prefix; b < max; b++)
		if (c->addr[b / 8] & (0x80 >> (b % 8))) {
			snprintf(msg, msglen, "\"%s\" has bits set past its prefix /%u", text, prefix);
			return false;
		}
	if (c->family == AF_INET6 && prefix >= 96 && !memcmp(c->addr, v4mapped, 12)) {
		memmove(c->addr, c->addr + 12, 4);
		memset(c->addr + 4, 0, 12);
		c->family = AF_INET;
		prefix -= 96;
	}
	c->prefix = prefix;
	return true;
bad:
	snprintf(msg, msglen,
		 "\"%s\" is not an IPv4 or IPv6 address, optionally with a /prefix length", text);
	return false;
}

bool rh_cidr_contains(const struct rh_cidr *c, const struct rh_peer *peer)
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (!peer->family || peer->family != c->family)
		return false;
	if (memcmp(c->addr, peer->addr, full))
		return false;
	return !rest || !((c->addr[full] ^ peer->addr[full]) & (0xff00 >> rest));
}

bool rh_status_allowed(const struct rh_cidr *allow, size_t n, const struct rh_peer *peer)
{
	for (size_t i = 0; i < n; i++)
		if (rh_cidr_contains(&allow[i], peer))
			return true;
	return false;
}

struct out {
	char *p;
	size_t cap, len;
};

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->cap ? o->p + o->len : NULL, o->len < o->cap ? o->cap - o->len : 0,
		      fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += n;
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	putf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct out *o, const char *name, const char *type, const char *help,
		uint64_t v)
{
	head(o, name, type, help);
	putf(o, "%s %llu\n", name, (unsigned long long)v);
}

size_t rh_metrics_write(char *buf, size_t cap, const struct rh_metrics *m)
{
	struct out o = { buf, cap, 0 };

	if (cap)
		buf[0] = '\0';
	head(&o, "ringhttpd_requests_total", "counter", "Responses sent, by status class.");
	for (int i = 0; i < 5; i++)
		putf(&o, "ringhttpd_requests_total{class=\"%dxx\"} %llu\n", i + 1,
		     (unsigned long long)m->requests[i]);
	one(&o, "ringhttpd_sent_bytes_total", "counter",
	    "Bytes sent to clients, response heads included.", m->bytes_sent);
	head(&o, "ringhttpd_open_connections", "gauge", "Connections open, by ring.");
	for (size_t i = 0; i < m->n_rings; i++)
		putf(&o, "ringhttpd_open_connections{ring=\"%zu\"} %llu\n", i,
		     (unsigned long long)m->open_connections[i]);
	one(&o, "ringhttpd_accepts_total", "counter", "Connections accepted.", m->accepts);
	one(&o, "ringhttpd_file_cache_hits_total", "counter",
	    "Files found in the open-file cache.", m->file_cache_hits);
	one(&o, "ringhttpd_file_cache_misses_total", "counter",
	    "Files opened because the open-file cache did not hold them.", m->file_cache_misses);
	one(&o, "ringhttpd_buffer_waits_total", "counter",
	    "Times a connection waited for a free pooled buffer.", m->buffer_waits);
	one(&o, "ringhttpd_uptime_seconds", "gauge", "Seconds since the server started.",
	    m->uptime_seconds);
	one(&o, "ringhttpd_tls_handshakes_total", "counter", "TLS handshakes completed.",
	    m->tls_handshakes);
	one(&o, "ringhttpd_tls_handshake_failures_total", "counter",
	    "TLS handshakes that failed (an alert was sent where it could be).",
	    m->tls_handshake_failures);
	one(&o, "ringhttpd_tls_not_tls_total", "counter",
	    "Connections to a TLS socket whose first bytes were not TLS.", m->tls_not_tls);
	one(&o, "ringhttpd_ktls_connections_total", "counter",
	    "TLS connections whose sending the kernel took (kTLS).", m->ktls_connections);
	one(&o, "ringhttpd_ktls_enabled", "gauge",
	    "1 when new TLS connections give their sending to the kernel (kTLS).", m->ktls);
	one(&o, "ringhttpd_http2_connections_total", "counter", "Connections that spoke HTTP/2.",
	    m->h2_connections);
	one(&o, "ringhttpd_http2_streams_total", "counter", "Requests on HTTP/2 connections.",
	    m->h2_streams);
	one(&o, "ringhttpd_http2_misbehaving_total", "counter",
	    "HTTP/2 connections ended for breaking a limit (GOAWAY ENHANCE_YOUR_CALM).",
	    m->h2_misbehaving);
	return o.len;
}
