/* What the status endpoint counts, per ring, summed when asked: written
 * by the ring's thread, read by any, without locks. */
#ifndef RH_STATS_H
#define RH_STATS_H

#include <stdatomic.h>

struct rh_ring_stats {
	atomic_uint_fast64_t responses[5]; /* by status class, 1xx to 5xx */
	atomic_uint_fast64_t bytes_sent;
	atomic_uint_fast64_t accepts;
	atomic_uint_fast64_t buffer_waits;
	atomic_uint_fast64_t tls_handshakes;	/* completed */
	atomic_uint_fast64_t tls_failures;	/* handshakes that failed */
	atomic_uint_fast64_t tls_not_tls;	/* of them, bytes that were not TLS */
	atomic_uint_fast64_t ktls_connections; /* handshakes that gave sending to the kernel */
	atomic_uint_fast64_t h2_connections;	/* connections that spoke HTTP/2 */
	atomic_uint_fast64_t h2_streams;	/* requests on them */
	atomic_uint_fast64_t h2_misbehaving;	/* connections ended for breaking a limit */
};

#endif
