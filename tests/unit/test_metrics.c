#include <arpa/inet.h>
#include <string.h>

#include "check.h"
#include "metrics.h"

static const char want[] =
	"# HELP ringhttpd_requests_total Responses sent, by status class.\n"
	"# TYPE ringhttpd_requests_total counter\n"
	"ringhttpd_requests_total{class=\"1xx\"} 0\n"
	"ringhttpd_requests_total{class=\"2xx\"} 1234\n"
	"ringhttpd_requests_total{class=\"3xx\"} 5\n"
	"ringhttpd_requests_total{class=\"4xx\"} 6\n"
	"ringhttpd_requests_total{class=\"5xx\"} 18446744073709551615\n"
	"# HELP ringhttpd_sent_bytes_total Bytes sent to clients, response heads included.\n"
	"# TYPE ringhttpd_sent_bytes_total counter\n"
	"ringhttpd_sent_bytes_total 987654321\n"
	"# HELP ringhttpd_open_connections Connections open, by ring.\n"
	"# TYPE ringhttpd_open_connections gauge\n"
	"ringhttpd_open_connections{ring=\"0\"} 3\n"
	"ringhttpd_open_connections{ring=\"1\"} 0\n"
	"# HELP ringhttpd_accepts_total Connections accepted.\n"
	"# TYPE ringhttpd_accepts_total counter\n"
	"ringhttpd_accepts_total 42\n"
	"# HELP ringhttpd_file_cache_hits_total Files found in the open-file cache.\n"
	"# TYPE ringhttpd_file_cache_hits_total counter\n"
	"ringhttpd_file_cache_hits_total 100\n"
	"# HELP ringhttpd_file_cache_misses_total Files opened because the open-file cache did not hold them.\n"
	"# TYPE ringhttpd_file_cache_misses_total counter\n"
	"ringhttpd_file_cache_misses_total 7\n"
	"# HELP ringhttpd_buffer_waits_total Times a connection waited for a free pooled buffer.\n"
	"# TYPE ringhttpd_buffer_waits_total counter\n"
	"ringhttpd_buffer_waits_total 2\n"
	"# HELP ringhttpd_uptime_seconds Seconds since the server started.\n"
	"# TYPE ringhttpd_uptime_seconds gauge\n"
	"ringhttpd_uptime_seconds 3600\n"
	"# HELP ringhttpd_tls_handshakes_total TLS handshakes completed.\n"
	"# TYPE ringhttpd_tls_handshakes_total counter\n"
	"ringhttpd_tls_handshakes_total 9\n"
	"# HELP ringhttpd_tls_handshake_failures_total TLS handshakes that failed (an alert was sent "
	"where it could be).\n"
	"# TYPE ringhttpd_tls_handshake_failures_total counter\n"
	"ringhttpd_tls_handshake_failures_total 3\n"
	"# HELP ringhttpd_tls_not_tls_total Connections to a TLS socket whose first bytes were not "
	"TLS.\n"
	"# TYPE ringhttpd_tls_not_tls_total counter\n"
	"ringhttpd_tls_not_tls_total 1\n"
	"# HELP ringhttpd_ktls_connections_total TLS connections whose sending the kernel took "
	"(kTLS).\n"
	"# TYPE ringhttpd_ktls_connections_total counter\n"
	"ringhttpd_ktls_connections_total 7\n"
	"# HELP ringhttpd_ktls_enabled 1 when new TLS connections give their sending to the kernel "
	"(kTLS).\n"
	"# TYPE ringhttpd_ktls_enabled gauge\n"
	"ringhttpd_ktls_enabled 1\n"
	"# HELP ringhttpd_http2_connections_total Connections that spoke HTTP/2.\n"
	"# TYPE ringhttpd_http2_connections_total counter\n"
	"ringhttpd_http2_connections_total 4\n"
	"# HELP ringhttpd_http2_streams_total Requests on HTTP/2 connections.\n"
	"# TYPE ringhttpd_http2_streams_total counter\n"
	"ringhttpd_http2_streams_total 40\n"
	"# HELP ringhttpd_http2_misbehaving_total HTTP/2 connections ended for breaking a limit "
	"(GOAWAY ENHANCE_YOUR_CALM).\n"
	"# TYPE ringhttpd_http2_misbehaving_total counter\n"
	"ringhttpd_http2_misbehaving_total 2\n";

