/* The monotonic clock in microseconds: durations in logs, readiness. */
#ifndef RH_CLOCK_H
#define RH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t rh_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

#endif
