#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http_chunked.h"

/* Feeds S[0..LEN) in one piece, then split at every position and byte by
 * byte, and checks all agree. Returns the bytes consumed or -400; *DONE
 * and *DATA tell the end state. */
static ssize_t feed_all(const char *s, size_t len, bool *done, uint64_t *data)
{
	struct rh_chunked c;
	ssize_t whole;

	rh_chunked_init(&c);
	whole = rh_chunked_feed(&c, s, len);
	*done = rh_chunked_done(&c);
	*data = c.data;
	for (size_t cut = 0; cut <= len; cut++) {
		struct rh_chunked d;
		ssize_t a, b = 0, got;

		rh_chunked_init(&d);
		a = rh_chunked_feed(&d, s, cut);
		if (a >= 0 && (size_t)a == cut)
			b = rh_chunked_feed(&d, s + cut, len - cut);
		got = a < 0 ? a : b < 0 ? b : a + b;
		if (got != whole || rh_chunked_done(&d) != *done || (whole >= 0 && d.data != *data)) {
			fprintf(stderr, "split at %zu: %zd, not %zd\n", cut, got, whole);
			CHECK(0);
			break;
		}
	}
	{
		struct rh_chunked d;
		ssize_t got = 0;

		rh_chunked_init(&d);
		for (size_t i = 0; i < len && got >= 0 && !rh_chunked_done(&d); i++) {
			ssize_t r = rh_chunked_feed(&d, s + i, 1);
			got = r < 0 ? r : got + r;
		}
		CHECK_INT(got, whole);
		CHECK(rh_chunked_done(&d) == *done);
	}
	return whole;
}

static void ok(const char *s, size_t want_data)
{
	bool done;
	uint64_t data;
	ssize_t n = feed_all(s, strlen(s), &done, &data);

	if (n != (ssize_t)strlen(s) || !done)
		fprintf(stderr, "not complete: \"%s\": %zd\n", s, n);
	CHECK_INT(n, strlen(s));
	CHECK(done);
	CHECK_INT(data, want_data);
}

static void bad(const char *s)
{
	bool done;
	uint64_t data;
	ssize_t n = feed_all(s, strlen(s), &done, &data);

	if (n != -400)
		fprintf(stderr, "not rejected: \"%s\": %zd\n", s, n);
	CHECK_INT(n, -400);
	CHECK(!done);
}

static void incomplete(const char *s)
{
	bool done;
	uint64_t data;
	ssize_t n = feed_all(s, strlen(s), &done, &data);

	CHECK_INT(n, strlen(s));
	CHECK(!done);
}

