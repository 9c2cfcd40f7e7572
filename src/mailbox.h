/* A ring's mailbox: other threads post tokens into it (a listing built
 * for one of its connections), and the ring takes them when its eventfd
 * wakes it. Posting takes a short lock and never waits for the ring. */
#ifndef RH_MAILBOX_H
#define RH_MAILBOX_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct rh_mailbox {
	pthread_mutex_t lock;
	uint64_t *posted; /* tokens posted since the last take */
	size_t n, cap;
	int wake_fd; /* the ring's eventfd, written after each post */
};

void rh_mailbox_init(struct rh_mailbox *m, int wake_fd);
void rh_mailbox_destroy(struct rh_mailbox *m);
/* From any thread: TOKEN for the ring. A token that finds no room (out of
 * memory) is lost; its connection ends by its timeout. */
void rh_mailbox_post(void *mailbox, uint64_t token);
/* On the ring: the tokens posted, swapped into *TAKEN (of *CAP, grown as
 * needed); returns how many. */
size_t rh_mailbox_take(struct rh_mailbox *m, uint64_t **taken, size_t *cap);

#endif
