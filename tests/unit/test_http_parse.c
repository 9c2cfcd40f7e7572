#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http_parse.h"

#define MAX_HEAD 16384

static ssize_t parse(const char *s, struct rh_request *req)
{
	return rh_http_parse(s, strlen(s), MAX_HEAD, req);
}

static void test_simple_get(void)
{
	struct rh_request req;
	const char *s = "GET /a/b.html?x=1&y HTTP/1.1\r\nHost: example\r\nUser-Agent: t/1\r\n\r\n";

	CHECK_INT(parse(s, &req), strlen(s));
	CHECK_INT(req.method, RH_METHOD_GET);
	CHECK_MEM(req.path.p, req.path.len, "/a/b.html");
	CHECK(req.has_query);
	CHECK_MEM(req.query.p, req.query.len, "x=1&y");
	CHECK_INT(req.version, 11);
	CHECK(req.keep_alive);
	CHECK_MEM(req.user_agent.p, req.user_agent.len, "t/1");
}

static void test_incomplete_and_pipelined(void)
{
	struct rh_request req;
	const char *two = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t first = strlen("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n");

	/* every proper prefix of a head is incomplete, never an error */
	for (size_t n = 0; n < first; n++)
		CHECK_INT(rh_http_parse(two, n, MAX_HEAD, &req), 0);
	CHECK_INT(parse(two, &req), first);
	CHECK_MEM(req.path.p, req.path.len, "/1");
	CHECK_INT(rh_http_parse(two + first, strlen(two) - first, MAX_HEAD, &req), first);
	CHECK_MEM(req.path.p, req.path.len, "/2");
}

static void test_versions_and_keep_alive(void)
{
	struct rh_request req;

	CHECK(parse("GET / HTTP/1.0\r\n\r\n", &req) > 0);
	CHECK(!req.keep_alive);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req) > 0);
	CHECK(req.keep_alive);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n", &req) > 0);
	CHECK(!req.keep_alive);
	CHECK_INT(parse("GET / HTTP/2.0\r\nHost: h\r\n\r\n", &req), -505);
	CHECK_INT(parse("GET / HTTP/1.2\r\nHost: h\r\n\r\n", &req), -505);
	CHECK_INT(parse("GET / HTTP/1.x\r\nHost: h\r\n\r\n", &req), -400);
	CHECK_INT(parse("GET / http/1.1\r\nHost: h\r\n\r\n", &req), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\n\r\n", &req), -400); /* no Host */
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",	   /* two spaces */
		"GET / HTTP/1.1\nHost: h\r\n\r\n",	   /* bare LF */
		"GET / HTTP/1.1\r\nHost : h\r\n\r\n",	   /* space before colon */
		"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", /* obs-fold */
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\001b\r\n\r\n", /* control character */
		"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET a HTTP/1.1\r\nHost: h\r\n\r\n",	   /* not origin-form */
		"GET * HTTP/1.1\r\nHost: h\r\n\r\n",	   /* asterisk only for OPTIONS */
		"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
		"GET /#frag HTTP/1.1\r\nHost: h\r\n\r\n",
	};
	struct rh_request req;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ssize_t n = parse(bad[i], &req);
		if (n != -400)
			fprintf(stderr, "case %zu: got %zd\n", i, n);
		CHECK_INT(n, -400);
	}
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", &req),
		  -501);
}

static void test_limits(void)
{
	struct rh_request req;
	char *buf = malloc(MAX_HEAD + 100);
	size_t n;

	/* request line longer than the limit, complete or not */
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', RH_MAX_REQUEST_LINE + 10);
	CHECK_INT(rh_http_parse(buf, RH_MAX_REQUEST_LINE + 15, MAX_HEAD, &req), -414);
	memcpy(buf + RH_MAX_REQUEST_LINE + 15, " HTTP/1.1\r\n\r\n", 13);
	CHECK_INT(rh_http_parse(buf, RH_MAX_REQUEST_LINE + 28, MAX_HEAD, &req), -414);
	/* headers filling the whole buffer */
	n = sprintf(buf, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(buf + n, 'b', MAX_HEAD - n);
	CHECK_INT(rh_http_parse(buf, MAX_HEAD, MAX_HEAD, &req), -431);
	CHECK_INT(rh_http_parse(buf, MAX_HEAD - 1, MAX_HEAD, &req), 0);
	/* nothing but line ends, up to the limit */
	memset(buf, '\r', MAX_HEAD);
	CHECK(rh_http_parse(buf, MAX_HEAD, MAX_HEAD, &req) < 0);
	free(buf);
}

static void test_targets_and_headers(void)
{
	struct rh_request req;

	CHECK(parse("GET http://example.org/x/y?q HTTP/1.1\r\nHost: e\r\n\r\n", &req) > 0);
	CHECK_MEM(req.path.p, req.path.len, "/x/y");
	CHECK_MEM(req.query.p, req.query.len, "q");
	CHECK(parse("GET http://example.org HTTP/1.1\r\nHost: e\r\n\r\n", &req) > 0);
	CHECK_MEM(req.path.p, req.path.len, "/");
	CHECK(parse("OPTIONS * HTTP/1.1\r\nHost: e\r\n\r\n", &req) > 0);
	CHECK_INT(req.method, RH_METHOD_OPTIONS);
	CHECK(parse("DELETE /x HTTP/1.1\r\nHost: e\r\n\r\n", &req) > 0);
	CHECK_INT(req.method, RH_METHOD_OTHER);
	CHECK(parse("\r\n\r\nHEAD / HTTP/1.1\r\nhOsT: e\r\nRANGE:  bytes=1-2 \r\n"
		    "If-None-Match: \"a\"\r\nContent-Length: 5\r\n\r\n", &req) > 0);
	CHECK_INT(req.method, RH_METHOD_HEAD);
	CHECK_MEM(req.range.p, req.range.len, "bytes=1-2");
	CHECK_MEM(req.if_none_match.p, req.if_none_match.len, "\"a\"");
	CHECK(req.has_content_length);
	CHECK_INT(req.content_length, 5);
}

int main(void)
{
	test_simple_get();
	test_incomplete_and_pipelined();
	test_versions_and_keep_alive();
	test_malformed();
	test_limits();
	test_targets_and_headers();
	return check_done("http_parse");
}