static void test_valid(void)
{
	ok("0\r\n\r\n", 0);
	ok("000\r\n\r\n", 0);
	ok("5\r\nhello\r\n0\r\n\r\n", 5);
	ok("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 11);
	ok("A\r\n0123456789\r\n0\r\n\r\n", 10);
	ok("a\r\n0123456789\r\n0\r\n\r\n", 10);
	ok("0000000000000001\r\nx\r\n0\r\n\r\n", 1); /* 16 digits */
	ok("3\r\n\r\n\r\r\n0\r\n\r\n", 3);	      /* data is opaque */
	/* extensions */
	ok("1;a\r\nx\r\n0\r\n\r\n", 1);
	ok("1;a=b\r\nx\r\n0\r\n\r\n", 1);
	ok("1;a=b;c;d=\"e f\"\r\nx\r\n0;last\r\n\r\n", 1);
	ok("1 ; a = b\r\nx\r\n0\r\n\r\n", 1);
	ok("1\t;\ta\t=\t\"\\\"q\\\\\"\r\nx\r\n0\r\n\r\n", 1);
	ok("1;a=\"\"\r\nx\r\n0\r\n\r\n", 1);
	ok("1;a=\"\x80\xff\"\r\nx\r\n0\r\n\r\n", 1);
	/* trailers */
	ok("0\r\nX-Sum: 1\r\n\r\n", 0);
	ok("0\r\nX-Sum:\r\nY:  a b\t\r\n\r\n", 0);
	ok("1\r\nx\r\n0\r\nContent-Length: 99\r\n\r\n", 1); /* never merged */
}

static void test_invalid(void)
{
	/* sizes */
	bad("\r\n");
	bad("x\r\n");
	bad("-1\r\nx\r\n0\r\n\r\n");
	bad("+1\r\nx\r\n0\r\n\r\n");
	bad("0x1\r\nx\r\n0\r\n\r\n");
	bad("1_0\r\n");
	bad(" 1\r\nx\r\n0\r\n\r\n");
	bad("1 \r\nx\r\n0\r\n\r\n");	/* BWS only before ';' */
	bad("1 2\r\n");
	bad("00000000000000001\r\nx\r\n0\r\n\r\n"); /* 17 digits */
	bad("10000000000000000\r\n");		  /* overflow */
	bad("g\r\n");
	/* line ends */
	bad("1\nx\r\n0\r\n\r\n");
	bad("1\rx\r\n0\r\n\r\n");
	bad("1\r\nx\n0\r\n\r\n");
	bad("1\r\nx\r0\r\n\r\n");
	bad("1\r\nxy\r\n0\r\n\r\n");	/* data longer than its size */
	bad("0\n\r\n");
	bad("0\r\n\n");
	bad("0\r\n\r\r");
	bad("0\r\nX: y\n\r\n");
	bad("0\r\nX: y\r\r\n\r\n");
	/* extensions */
	bad("1;\r\nx\r\n0\r\n\r\n");
	bad("1;=b\r\n");
	bad("1;a=\r\n");
	bad("1;a b\r\n");
	bad("1;a=b c\r\n");
	bad("1;a=b \r\n");
	bad("1;a=\"b\r\n");
	bad("1;a=\"b\"c\r\n");
	bad("1;a=\"\x01\"\r\n");
	bad("1;a=\"\\\x7f\"\r\n");
	bad("1;a(b\r\n");
	bad("1;a=b,c\r\n");
	bad("1;a\x01\r\n");
	/* trailers */
	bad("0\r\n: v\r\n\r\n");
	bad("0\r\nX : v\r\n\r\n");
	bad("0\r\n v\r\n\r\n");
	bad("0\r\nX: a\r\n b\r\n\r\n");	/* obs-fold */
	bad("0\r\nX\r\n\r\n");
	bad("0\r\nX: a\x01\r\n\r\n");
	bad("0\r\nX: a\x7f\r\n\r\n");
}

static void test_incomplete_and_pipelined(void)
{
	const char *two = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
	struct rh_chunked c;

	incomplete("");
	incomplete("5");
	incomplete("5\r\nhel");
	incomplete("5\r\nhello\r\n");
	incomplete("5\r\nhello\r\n0\r\n");
	incomplete("5\r\nhello\r\n0\r\nX: y\r\n");
	incomplete("5;a=\"b");
	/* it stops after the final CRLF */
	rh_chunked_init(&c);
	CHECK_INT(rh_chunked_feed(&c, two, strlen(two)), 13);
	CHECK(rh_chunked_done(&c));
	CHECK_INT(c.data, 3);
	CHECK_INT(rh_chunked_feed(&c, two + 13, strlen(two) - 13), 0);
	/* errors stick */
	rh_chunked_init(&c);
	CHECK_INT(rh_chunked_feed(&c, "z", 1), -400);
	CHECK_INT(rh_chunked_feed(&c, "0\r\n\r\n", 5), -400);
	CHECK(!rh_chunked_done(&c));
}

static void test_counts_and_limits(void)
{
	size_t big = RH_CHUNK_TRAILER_MAX + RH_CHUNK_EXT_MAX + 64;
	char *buf = malloc(big + 64);
	struct rh_chunked c;
	size_t n;

	/* data is counted as it arrives, over many chunks */
	rh_chunked_init(&c);
	CHECK_INT(rh_chunked_feed(&c, "ffffffffffffffff\r\n", 18), 18);
	memset(buf, 'd', 1000);
	CHECK_INT(rh_chunked_feed(&c, buf, 1000), 1000);
	CHECK_INT(c.data, 1000);
	CHECK(!rh_chunked_done(&c));
	rh_chunked_init(&c);
	for (int i = 0; i < 100; i++)
		CHECK_INT(rh_chunked_feed(&c, "2\r\nab\r\n", 7), 7);
	CHECK_INT(c.data, 200);

	/* extensions: up to the limit per chunk, every chunk anew */
	for (int over = 0; over <= 1; over++) {
		rh_chunked_init(&c);
		for (int chunk = 0; chunk < 3; chunk++) {
			n = 0;
			buf[n++] = '1';
			buf[n++] = ';';
			memset(buf + n, 'e', RH_CHUNK_EXT_MAX - 1 + over);
			n += RH_CHUNK_EXT_MAX - 1 + over;
			n += sprintf(buf + n, "\r\nx\r\n");
			if (over) {
				CHECK_INT(rh_chunked_feed(&c, buf, n), -400);
				break;
			}
			CHECK_INT(rh_chunked_feed(&c, buf, n), n);
		}
	}
	/* trailers: the final CRLF included */
	for (int over = 0; over <= 1; over++) {
		rh_chunked_init(&c);
		n = sprintf(buf, "0\r\nX: ");
		memset(buf + n, 'v', RH_CHUNK_TRAILER_MAX - 7 + over);
		n += RH_CHUNK_TRAILER_MAX - 7 + over;
		n += sprintf(buf + n, "\r\n\r\n");
		if (over) {
			CHECK_INT(rh_chunked_feed(&c, buf, n), -400);
		} else {
			CHECK_INT(rh_chunked_feed(&c, buf, n), n);
			CHECK(rh_chunked_done(&c));
		}
	}
	free(buf);
}

int main(void)
{
	test_valid();
	test_invalid();
	test_incomplete_and_pipelined();
	test_counts_and_limits();
	return check_done("http_chunked");
}
