/* The ring's buffers, allocated once at start: one mapping cut into equal
 * buffers. Some of them sit in the kernel's provided-buffer ring, where a
 * receive takes one only when bytes arrive, so an idle connection holds
 * none; the others are free for responses read from files. Every buffer
 * comes back here when its bytes are done with, and the pool decides
 * where it goes next. */
#ifndef RH_BUFPOOL_H
#define RH_BUFPOOL_H

#include <liburing.h>
#include <stddef.h>
#include <stdint.h>

struct rh_bufpool {
	char *base;
	size_t size;	     /* of one buffer */
	unsigned count;	     /* all buffers */
	unsigned n_provided; /* the size of the provided-buffer ring */
	unsigned owed;	     /* buffers receives took from that ring, not yet back */
	uint32_t *free;	     /* stack of free buffer indexes */
	unsigned n_free;
	unsigned waiters;    /* responses queued for a buffer, first come first served */
	struct io_uring_buf_ring *br;
	size_t br_bytes;
};

/* COUNT buffers of SIZE bytes, N_PROVIDED of them (a power of two, less
 * than COUNT) registered as buffer group 0 of U. */
int rh_bufpool_init(struct rh_bufpool *p, struct io_uring *u, size_t size, unsigned n_provided,
		    unsigned count);
void rh_bufpool_destroy(struct rh_bufpool *p);

static inline char *rh_buf(const struct rh_bufpool *p, uint32_t idx)
{
	return p->base + (size_t)idx * p->size;
}

/* A receive completed into buffer IDX of the provided ring. */
static inline void rh_bufpool_received(struct rh_bufpool *p)
{
	p->owed++;
}

/* Buffers the provided ring holds for receives right now. */
static inline unsigned rh_bufpool_ring_ready(const struct rh_bufpool *p)
{
	return p->n_provided - p->owed;
}

/* A free buffer's index, or -1 when none is free. */
int rh_bufpool_take(struct rh_bufpool *p);
/* A free buffer for a response, unless others wait for one first. */
static inline int rh_bufpool_take_in_turn(struct rh_bufpool *p)
{
	return p->waiters ? -1 : rh_bufpool_take(p);
}
/* Buffer IDX is done with: it refills the provided ring when that is
 * empty, otherwise it is free (the ring is topped up from free buffers
 * by rh_bufpool_refill once waiting responses had theirs). */
void rh_bufpool_release(struct rh_bufpool *p, uint32_t idx);
/* Moves free buffers into the provided ring until it is full. */
void rh_bufpool_refill(struct rh_bufpool *p);

#endif
