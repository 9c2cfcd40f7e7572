/* Buffers allocated once at start: one mapping, cut into equal buffers.
 * The first `n_provided` feed the ring's provided-buffer ring (receives);
 * the others are handed out for responses and partial requests. */
#ifndef RH_BUFPOOL_H
#define RH_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

struct rh_bufpool {
	char *base;
	size_t size;	    /* of one buffer */
	unsigned count;	    /* all buffers */
	unsigned n_provided; /* buffers 0 .. n_provided-1 */
	uint32_t *free;	    /* stack of free buffer indexes */
	unsigned n_free;
};

int rh_bufpool_init(struct rh_bufpool *p, size_t size, unsigned n_provided, unsigned n_owned);
void rh_bufpool_destroy(struct rh_bufpool *p);

static inline char *rh_buf(const struct rh_bufpool *p, uint32_t idx)
{
	return p->base + (size_t)idx * p->size;
}

/* A free buffer's index, or -1 when all are in use. */
int rh_bufpool_get(struct rh_bufpool *p);
void rh_bufpool_put(struct rh_bufpool *p, uint32_t idx);

#endif
