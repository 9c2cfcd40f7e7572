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
}

#define HEAD11 "POST / HTTP/1.1\r\nHost: h\r\n"

static void test_transfer_encoding(void)
{
	static const struct {
		const char *te;
		int want; /* 1: chunked */
	} cases[] = {
		{ "chunked", 1 },
		{ "Chunked", 1 },
		{ " chunked ", 1 },
		{ ", chunked", 1 }, /* empty list elements are allowed */
		{ "chunked,", 1 },
		{ "gzip", -501 },
		{ "gzip, chunked", -501 },
		{ "gzip;q=1, chunked", -501 },
		{ "identity", -501 },
		{ "chunked, gzip", -400 }, /* chunked not last */
		{ "chunked, chunked", -400 },
		{ "chunked;x=1", -400 },   /* chunked has no parameters */
		{ "chunked x", -400 },
		{ "", -400 },
		{ ",", -400 },
		{ "chu\"nked", -400 },
	};
	struct rh_request req;
	char buf[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ssize_t n;

		snprintf(buf, sizeof buf, HEAD11 "Transfer-Encoding: %s\r\n\r\n", cases[i].te);
		n = parse(buf, &req);
		if (cases[i].want == 1) {
			CHECK_INT(n, strlen(buf));
			CHECK(req.chunked);
		} else {
			if (n != cases[i].want)
				fprintf(stderr, "TE \"%s\"\n", cases[i].te);
			CHECK_INT(n, cases[i].want);
		}
	}
	/* over several lines the list is one */
	CHECK_INT(parse(HEAD11 "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", &req),
		  -501);
	CHECK_INT(parse(HEAD11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
			&req), -400);
	CHECK_INT(parse(HEAD11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", &req),
		  -400);
	/* with Content-Length, in either order, even an unknown coding */
	CHECK_INT(parse(HEAD11 "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", &req), -400);
	CHECK_INT(parse(HEAD11 "Transfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n", &req), -400);
	/* HTTP/1.0 has no chunked framing */
	CHECK_INT(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &req), -400);
	CHECK(parse(HEAD11 "Content-Length: 3\r\n\r\n", &req) > 0);
	CHECK(!req.chunked);
}

