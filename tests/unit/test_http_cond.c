#include <stdint.h>
#include <string.h>

#include "check.h"
#include "http_cond.h"
#include "http_date.h"

#define S(lit) ((struct rh_str){ (lit), sizeof(lit) - 1 })

/* One range-spec at a time: the single-part answers. */
static void test_ranges(void)
{
	struct rh_ranges rs;

#define ONE(spec, size, a, b) \
	do { \
		CHECK_INT(rh_ranges_parse(S(spec), (size), 16, &rs), RH_RANGE_PARTIAL); \
		CHECK_INT(rs.n, 1); \
		CHECK_INT(rs.r[0].first, (a)); \
		CHECK_INT(rs.r[0].last, (b)); \
	} while (0)
	ONE("bytes=0-0", 10, 0, 0);
	ONE("bytes=2-", 10, 2, 9);
	ONE("bytes=5-100", 10, 5, 9);
	ONE("bytes=-3", 10, 7, 9);
	ONE("bytes=-30", 10, 0, 9);
	ONE("bytes=5368709000-", 5368709120ULL, 5368709000ULL, 5368709119ULL); /* beyond 4 GiB */
	ONE("bytes=0-1,3-4", 10, 0, 4); /* close ones are one part */
#undef ONE
	CHECK_INT(rh_ranges_parse(S("bytes=10-"), 10, 16, &rs), RH_RANGE_UNSATISFIABLE);
	CHECK_INT(rh_ranges_parse(S("bytes=-0"), 10, 16, &rs), RH_RANGE_UNSATISFIABLE);
	CHECK_INT(rh_ranges_parse(S("bytes=0-"), 0, 16, &rs), RH_RANGE_UNSATISFIABLE);
	/* not understood: the whole file */
	CHECK_INT(rh_ranges_parse(S("bytes=3-1"), 10, 16, &rs), RH_RANGE_WHOLE);
	CHECK_INT(rh_ranges_parse(S("items=0-1"), 10, 16, &rs), RH_RANGE_WHOLE);
	CHECK_INT(rh_ranges_parse(S("bytes=a-1"), 10, 16, &rs), RH_RANGE_WHOLE);
	CHECK_INT(rh_ranges_parse(S("bytes=99999999999999999999999-"), 10, 16, &rs), RH_RANGE_WHOLE);
	/* parts in the order asked for, a merged one where its first range was */
	CHECK_INT(rh_ranges_parse(S("bytes=1500-1509,0-9,700-709,20-29"), 2000, 16, &rs),
		  RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 3);
	CHECK_INT(rs.r[0].first, 1500);
	CHECK_INT(rs.r[1].first, 0);
	CHECK_INT(rs.r[1].last, 29);
	CHECK_INT(rs.r[2].first, 700);
}

