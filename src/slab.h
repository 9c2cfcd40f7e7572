/* Fixed-size objects for the records a response needs while it is in
 * flight. The slab grows in blocks as more responses run at once and
 * keeps what it grew, so the steady state allocates nothing. */
#ifndef RH_SLAB_H
#define RH_SLAB_H

#include <stddef.h>

struct rh_slab {
	size_t size;	  /* of one object */
	void *free;	  /* free objects, linked through their first word */
	void **blocks;	  /* every block allocated, for destroy */
	size_t n_blocks, cap_blocks;
};

void rh_slab_init(struct rh_slab *s, size_t size);
void rh_slab_destroy(struct rh_slab *s);
/* An object, or NULL when memory is exhausted. */
void *rh_slab_get(struct rh_slab *s);
void rh_slab_put(struct rh_slab *s, void *obj);

#endif
