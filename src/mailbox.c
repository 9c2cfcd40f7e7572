#include "mailbox.h"

#include <stdlib.h>
#include <sys/eventfd.h>

void rh_mailbox_init(struct rh_mailbox *m, int wake_fd)
{
	pthread_mutex_init(&m->lock, NULL);
	m->posted = NULL;
	m->n = m->cap = 0;
	m->wake_fd = wake_fd;
}

void rh_mailbox_destroy(struct rh_mailbox *m)
{
	pthread_mutex_destroy(&m->lock);
	free(m->posted);
	m->posted = NULL;
	m->n = m->cap = 0;
}

void rh_mailbox_post(void *mailbox, uint64_t token)
{
	struct rh_mailbox *m = mailbox;

	pthread_mutex_lock(&m->lock);
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		uint64_t *p = realloc(m->posted, cap * sizeof *p);

		if (p) {
			m->posted = p;
			m->cap = cap;
		}
	}
	if (m->n < m->cap)
		m->posted[m->n++] = token;
	pthread_mutex_unlock(&m->lock);
	eventfd_write(m->wake_fd, 1);
}

size_t rh_mailbox_take(struct rh_mailbox *m, uint64_t **taken, size_t *cap)
{
	uint64_t *p;
	size_t n, c;

	pthread_mutex_lock(&m->lock);
	n = m->n;
	p = m->posted;
	c = m->cap;
	m->posted = *taken;
	m->cap = *cap;
	m->n = 0;
	pthread_mutex_unlock(&m->lock);
	*taken = p;
	*cap = c;
	return n;
}