static void test_dates(void)
{
	char out[RH_HTTP_DATE_LEN + 1];
	time_t t;

	rh_http_date_format(784111777, out);
	CHECK_STR(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	CHECK(rh_http_date_parse(S("Sun, 06 Nov 1994 08:49:37 GMT"), &t));
	CHECK_INT(t, 784111777);
	CHECK(rh_http_date_parse(S("Sunday, 06-Nov-94 08:49:37 GMT"), &t));
	CHECK_INT(t, 784111777);
	CHECK(rh_http_date_parse(S("Sun Nov  6 08:49:37 1994"), &t));
	CHECK_INT(t, 784111777);
	CHECK(!rh_http_date_parse(S("Sun, 06 Nov 1994 08:49:37 CET"), &t));
	CHECK(!rh_http_date_parse(S("yesterday"), &t));
	CHECK(!rh_http_date_parse(S("Sun, 06 Foo 1994 08:49:37 GMT"), &t));
}

/* Times an HTTP-date cannot say: clamped to years 1 and 9999, never a
 * failed gmtime_r's garbage. */
static void test_dates_out_of_range(void)
{
	char out[RH_HTTP_DATE_LEN + 1];
	time_t t;

	rh_http_date_format((time_t)RH_HTTP_DATE_MAX, out);
	CHECK_STR(out, "Fri, 31 Dec 9999 23:59:59 GMT");
	rh_http_date_format((time_t)RH_HTTP_DATE_MAX + 1, out);
	CHECK_STR(out, "Fri, 31 Dec 9999 23:59:59 GMT");
	rh_http_date_format((time_t)1 << 62, out);
	CHECK_STR(out, "Fri, 31 Dec 9999 23:59:59 GMT");
	rh_http_date_format(INT64_MAX, out);
	CHECK_STR(out, "Fri, 31 Dec 9999 23:59:59 GMT");
	rh_http_date_format((time_t)RH_HTTP_DATE_MIN, out);
	CHECK_STR(out, "Mon, 01 Jan 0001 00:00:00 GMT");
	rh_http_date_format((time_t)RH_HTTP_DATE_MIN - 1, out);
	CHECK_STR(out, "Mon, 01 Jan 0001 00:00:00 GMT");
	rh_http_date_format(-((time_t)1 << 62), out);
	CHECK_STR(out, "Mon, 01 Jan 0001 00:00:00 GMT");
	rh_http_date_format(INT64_MIN, out);
	CHECK_STR(out, "Mon, 01 Jan 0001 00:00:00 GMT");
	rh_http_date_format(-1, out);
	CHECK_STR(out, "Wed, 31 Dec 1969 23:59:59 GMT");
	/* the ends are what the parser reads back */
	CHECK(rh_http_date_parse(S("Fri, 31 Dec 9999 23:59:59 GMT"), &t));
	CHECK_INT(t, RH_HTTP_DATE_MAX);
	CHECK(rh_http_date_parse(S("Mon, 01 Jan 0001 00:00:00 GMT"), &t));
	CHECK_INT(t, RH_HTTP_DATE_MIN);
	CHECK(rh_http_date_in_range((time_t)RH_HTTP_DATE_MAX));
	CHECK(!rh_http_date_in_range((time_t)RH_HTTP_DATE_MAX + 1));
	CHECK(rh_http_date_in_range((time_t)RH_HTTP_DATE_MIN));
	CHECK(!rh_http_date_in_range((time_t)RH_HTTP_DATE_MIN - 1));
	CHECK(rh_http_date_in_range(0));
}

static const char *etag_of(long long sec, long nsec)
{
	static char buf[RH_ETAG_MAX];
	struct stat st = { 0 };

	st.st_ino = 0xc;
	st.st_size = 3;
	st.st_mtim.tv_sec = sec;
	st.st_mtim.tv_nsec = nsec;
	CHECK_INT(rh_etag_format(buf, &st), strlen(buf));
	return buf;
}

/* The mtime in an ETag: the 64-bit nanosecond count while it fits (1970
 * to 2554, the tags as they always were), a wider one otherwise, so that
 * distinct mtimes keep distinct, well-formed tags. */
static void test_etag_mtimes(void)
{
	char a[RH_ETAG_MAX];
	struct stat st = { 0 };

	CHECK_STR(etag_of(0, 0), "\"c-3-0\"");
	CHECK_STR(etag_of(1614834367, 5), "\"c-3-16690b4d1020b605\"");
	CHECK_STR(etag_of(18446744073LL, 709551615), "\"c-3-ffffffffffffffff\"");
	CHECK_STR(etag_of(18446744073LL, 709551616), "\"c-3-10000000000000000\"");
	CHECK_STR(etag_of(1LL << 62, 0), "\"c-3-ee6b2800000000000000000\"");
	CHECK_STR(etag_of(1LL << 62, 1), "\"c-3-ee6b2800000000000000001\"");
	CHECK_STR(etag_of((1LL << 62) + 1, 0), "\"c-3-ee6b280000000003b9aca00\"");
	CHECK_STR(etag_of(-1, 0), "\"c-3-3b9ac9ffffffffffc4653600\"");
	CHECK_STR(etag_of(-1, 999999999), "\"c-3-3b9ac9ffffffffffffffffff\"");
	CHECK_STR(etag_of(-(1LL << 62), 0), "\"c-3-2cb417800000000000000000\"");
	CHECK_STR(etag_of(INT64_MAX, 999999999), "\"c-3-1dcd64ffffffffffffffffff\"");
	CHECK_STR(etag_of(INT64_MIN, 0), "\"c-3-1dcd65000000000000000000\"");
	/* the longest tag fits */
	st.st_ino = UINT64_MAX;
	st.st_size = INT64_MAX;
	st.st_mtim.tv_sec = INT64_MIN;
	CHECK_INT(rh_etag_format(a, &st), 2 + 16 + 1 + 16 + 1 + 24);
}

/* A modification time an HTTP-date cannot say is no modification date:
 * the date conditions are ignored, an If-Range date never holds. */
static void test_conditions_without_a_date(void)
{
	struct rh_str etag = S("\"1-2-3\"");
	struct rh_request req = { 0 };
	time_t far = (time_t)1 << 62, before = -((time_t)1 << 62), now = 1764547200;

	req.method = RH_METHOD_GET;
	req.if_modified_since = S("Fri, 31 Dec 9999 23:59:59 GMT");
	CHECK_INT(rh_preconditions(&req, etag, far, far), RH_PRECOND_PROCEED);
	req.if_modified_since = S("Mon, 01 Jan 0001 00:00:00 GMT");
	CHECK_INT(rh_preconditions(&req, etag, before, now), RH_PRECOND_PROCEED);
	CHECK_INT(rh_preconditions(&req, etag, (time_t)RH_HTTP_DATE_MIN, now),
		  RH_PRECOND_NOT_MODIFIED);
	req.if_modified_since = (struct rh_str){ 0 };
	req.if_unmodified_since = S("Mon, 01 Jan 0001 00:00:00 GMT");
	CHECK_INT(rh_preconditions(&req, etag, far, now), RH_PRECOND_PROCEED);
	CHECK_INT(rh_preconditions(&req, etag, (time_t)RH_HTTP_DATE_MAX, now), RH_PRECOND_FAILED);
	req.if_unmodified_since = (struct rh_str){ 0 };
	req.if_range = S("Mon, 01 Jan 0000 00:00:00 GMT");
	CHECK(!rh_if_range_holds(&req, etag, (time_t)RH_HTTP_DATE_MIN - 31622400));
	req.if_range = S("Fri, 31 Dec 9999 23:59:59 GMT");
	CHECK(!rh_if_range_holds(&req, etag, far));
	CHECK(rh_if_range_holds(&req, etag, (time_t)RH_HTTP_DATE_MAX));
}

static void test_conditions(void)
{
	struct rh_str etag = S("\"1-2-3\"");
	struct rh_request req = { 0 };
	struct stat st = { 0 };
	char buf[RH_ETAG_MAX];

	st.st_ino = 0x1a;
	st.st_size = 5368709120LL;
	st.st_mtim.tv_sec = 1;
	st.st_mtim.tv_nsec = 2;
	rh_etag_format(buf, &st);
	CHECK_STR(buf, "\"1a-140000000-3b9aca02\"");

	/* If-Match over two field lines is one list */
	req.method = RH_METHOD_GET;
	req.if_match = (struct rh_list){ 2, { S("\"nope\""), S("\"x\", \"1-2-3\"") } };
	CHECK_INT(rh_preconditions(&req, etag, 1, 2), RH_PRECOND_PROCEED);
	req.if_match = (struct rh_list){ 2, { S("\"nope\""), S("\"x\"") } };
	CHECK_INT(rh_preconditions(&req, etag, 1, 2), RH_PRECOND_FAILED);
	req.if_match = (struct rh_list){ 0 };
	req.if_none_match = (struct rh_list){ 2, { S("\"x\""), S("W/\"1-2-3\"") } };
	CHECK_INT(rh_preconditions(&req, etag, 1, 2), RH_PRECOND_NOT_MODIFIED);
	req.if_none_match = (struct rh_list){ 0 };

	CHECK(rh_if_range_holds(&req, etag, 1));
	req.if_range = etag;
	CHECK(rh_if_range_holds(&req, etag, 1));
	req.if_range = S("W/\"1-2-3\"");
	CHECK(!rh_if_range_holds(&req, etag, 1));
	req.if_range = S("Sun, 06 Nov 1994 08:49:37 GMT");
	CHECK(rh_if_range_holds(&req, etag, 784111777));
	CHECK(!rh_if_range_holds(&req, etag, 784111778));
}

#define T0 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */
#define D0 "Sun, 06 Nov 1994 08:49:37 GMT"
#define D_BEFORE "Sun, 06 Nov 1994 08:49:36 GMT"
#define D_AFTER "Sun, 06 Nov 1994 08:49:38 GMT"
#define D_FUTURE "Fri, 01 Jan 2100 00:00:00 GMT"

enum { GET = RH_METHOD_GET, HEAD = RH_METHOD_HEAD, PUT = RH_METHOD_OTHER };

struct precond_case {
	int method;
	const char *if_match, *if_unmodified_since, *if_none_match, *if_modified_since;
	enum rh_precond want;
};

#define PROCEED RH_PRECOND_PROCEED
#define NOT_MODIFIED RH_PRECOND_NOT_MODIFIED
#define FAILED RH_PRECOND_FAILED

static struct rh_list opt_list(const char *s)
{
	return s ? (struct rh_list){ 1, { { s, strlen(s) } } } : (struct rh_list){ 0 };
}

static struct rh_str opt(const char *s)
{
	return s ? (struct rh_str){ s, strlen(s) } : (struct rh_str){ 0 };
}

/* The representation: ETag "1-2-3", Last-Modified T0, now T0 + 10. */
static void test_preconditions(void)
{
	static const struct precond_case cases[] = {
		/* none */
		{ GET, 0, 0, 0, 0, PROCEED },
		{ PUT, 0, 0, 0, 0, PROCEED },
		/* 1. If-Match, strong comparison */
		{ GET, "\"1-2-3\"", 0, 0, 0, PROCEED },
		{ GET, "*", 0, 0, 0, PROCEED },
		{ GET, " * ", 0, 0, 0, PROCEED },
		{ GET, "\"x\", \"1-2-3\"", 0, 0, 0, PROCEED },
		{ GET, ",\"x\" ,, \"1-2-3\",", 0, 0, 0, PROCEED },
		{ GET, "\"x\"", 0, 0, 0, FAILED },
		{ PUT, "\"x\"", 0, 0, 0, FAILED },
		{ GET, "W/\"1-2-3\"", 0, 0, 0, FAILED }, /* weak never matches strongly */
		{ GET, "\"1-2-3\" x", 0, 0, 0, FAILED },  /* malformed lists match nothing */
		{ GET, "\"1-2-3\", x", 0, 0, 0, FAILED },
		{ GET, "\"1-2-3", 0, 0, 0, FAILED },
		{ GET, "1-2-3", 0, 0, 0, FAILED },
		{ GET, "*, \"x\"", 0, 0, 0, FAILED },
		{ GET, "w/\"1-2-3\"", 0, 0, 0, FAILED },
		{ GET, "", 0, 0, 0, FAILED },
		/* 2. If-Unmodified-Since, only without If-Match */
		{ GET, 0, D0, 0, 0, PROCEED },
		{ GET, 0, D_AFTER, 0, 0, PROCEED },
		{ GET, 0, D_BEFORE, 0, 0, FAILED },
		{ PUT, 0, D_BEFORE, 0, 0, FAILED },
		{ GET, 0, "yesterday", 0, 0, PROCEED }, /* an invalid date is ignored */
		{ GET, "\"1-2-3\"", D_BEFORE, 0, 0, PROCEED }, /* If-Match decides */
		{ GET, "\"x\"", D_AFTER, 0, 0, FAILED },
		/* 3. If-None-Match, weak comparison */
		{ GET, 0, 0, "\"1-2-3\"", 0, NOT_MODIFIED },
		{ HEAD, 0, 0, "\"1-2-3\"", 0, NOT_MODIFIED },
		{ GET, 0, 0, "W/\"1-2-3\"", 0, NOT_MODIFIED },
		{ GET, 0, 0, "\"a\", W/\"1-2-3\"", 0, NOT_MODIFIED },
		{ GET, 0, 0, "*", 0, NOT_MODIFIED },
		{ PUT, 0, 0, "\"1-2-3\"", 0, FAILED },
		{ PUT, 0, 0, "*", 0, FAILED },
		{ GET, 0, 0, "\"x\"", 0, PROCEED },
		{ PUT, 0, 0, "\"x\"", 0, PROCEED },
		{ GET, 0, 0, "\"1-2-3\" junk", 0, PROCEED }, /* malformed: no match */
		{ GET, 0, 0, "\"1-2-3\",\"", 0, PROCEED },
		/* after a passed If-Match or If-Unmodified-Since */
		{ GET, "\"1-2-3\"", 0, "\"1-2-3\"", 0, NOT_MODIFIED },
		{ GET, "*", 0, "*", 0, NOT_MODIFIED },
		{ PUT, "\"1-2-3\"", 0, "\"1-2-3\"", 0, FAILED },
		{ GET, 0, D_AFTER, "\"1-2-3\"", 0, NOT_MODIFIED },
		{ GET, "\"x\"", 0, "\"1-2-3\"", 0, FAILED }, /* 412 comes first */
		{ GET, 0, D_BEFORE, "\"1-2-3\"", 0, FAILED },
		/* 4. If-Modified-Since, only without If-None-Match, GET and HEAD */
		{ GET, 0, 0, 0, D0, NOT_MODIFIED },
		{ HEAD, 0, 0, 0, D_AFTER, NOT_MODIFIED },
		{ GET, 0, 0, 0, D_BEFORE, PROCEED },
		{ PUT, 0, 0, 0, D0, PROCEED },
		{ GET, 0, 0, 0, "yesterday", PROCEED },
		{ GET, 0, 0, 0, D_FUTURE, PROCEED }, /* later than now: ignored */
		{ GET, 0, 0, "\"x\"", D0, PROCEED }, /* If-None-Match decides */
		{ GET, 0, 0, "\"1-2-3\"", D_BEFORE, NOT_MODIFIED },
		{ GET, 0, 0, "\"x\" junk", D0, PROCEED },
		{ GET, "\"1-2-3\"", D_BEFORE, 0, D0, NOT_MODIFIED },
		{ GET, "\"x\"", 0, 0, D0, FAILED },
		{ GET, 0, D_BEFORE, 0, D0, FAILED },
		{ GET, 0, D_AFTER, 0, D0, NOT_MODIFIED },
	};
	struct rh_str etag = S("\"1-2-3\"");

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct precond_case *c = &cases[i];
		struct rh_request req = { .method = c->method };
		enum rh_precond got;

		req.if_match = opt_list(c->if_match);
		req.if_unmodified_since = opt(c->if_unmodified_since);
		req.if_none_match = opt_list(c->if_none_match);
		req.if_modified_since = opt(c->if_modified_since);
		got = rh_preconditions(&req, etag, T0, T0 + 10);
		if (got != c->want)
			fprintf(stderr, "precondition case %zu\n", i);
		CHECK_INT(got, c->want);
	}
	/* a weak ETag of ours never matches strongly, but weakly */
	{
		struct rh_request req = { .method = RH_METHOD_GET };

		req.if_match = opt_list("W/\"1-2-3\"");
		CHECK_INT(rh_preconditions(&req, S("W/\"1-2-3\""), T0, T0), FAILED);
		req.if_match = opt_list("\"1-2-3\"");
		CHECK_INT(rh_preconditions(&req, S("W/\"1-2-3\""), T0, T0), FAILED);
		req.if_match = opt_list("*");
		CHECK_INT(rh_preconditions(&req, S("W/\"1-2-3\""), T0, T0), PROCEED);
		req.if_match = opt_list(NULL);
		req.if_none_match = opt_list("\"1-2-3\"");
		CHECK_INT(rh_preconditions(&req, S("W/\"1-2-3\""), T0, T0), NOT_MODIFIED);
		/* a modification time in the future of the date sent */
		req.if_none_match = opt_list(NULL);
		req.if_modified_since = S(D0);
		CHECK_INT(rh_preconditions(&req, S("\"1-2-3\""), T0 + 1, T0 + 1), PROCEED);
		CHECK_INT(rh_preconditions(&req, S("\"1-2-3\""), T0, T0 - 1), PROCEED);
		req.if_range = S("W/\"1-2-3\"");
		CHECK(!rh_if_range_holds(&req, S("W/\"1-2-3\""), T0));
	}
}

