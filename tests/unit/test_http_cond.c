#include <string.h>

#include "check.h"
#include "http_cond.h"
#include "http_date.h"

#define S(lit) ((struct rh_str){ (lit), sizeof(lit) - 1 })

static void test_ranges(void)
{
	uint64_t a, b;

	CHECK_INT(rh_range_parse(S("bytes=0-0"), 10, &a, &b), RH_RANGE_PARTIAL);
	CHECK_INT(a, 0);
	CHECK_INT(b, 0);
	CHECK_INT(rh_range_parse(S("bytes=2-"), 10, &a, &b), RH_RANGE_PARTIAL);
	CHECK_INT(a, 2);
	CHECK_INT(b, 9);
	CHECK_INT(rh_range_parse(S("bytes=5-100"), 10, &a, &b), RH_RANGE_PARTIAL);
	CHECK_INT(b, 9);
	CHECK_INT(rh_range_parse(S("bytes=-3"), 10, &a, &b), RH_RANGE_PARTIAL);
	CHECK_INT(a, 7);
	CHECK_INT(b, 9);
	CHECK_INT(rh_range_parse(S("bytes=-30"), 10, &a, &b), RH_RANGE_PARTIAL);
	CHECK_INT(a, 0);
	/* beyond 4 GiB */
	CHECK_INT(rh_range_parse(S("bytes=5368709000-"), 5368709120ULL, &a, &b), RH_RANGE_PARTIAL);
	CHECK_INT(a, 5368709000ULL);
	CHECK_INT(b, 5368709119ULL);
	CHECK_INT(rh_range_parse(S("bytes=10-"), 10, &a, &b), RH_RANGE_UNSATISFIABLE);
	CHECK_INT(rh_range_parse(S("bytes=-0"), 10, &a, &b), RH_RANGE_UNSATISFIABLE);
	CHECK_INT(rh_range_parse(S("bytes=0-"), 0, &a, &b), RH_RANGE_UNSATISFIABLE);
	/* not understood: the whole file */
	CHECK_INT(rh_range_parse(S("bytes=3-1"), 10, &a, &b), RH_RANGE_WHOLE);
	CHECK_INT(rh_range_parse(S("bytes=0-1,3-4"), 10, &a, &b), RH_RANGE_WHOLE);
	CHECK_INT(rh_range_parse(S("items=0-1"), 10, &a, &b), RH_RANGE_WHOLE);
	CHECK_INT(rh_range_parse(S("bytes=a-1"), 10, &a, &b), RH_RANGE_WHOLE);
	CHECK_INT(rh_range_parse(S("bytes=99999999999999999999999-"), 10, &a, &b), RH_RANGE_WHOLE);
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

	CHECK(!rh_not_modified(&req, etag, 784111777));
	req.if_none_match = S("\"x\", W/\"1-2-3\"");
	CHECK(rh_not_modified(&req, etag, 784111777));
	req.if_none_match = S("*");
	CHECK(rh_not_modified(&req, etag, 784111777));
	req.if_none_match = S("\"1-2-4\"");
	req.if_modified_since = S("Sun, 06 Nov 1994 08:49:37 GMT");
	CHECK(!rh_not_modified(&req, etag, 784111777)); /* If-None-Match decides */
	req.if_none_match = (struct rh_str){ 0 };
	CHECK(rh_not_modified(&req, etag, 784111777));
	CHECK(!rh_not_modified(&req, etag, 784111778));

	CHECK(rh_if_range_holds(&req, etag, 1));
	req.if_range = etag;
	CHECK(rh_if_range_holds(&req, etag, 1));
	req.if_range = S("W/\"1-2-3\"");
	CHECK(!rh_if_range_holds(&req, etag, 1));
	req.if_range = S("Sun, 06 Nov 1994 08:49:37 GMT");
	CHECK(rh_if_range_holds(&req, etag, 784111777));
	CHECK(!rh_if_range_holds(&req, etag, 784111778));
}

int main(void)
{
	test_ranges();
	test_dates();
	test_conditions();
	return check_done("http_cond");
}
