/* The status endpoint (`status_path`): who may ask (`status_allow`), and
 * the answer in the Prometheus text exposition format (version 0.0.4),
 * written from counters the rings keep without locks and the caller sums. */
#ifndef RH_METRICS_H
#define RH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peer.h"

#define RH_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* An address or a network of `status_allow`. */
struct rh_cidr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t prefix; /* 0 to 32 or 0 to 128 */
	uint8_t addr[16];
};

/* Parses "192.0.2.1", "2001:db8::1", "10.0.0.0/8" or "2001:db8::/32".
 * An IPv4-mapped IPv6 network ("::ffff:127.0.0.1", prefix 96 or more) is
 * kept as IPv4, as peers are. Bits set past the prefix are an error
 * ("10.0.0.1/8" is refused: did it mean /32 or 10.0.0.0/8?). On error
 * false with a message in MSG. */
bool rh_cidr_parse(struct rh_cidr *c, const char *text, char *msg, size_t msglen);
bool rh_cidr_contains(const struct rh_cidr *c, const struct rh_peer *peer);
/* Whether PEER is in one of ALLOW[0..N); never for an unknown peer. */
bool rh_status_allowed(const struct rh_cidr *allow, size_t n, const struct rh_peer *peer);

/* Summed counters, as of the moment of the request. */
struct rh_metrics {
	uint64_t requests[5]; /* responses by status class: [0] 1xx .. [4] 5xx */
	uint64_t bytes_sent;  /* response heads and bodies */
	uint64_t accepts;     /* connections accepted */
	uint64_t file_cache_hits;
	uint64_t file_cache_misses;
	uint64_t buffer_waits; /* times a connection waited for a pooled buffer */
	uint64_t tls_handshakes, tls_handshake_failures, tls_not_tls, ktls_connections;
	bool ktls; /* new TLS connections give sending to the kernel */
	uint64_t h2_connections, h2_streams, h2_misbehaving;
	uint64_t uptime_seconds;
	const uint64_t *open_connections; /* one per ring */
	size_t n_rings;
};

/* Writes the exposition into BUF (NUL-terminated when it fits) and returns
 * its full length like snprintf: it fits when below CAP; otherwise call
 * again with a buffer of the returned length plus one. The metrics, each
 * with its # HELP and # TYPE lines, in this order:
 *   ringhttpd_requests_total{class="1xx"} .. {class="5xx"}  counter
 *   ringhttpd_sent_bytes_total                             counter
 *   ringhttpd_open_connections{ring="0"} ..                 gauge
 *   ringhttpd_accepts_total                                counter
 *   ringhttpd_file_cache_hits_total                        counter
 *   ringhttpd_file_cache_misses_total                      counter
 *   ringhttpd_buffer_waits_total                           counter
 *   ringhttpd_uptime_seconds                               gauge
 *   ringhttpd_tls_handshakes_total                         counter
 *   ringhttpd_tls_handshake_failures_total                 counter
 *   ringhttpd_tls_not_tls_total                            counter
 *   ringhttpd_ktls_connections_total                       counter
 *   ringhttpd_ktls_enabled                                 gauge
 *   ringhttpd_http2_connections_total                      counter
 *   ringhttpd_http2_streams_total                          counter
 *   ringhttpd_http2_misbehaving_total                      counter */
size_t rh_metrics_write(char *buf, size_t cap, const struct rh_metrics *m);

#endif