static enum rh_range ranges(const char *v, uint64_t size, unsigned max, struct rh_ranges *rs)
{
	return rh_ranges_parse((struct rh_str){ v, strlen(v) }, size, max, rs);
}

#define CHECK_PART(rs, i, a, b) \
	do { \
		CHECK_INT((rs).r[i].first, (a)); \
		CHECK_INT((rs).r[i].last, (b)); \
	} while (0)

static void test_multiple_ranges(void)
{
	struct rh_ranges rs;
	char buf[1024];
	size_t n;

	/* single ranges, as before */
	CHECK_INT(ranges("bytes=0-0", 10, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 1);
	CHECK_PART(rs, 0, 0, 0);
	CHECK_INT(ranges("bytes=-3", 10, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_PART(rs, 0, 7, 9);
	CHECK_INT(ranges("bytes=5-100", 10, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_PART(rs, 0, 5, 9);
	CHECK_INT(ranges("BYTES=2-", 10, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_PART(rs, 0, 2, 9);
	CHECK_INT(ranges("bytes=-30", 10, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_PART(rs, 0, 0, 9);
	CHECK_INT(ranges("bytes=5368709000-", 5368709120ULL, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_PART(rs, 0, 5368709000ULL, 5368709119ULL);

	/* several, far apart: kept, in the order asked for */
	CHECK_INT(ranges("bytes=500-599, 0-99,-100", 1000, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 3);
	CHECK_PART(rs, 0, 500, 599);
	CHECK_PART(rs, 1, 0, 99);
	CHECK_PART(rs, 2, 900, 999);
	/* overlapping and close ones merged: a gap of 79 bytes merges, 80 does not */
	CHECK_INT(ranges("bytes=0-99,50-149", 1000, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 1);
	CHECK_PART(rs, 0, 0, 149);
	CHECK_INT(ranges("bytes=0-99,179-199", 1000, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 1);
	CHECK_PART(rs, 0, 0, 199);
	CHECK_INT(ranges("bytes=0-99,100-199", 1000, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 1);
	CHECK_INT(ranges("bytes=0-99,180-199", 1000, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 2);
	CHECK_PART(rs, 0, 0, 99);
	CHECK_PART(rs, 1, 180, 199);
	CHECK_INT(ranges("bytes=10-20,0-5,3-4,100-", 200, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 1);
	CHECK_PART(rs, 0, 0, 199);
	CHECK_INT(ranges("bytes=0-0,0-0,0-0", 1000, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 1);
	CHECK_PART(rs, 0, 0, 0);
	CHECK_INT(ranges("bytes=900-,0-9,-5", 1000, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 2);
	CHECK_PART(rs, 0, 900, 999);
	CHECK_PART(rs, 1, 0, 9);
	/* a late range bridging the others */
	CHECK_INT(ranges("bytes=0-0,200-200,400-400,0-500", 1000, 2, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 1);
	CHECK_PART(rs, 0, 0, 500);
	/* unsatisfiable ones are dropped */
	CHECK_INT(ranges("bytes=2000-,0-1", 1000, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 1);
	CHECK_PART(rs, 0, 0, 1);
	CHECK_INT(ranges("bytes=-0,500-", 1000, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(ranges("bytes=2000-,1000-1001,-0", 1000, 16, &rs), RH_RANGE_UNSATISFIABLE);
	CHECK_INT(ranges("bytes=0-", 0, 16, &rs), RH_RANGE_UNSATISFIABLE);
	CHECK_INT(ranges("bytes=-5", 0, 16, &rs), RH_RANGE_UNSATISFIABLE);
	/* list syntax: empty elements and OWS */
	CHECK_INT(ranges("bytes= , 0-1 ,\t, 500-501 ,", 1000, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 2);
	/* syntax errors anywhere: the whole */
	static const char *const invalid[] = {
		"bytes=", "bytes= , ", "bytes=0-1,x", "bytes=3-1", "bytes=0-1,5-2", "bytes=1",
		"bytes=-", "bytes=--1", "bytes=1-2-3", "bytes=0 -1", "bytes=+1-2", "bytes=0x1-2",
		"bytes=2000-,a", "bytes=99999999999999999999999-", "items=0-1", "bytes 0-1",
		"bytes=0-1;0-2", "",
	};
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		enum rh_range got = ranges(invalid[i], 1000, 16, &rs);

		if (got != RH_RANGE_WHOLE)
			fprintf(stderr, "range \"%s\"\n", invalid[i]);
		CHECK_INT(got, RH_RANGE_WHOLE);
	}
	/* more parts than allowed after merging: the whole */
	CHECK_INT(ranges("bytes=0-0,200-200,400-400", 1000, 2, &rs), RH_RANGE_WHOLE);
	CHECK_INT(ranges("bytes=0-0,200-200,400-400", 1000, 3, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(ranges("bytes=0-0,200-200,400-400", 1000, 0, &rs), RH_RANGE_WHOLE);
	CHECK_INT(ranges("bytes=0-0,50-50,400-400", 1000, 2, &rs), RH_RANGE_PARTIAL);
	/* more satisfiable ranges than the array holds, however they merge */
	n = sprintf(buf, "bytes=0-0");
	for (int i = 1; i < RH_MAX_RANGES_CAP; i++)
		n += sprintf(buf + n, ",%d-%d", i, i);
	CHECK_INT(ranges(buf, 1000, 16, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, 1);
	CHECK_PART(rs, 0, 0, RH_MAX_RANGES_CAP - 1);
	sprintf(buf + n, ",0-0");
	CHECK_INT(ranges(buf, 1000, 16, &rs), RH_RANGE_WHOLE);
	/* unsatisfiable ones do not count */
	n = sprintf(buf, "bytes=0-0");
	for (int i = 0; i < 2 * RH_MAX_RANGES_CAP; i++)
		n += sprintf(buf + n, ",2000-");
	CHECK_INT(ranges(buf, 1000, 16, &rs), RH_RANGE_PARTIAL);
	/* max_ranges above the capacity is the capacity */
	n = sprintf(buf, "bytes=0-0");
	for (int i = 1; i < RH_MAX_RANGES_CAP; i++)
		n += sprintf(buf + n, ",%d-%d", i * 100, i * 100);
	CHECK_INT(ranges(buf, 100000, 1000, &rs), RH_RANGE_PARTIAL);
	CHECK_INT(rs.n, RH_MAX_RANGES_CAP);
	CHECK_INT(ranges(buf, 100000, RH_MAX_RANGES_CAP - 1, &rs), RH_RANGE_WHOLE);
}

static void test_multipart(void)
{
	struct rh_ranges rs;
	char boundary[RH_BOUNDARY_MAX], body[4096], head[256];
	const char *file = "0123456789abcdefghijklmnopqrstuvwxyz";
	uint64_t size = 36;
	struct rh_str b, types[] = { S("text/plain"), S("") };
	size_t n;

	CHECK_INT(rh_multipart_boundary(0x0123456789abcdefULL, boundary), 16);
	CHECK_STR(boundary, "0123456789abcdef");
	CHECK_INT(rh_multipart_boundary(1, boundary), 16);
	CHECK_STR(boundary, "0000000000000001");
	b = (struct rh_str){ boundary, strlen(boundary) };

	rs.n = 1;
	rs.r[0] = (struct rh_byte_range){ 1, 3 };
	n = rh_multipart_part_head(head, sizeof head, b, S("text/plain"), rs.r[0], size);
	CHECK_MEM(head, n, "\r\n--0000000000000001\r\nContent-Type: text/plain\r\n"
			   "Content-Range: bytes 1-3/36\r\n\r\n");
	/* exactly the room it needs, and one byte less */
	CHECK_INT(rh_multipart_part_head(head, n, b, S("text/plain"), rs.r[0], size), n);
	CHECK_INT(rh_multipart_part_head(head, n - 1, b, S("text/plain"), rs.r[0], size), 0);
	CHECK_INT(rh_multipart_part_head(NULL, 0, b, S("text/plain"), rs.r[0], size), 0);
	n = rh_multipart_part_head(head, sizeof head, b, S(""), rs.r[0], size);
	CHECK_MEM(head, n, "\r\n--0000000000000001\r\nContent-Range: bytes 1-3/36\r\n\r\n");
	n = rh_multipart_tail(head, sizeof head, b);
	CHECK_MEM(head, n, "\r\n--0000000000000001--\r\n");
	CHECK_INT(rh_multipart_tail(head, n, b), n);
	CHECK_INT(rh_multipart_tail(head, n - 1, b), 0);

	/* the length is that of the concatenation */
	static const char *const specs[] = {
		"bytes=0-0,30-", "bytes=1-2,-1", "bytes=0-0", "bytes=0-35",
	};
	for (size_t t = 0; t < 2; t++) {
		for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
			size_t len = 0;

			CHECK_INT(ranges(specs[i], size, 16, &rs), RH_RANGE_PARTIAL);
			for (unsigned k = 0; k < rs.n; k++) {
				len += rh_multipart_part_head(body + len, sizeof body - len, b, types[t],
							      rs.r[k], size);
				memcpy(body + len, file + rs.r[k].first, rs.r[k].last - rs.r[k].first + 1);
				len += rs.r[k].last - rs.r[k].first + 1;
			}
			len += rh_multipart_tail(body + len, sizeof body - len, b);
			CHECK_INT(rh_multipart_length(&rs, b, types[t], size), len);
		}
	}
	/* large numbers */
	rs.n = 2;
	rs.r[0] = (struct rh_byte_range){ 0, 9 };
	rs.r[1] = (struct rh_byte_range){ 10000000000ULL, 18446744073709551613ULL };
	{
		size_t len = 0;

		for (unsigned k = 0; k < rs.n; k++)
			len += rh_multipart_part_head(body + len, sizeof body - len, b, types[0],
						      rs.r[k], 18446744073709551614ULL);
		len += rh_multipart_tail(body + len, sizeof body - len, b);
		CHECK_INT(rh_multipart_length(&rs, b, types[0], 18446744073709551614ULL) -
				  (10 + 18446744073709551613ULL - 10000000000ULL + 1),
			  len);
	}
	n = rh_multipart_part_head(head, sizeof head, b, S(""), rs.r[1], 18446744073709551614ULL);
	CHECK_MEM(head, n, "\r\n--0000000000000001\r\nContent-Range: bytes "
			   "10000000000-18446744073709551613/18446744073709551614\r\n\r\n");
}

int main(void)
{
	test_ranges();
	test_dates();
	test_dates_out_of_range();
	test_etag_mtimes();
	test_conditions_without_a_date();
	test_conditions();
	test_preconditions();
	test_multiple_ranges();
	test_multipart();
	return check_done("http_cond");
}
