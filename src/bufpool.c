#include "bufpool.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

static void ring_add(struct rh_bufpool *p, uint32_t idx)
{
	io_uring_buf_ring_add(p->br, rh_buf(p, idx), p->size, idx,
			      io_uring_buf_ring_mask(p->n_provided), 0);
	io_uring_buf_ring_advance(p->br, 1);
	p->owed--;
}

int rh_bufpool_init(struct rh_bufpool *p, struct io_uring *u, size_t size, unsigned n_provided,
		    unsigned count)
{
	struct io_uring_buf_reg reg = { 0 };
	int ret;

	p->size = size;
	p->count = count;
	p->n_provided = n_provided;
	p->base = mmap(NULL, size * count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	p->br_bytes = n_provided * sizeof(struct io_uring_buf);
	p->br = mmap(NULL, p->br_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p->free = malloc(count * sizeof *p->free);
	if (p->base == MAP_FAILED || p->br == MAP_FAILED || !p->free) {
		ret = p->free ? -errno : -ENOMEM;
		rh_bufpool_destroy(p);
		return ret;
	}
	reg.ring_addr = (uintptr_t)p->br;
	reg.ring_entries = n_provided;
	reg.bgid = 0;
	ret = io_uring_register_buf_ring(u, &reg, 0);
	if (ret < 0) {
		rh_bufpool_destroy(p);
		return ret;
	}
	io_uring_buf_ring_init(p->br);
	/* lowest index on top: reuse the buffers that are already warm */
	p->n_free = count;
	for (unsigned i = 0; i < count; i++)
		p->free[i] = count - 1 - i;
	p->owed = n_provided;
	rh_bufpool_refill(p);
	return 0;
}

void rh_bufpool_destroy(struct rh_bufpool *p)
{
	if (p->base && p->base != MAP_FAILED)
		munmap(p->base, p->size * p->count);
	if (p->br && p->br != MAP_FAILED)
		munmap(p->br, p->br_bytes);
	free(p->free);
	p->base = NULL;
	p->br = NULL;
	p->free = NULL;
}

int rh_bufpool_take(struct rh_bufpool *p)
{
	return p->n_free ? (int)p->free[--p->n_free] : -1;
}

void rh_bufpool_release(struct rh_bufpool *p, uint32_t idx)
{
	if (p->owed == p->n_provided)
		ring_add(p, idx);
	else
		p->free[p->n_free++] = idx;
}

void rh_bufpool_refill(struct rh_bufpool *p)
{
	while (p->owed && p->n_free)
		ring_add(p, p->free[--p->n_free]);
}
