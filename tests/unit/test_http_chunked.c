#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http_chunked.h"

#define NO_LIMIT UINT64_MAX

/* Feeds S[0..LEN) in one piece, then split at every position and byte by
 * byte, and checks all agree. Returns the bytes consumed or -400; *DONE
 * and *WIRE tell the end state. */
static ssize_t feed_all(const char *s, size_t len, bool *done, uint64_t *wire)
{
	struct rh_chunked c;
	ssize_t whole;

	rh_chunked_init(&c, NO_LIMIT);
	whole = rh_chunked_feed(&c, s, len);
	*done = rh_chunked_done(&c);
	*wire = c.wire;
	for (size_t cut = 0; cut <= len; cut++) {
		struct rh_chunked d;
		ssize_t a, b = 0, got;

		rh_chunked_init(&d, NO_LIMIT);
		a = rh_chunked_feed(&d, s, cut);
		if (a >= 0 && (size_t)a == cut)
			b = rh_chunked_feed(&d, s + cut, len - cut);
		got = a < 0 ? a : b < 0 ? b : a + b;
		if (got != whole || rh_chunked_done(&d) != *done || (whole >= 0 && d.wire != *wire)) {
			fprintf(stderr, "split at %zu: %zd, not %zd\n", cut, got, whole);
			CHECK(0);
			break;
		}
	}
	{
		struct rh_chunked d;
		ssize_t got = 0;

		rh_chunked_init(&d, NO_LIMIT);
		for (size_t i = 0; i < len && got >= 0 && !rh_chunked_done(&d); i++) {
			ssize_t r = rh_chunked_feed(&d, s + i, 1);
			got = r < 0 ? r : got + r;
		}
		CHECK_INT(got, whole);
		CHECK(rh_chunked_done(&d) == *done);
	}
	return whole;
}

/* S is one whole body: all of it is consumed, and counted. */
static void ok(const char *s)
{
	bool done;
	uint64_t wire;
	ssize_t n = feed_all(s, strlen(s), &done, &wire);

	if (n != (ssize_t)strlen(s) || !done)
		fprintf(stderr, "not complete: \"%s\": %zd\n", s, n);
	CHECK_INT(n, strlen(s));
	CHECK(done);
	CHECK_INT(wire, strlen(s));
}

static void bad(const char *s)
{
	bool done;
	uint64_t wire;
	ssize_t n = feed_all(s, strlen(s), &done, &wire);

	if (n != -400)
		fprintf(stderr, "not rejected: \"%s\": %zd\n", s, n);
	CHECK_INT(n, -400);
	CHECK(!done);
}

static void incomplete(const char *s)
{
	bool done;
	uint64_t wire;
	ssize_t n = feed_all(s, strlen(s), &done, &wire);

	CHECK_INT(n, strlen(s));
	CHECK(!done);
}