static struct rh_peer peer(const char *text)
{
	struct rh_peer p = { 0 };

	if (inet_pton(AF_INET, text, p.addr) == 1)
		p.family = AF_INET;
	else if (inet_pton(AF_INET6, text, p.addr) == 1)
		p.family = AF_INET6;
	return p;
}

static bool allowed(const char *cidr, const char *addr)
{
	struct rh_cidr c;
	struct rh_peer p = peer(addr);
	char msg[200];

	CHECK(rh_cidr_parse(&c, cidr, msg, sizeof msg));
	return rh_status_allowed(&c, 1, &p);
}

int main(void)
{
	static const uint64_t open[] = { 3, 0 };
	struct rh_metrics m = { .requests = { 0, 1234, 5, 6, UINT64_MAX },
				.bytes_sent = 987654321,
				.accepts = 42,
				.file_cache_hits = 100,
				.file_cache_misses = 7,
				.buffer_waits = 2,
				.uptime_seconds = 3600, .tls_handshakes = 9, .tls_handshake_failures = 3,
				.tls_not_tls = 1, .ktls_connections = 7, .ktls = true,
				.h2_connections = 4, .h2_streams = 40, .h2_misbehaving = 2,
				.open_connections = open,
				.n_rings = 2 };
	char buf[4096], small[16], msg[200];
	struct rh_cidr c;
	struct rh_peer unknown = { 0 };
	size_t n = rh_metrics_write(buf, sizeof buf, &m);

	CHECK_INT(n, strlen(want));
	CHECK_STR(buf, want);
	CHECK_INT(rh_metrics_write(small, sizeof small, &m), strlen(want));
	CHECK_STR(small, "# HELP ringhttp");
	CHECK_INT(rh_metrics_write(NULL, 0, &m), strlen(want));

	/* status_allow */
	CHECK(allowed("127.0.0.1", "127.0.0.1"));
	CHECK(!allowed("127.0.0.1", "127.0.0.2"));
	CHECK(!allowed("127.0.0.1", "::1"));
	CHECK(allowed("::1", "::1"));
	CHECK(!allowed("::1", "127.0.0.1"));
	CHECK(allowed("10.0.0.0/8", "10.255.1.2"));
	CHECK(!allowed("10.0.0.0/8", "11.0.0.1"));
	CHECK(allowed("192.168.1.128/25", "192.168.1.200"));
	CHECK(!allowed("192.168.1.128/25", "192.168.1.100"));
	CHECK(allowed("0.0.0.0/0", "203.0.113.9"));
	CHECK(!allowed("0.0.0.0/0", "2001:db8::1"));
	CHECK(allowed("2001:db8::/32", "2001:db8:1::5"));
	CHECK(!allowed("2001:db8::/32", "2001:db9::5"));
	CHECK(allowed("fe80::/10", "febf::1"));
	CHECK(!allowed("fe80::/10", "fec0::1"));
	CHECK(allowed("::ffff:127.0.0.1", "127.0.0.1"));
	CHECK(allowed("::ffff:10.0.0.0/104", "10.9.8.7"));
	CHECK(rh_cidr_parse(&c, "127.0.0.1", msg, sizeof msg));
	CHECK(!rh_status_allowed(&c, 1, &unknown));
	CHECK(!rh_status_allowed(&c, 0, &unknown));
	CHECK(!rh_cidr_parse(&c, "10.0.0.0/", msg, sizeof msg));
	CHECK_STR(msg, "\"10.0.0.0/\" is not an IPv4 or IPv6 address, optionally with a /prefix length");
	CHECK(!rh_cidr_parse(&c, "10.0.0.0/-1", msg, sizeof msg));
	CHECK(!rh_cidr_parse(&c, "::1/129", msg, sizeof msg));
	CHECK(!rh_cidr_parse(&c, "2001:db8::1/32", msg, sizeof msg));
	CHECK_STR(msg, "\"2001:db8::1/32\" has bits set past its prefix /32");
	CHECK(!rh_cidr_parse(&c, "", msg, sizeof msg));
	return check_done("test_metrics");
}
