#include "slab.h"

#include <stdlib.h>

#define OBJECTS_PER_BLOCK 64

void rh_slab_init(struct rh_slab *s, size_t size)
{
	*s = (struct rh_slab){ .size = (size + 15) & ~(size_t)15 };
}

void rh_slab_destroy(struct rh_slab *s)
{
	for (size_t i = 0; i < s->n_blocks; i++)
		free(s->blocks[i]);
	free(s->blocks);
	*s = (struct rh_slab){ .size = s->size };
}

static int grow(struct rh_slab *s)
{
	char *block;

	if (s->n_blocks == s->cap_blocks) {
		size_t cap = s->cap_blocks ? 2 * s->cap_blocks : 16;
		void **blocks = realloc(s->blocks, cap * sizeof *blocks);
		if (!blocks)
			return -1;
		s->blocks = blocks;
		s->cap_blocks = cap;
	}
	block = malloc(s->size * OBJECTS_PER_BLOCK);
	if (!block)
		return -1;
	s->blocks[s->n_blocks++] = block;
	for (size_t i = 0; i < OBJECTS_PER_BLOCK; i++) {
		void *obj = block + i * s->size;
		*(void **)obj = s->free;
		s->free = obj;
	}
	return 0;
}

void *rh_slab_get(struct rh_slab *s)
{
	void *obj;

	if (!s->free && grow(s) < 0)
		return NULL;
	obj = s->free;
	s->free = *(void **)obj;
	return obj;
}

void rh_slab_put(struct rh_slab *s, void *obj)
{
	*(void **)obj = s->free;
	s->free = obj;
}
