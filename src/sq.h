/* Submission queue entries for a ring owned by one thread. */
#ifndef RH_SQ_H
#define RH_SQ_H

#include <liburing.h>

/* A free entry with room for N - 1 more behind it (linked entries must
 * reach the kernel in one submission), submitting what is queued when the
 * queue is full. NULL when the kernel takes nothing (-EBUSY, -EAGAIN: its
 * completion queue is full until the ring reaps): the caller fails the
 * operation it wanted to start, and the kernel is never asked in a loop. */
struct io_uring_sqe *rh_sq_get(struct io_uring *u, unsigned n);

#endif
