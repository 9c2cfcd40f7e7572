/* Response heads: exact bytes, and no head at all (0) when it does not
 * fit, at every capacity short of its length. */
#include <string.h>

#include "check.h"
#include "http_resp.h"

#define DATE "Tue, 01 Dec 2026 00:00:00 GMT"

static void test_head_bytes(void)
{
	struct rh_resp r = { .status = 200, .keep_alive = true, .date = DATE,
			     .content_type = "text/plain", .content_length = 5 };
	char buf[512];
	size_t n = rh_resp_head(buf, sizeof buf, &r);

	buf[n] = '\0';
	CHECK_STR(buf, "HTTP/1.1 200 OK\r\nServer: ringhttpd\r\nDate: " DATE "\r\n"
		       "Content-Type: text/plain\r\nContent-Length: 5\r\n"
		       "Connection: keep-alive\r\n\r\n");
	r = (struct rh_resp){ .status = 301, .date = DATE, .location = { "/d", 2 },
			      .location_slash = true, .location_query = { "a=1", 3 },
			      .location_has_query = true };
	n = rh_resp_head(buf, sizeof buf, &r);
	buf[n] = '\0';
	CHECK(strstr(buf, "\r\nLocation: /d/?a=1\r\n") != NULL);
	r = (struct rh_resp){ .status = 503, .date = DATE, .retry_after = 1 };
	n = rh_resp_error(buf, sizeof buf, &r);
	buf[n] = '\0';
	CHECK(strstr(buf, "\r\nRetry-After: 1\r\n") != NULL);
	CHECK(strstr(buf, "HTTP/1.1 503 Service Unavailable\r\n") == buf);
}

/* Every capacity below the full length gives 0, never a cut head. */
static void test_no_fit(void)
{
	struct rh_resp r = { .status = 404, .keep_alive = true, .date = DATE };
	char buf[1024];
	size_t full = rh_resp_error(buf, sizeof buf, &r), head;

	CHECK(full > 0);
	for (size_t cap = 0; cap < full; cap++) {
		r = (struct rh_resp){ .status = 404, .keep_alive = true, .date = DATE };
		CHECK_INT(rh_resp_error(buf, cap, &r), 0);
	}
	r = (struct rh_resp){ .status = 404, .keep_alive = true, .date = DATE };
	CHECK_INT(rh_resp_error(buf, full, &r), full);
	r = (struct rh_resp){ .status = 200, .date = DATE, .content_length = 1 };
	head = rh_resp_head(buf, sizeof buf, &r);
	for (size_t cap = 0; cap < head; cap++)
		CHECK_INT(rh_resp_head(buf, cap, &r), 0);
	CHECK_INT(rh_resp_head(buf, head, &r), head);
}

int main(void)
{
	test_head_bytes();
	test_no_fit();
	return check_done("http_resp");
}