static void test_host(void)
{
	static const char *const good[] = {
		"h", "example.org", "example.org:8080", "EXAMPLE.org:", "127.0.0.1", "127.0.0.1:80",
		"[::1]", "[::1]:8080", "[2001:db8::7]", "[1:2:3:4:5:6:7:8]", "[::ffff:192.0.2.1]",
		"[v1.fe80::a+en1]", "a%20b", "xn--bcher-kva.example", "a_b-c~d.e", "999.1.1.1",
	};
	static const char *const bad[] = {
		"user@h", "h/p", "a,b", "a b", "[::1", "[::1]x", "[1:2:3:4:5:6:7:8:9]", "[1::2::3]",
		"[::1.2.3]", "[::1.2.3.256]", "[::01.2.3.4]", "[12345::]", "[1:]", "[:1]", "[]",
		"[v1.]", "[vx.a]", "h:8x", "h:80:81", "%zz", "%2", "h\\x", "h\"",
	};
	struct rh_request req;
	char buf[256];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		ssize_t n;

		snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good[i]);
		n = parse(buf, &req);
		if (n <= 0)
			fprintf(stderr, "Host \"%s\": %zd\n", good[i], n);
		CHECK_INT(n, strlen(buf));
		CHECK_MEM(req.authority.p, req.authority.len, good[i]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ssize_t n;

		snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad[i]);
		n = parse(buf, &req);
		if (n != -400)
			fprintf(stderr, "Host \"%s\": %zd\n", bad[i], n);
		CHECK_INT(n, -400);
		/* the same in an absolute-form target, where '/' ends it */
		if (strchr(bad[i], '/'))
			continue;
		snprintf(buf, sizeof buf, "GET http://%s/ HTTP/1.1\r\nHost: h\r\n\r\n", bad[i]);
		CHECK_INT(parse(buf, &req), -400);
	}

	CHECK(parse("GET / HTTP/1.1\r\nHost: Example.org:8080\r\n\r\n", &req) > 0);
	CHECK(req.has_host);
	CHECK_MEM(req.host.p, req.host.len, "Example.org");
	CHECK_MEM(req.port.p, req.port.len, "8080");
	CHECK(parse("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", &req) > 0);
	CHECK_MEM(req.host.p, req.host.len, "[::1]");
	CHECK(!req.port.p);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h:\r\n\r\n", &req) > 0);
	CHECK_MEM(req.port.p, req.port.len, "");

	/* missing, repeated, empty */
	CHECK_INT(parse("GET / HTTP/1.1\r\n\r\n", &req), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n", &req), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n", &req), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost:  \r\n\r\n", &req), -400);
	CHECK_INT(parse("GET / HTTP/1.0\r\nHost:\r\n\r\n", &req), -400);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: :80\r\n\r\n", &req), -400);
	CHECK(parse("OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n", &req) > 0);
	CHECK(parse("GET / HTTP/1.0\r\n\r\n", &req) > 0);
	CHECK(!req.has_host);
	CHECK(!req.host.p);
	CHECK(parse("GET / HTTP/1.0\r\nHost: h\r\n\r\n", &req) > 0);
	CHECK_MEM(req.host.p, req.host.len, "h");

	/* absolute-form: the target's authority is the host */
	CHECK(parse("GET http://a.example:81/x HTTP/1.1\r\nHost: b\r\n\r\n", &req) > 0);
	CHECK_MEM(req.host.p, req.host.len, "a.example");
	CHECK_MEM(req.port.p, req.port.len, "81");
	CHECK_MEM(req.path.p, req.path.len, "/x");
	CHECK(parse("GET HTTP://a?q=1 HTTP/1.1\r\nHost: b\r\n\r\n", &req) > 0);
	CHECK_MEM(req.host.p, req.host.len, "a");
	CHECK_MEM(req.path.p, req.path.len, "/");
	CHECK(req.has_query);
	CHECK_MEM(req.query.p, req.query.len, "q=1");
	CHECK(parse("GET http://a?x/y HTTP/1.1\r\nHost: b\r\n\r\n", &req) > 0);
	CHECK_MEM(req.path.p, req.path.len, "/");
	CHECK_MEM(req.query.p, req.query.len, "x/y");
	CHECK(parse("GET http://a HTTP/1.1\r\nHost:\r\n\r\n", &req) > 0); /* Host ignored */
	CHECK_MEM(req.host.p, req.host.len, "a");
	CHECK(parse("GET http://a/ HTTP/1.0\r\n\r\n", &req) > 0);
	CHECK_MEM(req.host.p, req.host.len, "a");
	CHECK_INT(parse("GET http://a/ HTTP/1.1\r\n\r\n", &req), -400);	    /* still needs Host */
	CHECK_INT(parse("GET http://a/ HTTP/1.1\r\nHost: a b\r\n\r\n", &req), -400); /* valid */
	CHECK_INT(parse("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", &req), -400); /* empty */
	CHECK_INT(parse("GET http://u:p@h/x HTTP/1.1\r\nHost: h\r\n\r\n", &req), -400);
	CHECK_INT(parse("GET 1http://h/x HTTP/1.1\r\nHost: h\r\n\r\n", &req), -400);
	CHECK_INT(parse("GET ht_tp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", &req), -400);
	CHECK_INT(parse("GET ://h/x HTTP/1.1\r\nHost: h\r\n\r\n", &req), -400);
}

