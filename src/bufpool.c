#include "bufpool.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

int rh_bufpool_init(struct rh_bufpool *p, size_t size, unsigned n_provided, unsigned n_owned)
{
	p->size = size;
	p->count = n_provided + n_owned;
	p->n_provided = n_provided;
	p->base = mmap(NULL, size * p->count, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->base == MAP_FAILED) {
		p->base = NULL;
		return -errno;
	}
	p->free = malloc(n_owned * sizeof *p->free);
	if (!p->free) {
		rh_bufpool_destroy(p);
		return -ENOMEM;
	}
	/* lowest index on top: reuse the buffers that are already warm */
	p->n_free = n_owned;
	for (unsigned i = 0; i < n_owned; i++)
		p->free[i] = p->count - 1 - i;
	return 0;
}

void rh_bufpool_destroy(struct rh_bufpool *p)
{
	if (p->base)
		munmap(p->base, p->size * p->count);
	free(p->free);
	p->base = NULL;
	p->free = NULL;
}

int rh_bufpool_get(struct rh_bufpool *p)
{
	return p->n_free ? (int)p->free[--p->n_free] : -1;
}

void rh_bufpool_put(struct rh_bufpool *p, uint32_t idx)
{
	p->free[p->n_free++] = idx;
}