static void test_valid(void)
{
	ok("0\r\n\r\n");
	ok("000\r\n\r\n");
	ok("5\r\nhello\r\n0\r\n\r\n");
	ok("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
	ok("A\r\n0123456789\r\n0\r\n\r\n");
	ok("a\r\n0123456789\r\n0\r\n\r\n");
	ok("0000000000000001\r\nx\r\n0\r\n\r\n"); /* 16 digits */
	ok("3\r\n\r\n\r\r\n0\r\n\r\n");	      /* data is opaque */
	/* extensions */
	ok("1;a\r\nx\r\n0\r\n\r\n");
	ok("1;a=b\r\nx\r\n0\r\n\r\n");
	ok("1;a=b;c;d=\"e f\"\r\nx\r\n0;last\r\n\r\n");
	ok("1 ; a = b\r\nx\r\n0\r\n\r\n");
	ok("1\t;\ta\t=\t\"\\\"q\\\\\"\r\nx\r\n0\r\n\r\n");
	ok("1;a=\"\"\r\nx\r\n0\r\n\r\n");
	ok("1;a=\"\x80\xff\"\r\nx\r\n0\r\n\r\n");
	/* trailers */
	ok("0\r\nX-Sum: 1\r\n\r\n");
	ok("0\r\nX-Sum:\r\nY:  a b\t\r\n\r\n");
	ok("1\r\nx\r\n0\r\nContent-Length: 99\r\n\r\n"); /* never merged */
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
	rh_chunked_init(&c, NO_LIMIT);
	CHECK_INT(rh_chunked_feed(&c, two, strlen(two)), 13);
	CHECK(rh_chunked_done(&c));
	CHECK_INT(c.wire, 13);
	CHECK_INT(rh_chunked_feed(&c, two + 13, strlen(two) - 13), 0);
	/* errors stick */
	rh_chunked_init(&c, NO_LIMIT);
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

	/* every byte is counted as it arrives, over many chunks */
	rh_chunked_init(&c, NO_LIMIT);
	CHECK_INT(rh_chunked_feed(&c, "ffffffffffffffff\r\n", 18), 18);
	memset(buf, 'd', 1000);
	CHECK_INT(rh_chunked_feed(&c, buf, 1000), 1000);
	CHECK_INT(c.wire, 1018);
	CHECK(!rh_chunked_done(&c));
	rh_chunked_init(&c, NO_LIMIT);
	for (int i = 0; i < 100; i++)
		CHECK_INT(rh_chunked_feed(&c, "2\r\nab\r\n", 7), 7);
	CHECK_INT(c.wire, 700);

	/* extensions: up to the limit per chunk, every chunk anew */
	for (int over = 0; over <= 1; over++) {
		rh_chunked_init(&c, NO_LIMIT);
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
		rh_chunked_init(&c, NO_LIMIT);
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

/* Feeds BODY byte by byte under a limit of MAX: the sum of the returns,
 * or the first error. */
static ssize_t feed_bytewise(const char *body, size_t len, uint64_t max)
{
	struct rh_chunked c;
	ssize_t got = 0;

	rh_chunked_init(&c, max);
	for (size_t i = 0; i < len && !rh_chunked_done(&c); i++) {
		ssize_t r = rh_chunked_feed(&c, body + i, 1);

		if (r < 0)
			return r;
		got += r;
	}
	return got;
}

/* The limit is on wire bytes: one-byte chunks, each with a 1,000-byte
 * extension, are stopped after MAX bytes however little data they carry. */
static void test_wire_limit(void)
{
	enum { EXT = 1000, PER = 1 + EXT + 2 + 1 + 2, CHUNKS = 100 };
	size_t n = 0;
	char *body = malloc(CHUNKS * PER + 5);
	struct rh_chunked c;

	for (size_t i = 0; i < CHUNKS; i++) {
		memcpy(body + n, "1;e=", 4);
		memset(body + n + 4, 'v', EXT - 3);
		memcpy(body + n + 1 + EXT, "\r\nx\r\n", 5);
		n += PER;
	}
	memcpy(body + n, "0\r\n\r\n", 5);
	n += 5;
	/* exactly the body's length passes, in one piece or byte by byte */
	rh_chunked_init(&c, n);
	CHECK_INT(rh_chunked_feed(&c, body, n), n);
	CHECK(rh_chunked_done(&c));
	CHECK_INT(feed_bytewise(body, n, n), n);
	/* one byte less is 413 after the limit, and it sticks */
	rh_chunked_init(&c, n - 1);
	CHECK_INT(rh_chunked_feed(&c, body, n), -413);
	CHECK_INT(c.wire, n - 1);
	CHECK_INT(rh_chunked_feed(&c, "0\r\n\r\n", 5), -413);
	CHECK(!rh_chunked_done(&c));
	CHECK_INT(feed_bytewise(body, n, n - 1), -413);
	/* 64 KiB: 66 such chunks pass it with 66 bytes of data */
	rh_chunked_init(&c, 64 * 1024);
	CHECK_INT(rh_chunked_feed(&c, body, 65 * PER), 65 * PER);
	CHECK_INT(rh_chunked_feed(&c, body + 65 * PER, PER), -413);
	CHECK_INT(c.wire, 64 * 1024);
	/* a chunk's data is cut at the limit too */
	rh_chunked_init(&c, 20);
	CHECK_INT(rh_chunked_feed(&c, "ffff\r\n", 6), 6);
	memset(body, 'd', 100);
	CHECK_INT(rh_chunked_feed(&c, body, 14), 14);
	CHECK_INT(rh_chunked_feed(&c, body, 1), -413);
	CHECK_INT(c.wire, 20);
	/* the data's CRLF, the last chunk and the trailers count */
	CHECK_INT(feed_bytewise("1\r\nx\r\n0\r\n\r\n", 11, 10), -413);
	CHECK_INT(feed_bytewise("1\r\nx\r\n0\r\n\r\n", 11, 11), 11);
	CHECK_INT(feed_bytewise("0\r\nX: abc\r\n\r\n", 13, 12), -413);
	CHECK_INT(feed_bytewise("0\r\nX: abc\r\n\r\n", 13, 13), 13);
	/* what follows the body is left, even at the limit */
	rh_chunked_init(&c, 5);
	CHECK_INT(rh_chunked_feed(&c, "0\r\n\r\nGET", 8), 5);
	CHECK(rh_chunked_done(&c));
	free(body);
}

int main(void)
{
	test_valid();
	test_invalid();
	test_incomplete_and_pipelined();
	test_counts_and_limits();
	test_wire_limit();
	return check_done("http_chunked");
}