static void test_expect(void)
{
	struct rh_request req;

	CHECK(parse(HEAD11 "Expect: 100-continue\r\nContent-Length: 1\r\n\r\n", &req) > 0);
	CHECK(req.expect_continue);
	CHECK(parse(HEAD11 "Expect: 100-Continue\r\n\r\n", &req) > 0);
	CHECK(req.expect_continue);
	CHECK(parse(HEAD11 "\r\n", &req) > 0);
	CHECK(!req.expect_continue);
	CHECK(parse(HEAD11 "Expect:\r\n\r\n", &req) > 0); /* an empty list expects nothing */
	CHECK(!req.expect_continue);
	CHECK_INT(parse(HEAD11 "Expect: 100-continue, foo\r\n\r\n", &req), -417);
	CHECK_INT(parse(HEAD11 "Expect: foo\r\nExpect: 100-continue\r\n\r\n", &req), -417);
	CHECK_INT(parse(HEAD11 "Expect: 100-continue=1\r\n\r\n", &req), -417);
	CHECK_INT(parse(HEAD11 "Expect: 200-ok\r\n\r\n", &req), -417);
	/* a malformed head is 400 even after an unknown expectation */
	CHECK_INT(parse(HEAD11 "Expect: foo\r\nX : y\r\n\r\n", &req), -400);
	CHECK_INT(parse("POST / HTTP/1.1\r\nExpect: foo\r\n\r\n", &req), -400);
	CHECK_INT(parse(HEAD11 "Expect: foo\r\nTransfer-Encoding: gzip\r\n\r\n", &req), -501);
	/* HTTP/1.0: 100-continue is ignored */
	CHECK(parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", &req) > 0);
	CHECK(!req.expect_continue);
}

static void test_long_method(void)
{
	struct rh_request req;
	size_t big = 100 * 1024;
	char *buf = malloc(big + 64);
	size_t n;

	memset(buf, 'A', big);
	n = big + sprintf(buf + big, " / HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_INT(rh_http_parse(buf, n, 2 * big, &req), -400);
	CHECK_INT(rh_http_parse(buf, RH_MAX_REQUEST_LINE, 2 * big, &req), -400);
	CHECK_INT(rh_http_parse(buf, RH_MAX_REQUEST_LINE + 1, 2 * big, &req), -400);
	CHECK_INT(rh_http_parse(buf, RH_MAX_REQUEST_LINE - 1, 2 * big, &req), 0);
	CHECK_INT(rh_http_parse(buf, n, MAX_HEAD, &req), -400);
	/* a method just short of the limit with a long target: the target */
	memset(buf, 'A', RH_MAX_REQUEST_LINE - 10);
	memcpy(buf + RH_MAX_REQUEST_LINE - 10, " /", 2);
	memset(buf + RH_MAX_REQUEST_LINE - 8, 'x', 100);
	CHECK_INT(rh_http_parse(buf, RH_MAX_REQUEST_LINE + 50, 2 * big, &req), -414);
	/* a malformed long line is 400 */
	memcpy(buf, "G(T /", 5);
	memset(buf + 5, 'x', RH_MAX_REQUEST_LINE);
	CHECK_INT(rh_http_parse(buf, RH_MAX_REQUEST_LINE + 5, 2 * big, &req), -400);
	free(buf);
}

static void test_conditional_fields(void)
{
	struct rh_request req;

	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nIf-Match: \"a\", \"b\"\r\n"
		    "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
		    "If-None-Match: W/\"c\"\r\nIf-Modified-Since: x\r\nIf-Range: \"d\"\r\n\r\n",
		    &req) > 0);
	CHECK_INT(req.if_match.n, 1);
	CHECK_MEM(req.if_match.line[0].p, req.if_match.line[0].len, "\"a\", \"b\"");
	CHECK_MEM(req.if_unmodified_since.p, req.if_unmodified_since.len,
		  "Sun, 06 Nov 1994 08:49:37 GMT");
	CHECK_MEM(req.if_none_match.line[0].p, req.if_none_match.line[0].len, "W/\"c\"");
	CHECK_MEM(req.if_modified_since.p, req.if_modified_since.len, "x");
	CHECK_MEM(req.if_range.p, req.if_range.len, "\"d\"");
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &req) > 0);
	CHECK(!req.if_match.n);
	CHECK(!req.if_unmodified_since.p);
	/* a list field over several lines keeps every line; too many is 431 */
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nIf-Match: \"a\"\r\nX: y\r\nIf-Match: \"b\"\r\n\r\n",
		    &req) > 0);
	CHECK_INT(req.if_match.n, 2);
	CHECK_MEM(req.if_match.line[1].p, req.if_match.line[1].len, "\"b\"");
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match: 1\r\nIf-None-Match: 2\r\n"
			"If-None-Match: 3\r\nIf-None-Match: 4\r\nIf-None-Match: 5\r\n"
			"If-None-Match: 6\r\nIf-None-Match: 7\r\nIf-None-Match: 8\r\n"
			"If-None-Match: 9\r\n\r\n", &req), -431);
	/* a later HTTP/1.x is taken as 1.1; a query with a byte RFC 3986 does not allow is 400 */
	CHECK(parse("GET / HTTP/1.2\r\nHost: h\r\n\r\n", &req) > 0);
	CHECK_INT(req.version, 11);
	CHECK_INT(parse("GET /?a\"b HTTP/1.1\r\nHost: h\r\n\r\n", &req), -400);
	CHECK_INT(parse("GET /?a%zz HTTP/1.1\r\nHost: h\r\n\r\n", &req), -400);
	CHECK(parse("GET /?a=b&c=%20/?:@ HTTP/1.1\r\nHost: h\r\n\r\n", &req) > 0);
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
	CHECK_MEM(req.if_none_match.line[0].p, req.if_none_match.line[0].len, "\"a\"");
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
	test_transfer_encoding();
	test_host();
	test_expect();
	test_long_method();
	test_conditional_fields();
	return check_done("http_parse");
}
