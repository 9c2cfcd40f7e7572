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
};

#endif
