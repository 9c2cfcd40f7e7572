#include "startup.h"

void rh_startup_init(struct rh_startup *st)
{
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	st->n_set_up = st->n_accepting = 0;
	st->go = 0;
}

void rh_startup_destroy(struct rh_startup *st)
{
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->lock);
}

static void count(struct rh_startup *st, unsigned *counter)
{
	pthread_mutex_lock(&st->lock);
	++*counter;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
}

static void wait_for(struct rh_startup *st, unsigned *counter, unsigned n)
{
	pthread_mutex_lock(&st->lock);
	while (*counter < n)
		pthread_cond_wait(&st->cond, &st->lock);
	pthread_mutex_unlock(&st->lock);
}

bool rh_startup_ring_set_up(struct rh_startup *st)
{
	bool go;

	count(st, &st->n_set_up);
	pthread_mutex_lock(&st->lock);
	while (st->go == 0)
		pthread_cond_wait(&st->cond, &st->lock);
	go = st->go > 0;
	pthread_mutex_unlock(&st->lock);
	return go;
}

void rh_startup_ring_accepting(struct rh_startup *st)
{
	count(st, &st->n_accepting);
}

void rh_startup_wait_set_up(struct rh_startup *st, unsigned n)
{
	wait_for(st, &st->n_set_up, n);
}

void rh_startup_wait_accepting(struct rh_startup *st, unsigned n)
{
	wait_for(st, &st->n_accepting, n);
}

void rh_startup_go(struct rh_startup *st, bool serve)
{
	pthread_mutex_lock(&st->lock);
	st->go = serve ? 1 : -1;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
}
