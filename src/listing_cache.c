#include "listing_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Slots are found by a fixed table: with the cache bounded in bytes and
 * a page being at least a few hundred, chains stay short. */
#define BUCKETS 1024

struct key {
	dev_t dev;
	ino_t ino;
	enum rh_listing_format format;
	bool hide_dotfiles;
	unsigned max_entries;
	size_t path_len;
	char *path; /* the title and the resolution path: part of the page */
};

struct waiter {
	rh_listing_wake_fn *wake;
	void *ctx;
	uint64_t token;
};

/* A build, queued or running: its own descriptors and who waits for it. */
struct job {
	struct job *next; /* in the queue */
	struct slot *slot;
	struct rh_listing_page *page; /* allocated when queued: a build always has one */
	int root_fd, dir_fd;
	struct waiter *waiters;
	size_t n_waiters, cap_waiters;
};

/* One key's place in the cache. It holds either a published page (and is
 * then on the LRU list) or a job, never both: a stale page is dropped
 * when its rebuild is queued. */
struct slot {
	struct slot *hnext;
	struct slot *prev, *next; /* LRU: most recent after the sentinel */
	uint64_t hash;
	struct key key;
	struct rh_listing_page *page;
	struct job *job;
	size_t bytes; /* charged to the cache while PAGE is set */
};

struct rh_listings {
	pthread_mutex_t mu;
	pthread_cond_t work;
	bool stopping;
	struct job *head, **tail;
	struct slot *bucket[BUCKETS];
	struct slot lru;
	size_t bytes, cap;
	unsigned n_threads;
	pthread_t thread[];
};

static struct rh_listing_page nomem_page = { .error = -ENOMEM, .is_static = true };

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3u;
	return h;
}

#define FNV_BASIS 0xcbf29ce484222325u

static uint64_t key_hash(const struct key *k)
{
	uint64_t h = FNV_BASIS;
	unsigned flags = k->format | (unsigned)k->hide_dotfiles << 1;

	h = fnv1a(h, &k->dev, sizeof k->dev);
	h = fnv1a(h, &k->ino, sizeof k->ino);
	h = fnv1a(h, &flags, sizeof flags);
	h = fnv1a(h, &k->max_entries, sizeof k->max_entries);
	return fnv1a(h, k->path, k->path_len);
}

static bool key_eq(const struct key *a, const struct key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->format == b->format &&
	       a->hide_dotfiles == b->hide_dotfiles && a->max_entries == b->max_entries &&
	       a->path_len == b->path_len && !memcmp(a->path, b->path, a->path_len);
}

static struct rh_listing_page *page_new(int error)
{
	struct rh_listing_page *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->error = error;
	atomic_init(&p->refs, 1);
	return p;
}

void rh_listing_page_put(struct rh_listing_page *p)
{
	if (p->is_static || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	free((char *)p->body);
	free(p);
}

static struct rh_listing_page *error_page(int error)
{
	struct rh_listing_page *p = page_new(error);

	return p ? p : &nomem_page;
}

/* Fills J's page from its own descriptors; ->error is set when the
 * directory cannot be read or the page not made. */
static void build(const struct job *j)
{
	const struct key *k = &j->slot->key;
	struct rh_listing_page *p = j->page;
	struct rh_listing_entries e;
	struct rh_buf b = { 0 };
	struct timespec ts;
	int err = rh_listing_collect(j->root_fd, k->path, k->path_len, j->dir_fd, k->hide_dotfiles,
				     k->max_entries, &e);

	if (!err) {
		err = rh_listing_render(&e, k->path, k->path_len, k->format, &b);
		if (!err) {
			char *fit = realloc(b.p, b.len); /* what the cache counts is what it holds */

			p->body = fit ? fit : b.p;
			p->len = b.len;
			p->etag_len = snprintf(p->etag_buf, sizeof p->etag_buf, "\"l-%016llx%s\"",
					       (unsigned long long)fnv1a(FNV_BASIS, p->body, p->len),
					       k->format == RH_LISTING_JSON ? "-j" : "");
			p->etag = p->etag_buf;
			p->mtime = e.newest;
			rh_http_date_format(p->mtime, p->last_modified);
			p->listed = e.n;
			p->total = e.total;
		} else {
			rh_buf_free(&b);
		}
		rh_listing_entries_free(&e);
	}
	p->error = err;
	/* the precise clock: never behind a ring's coarse NOW read earlier */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	p->built = ts.tv_sec;
}

static void lru_unlink(struct slot *s)
{
	s->prev->next = s->next;
	s->next->prev = s->prev;
}

static void lru_push(struct rh_listings *l, struct slot *s)
{
	s->prev = &l->lru;
	s->next = l->lru.next;
	s->next->prev = s;
	l->lru.next = s;
}

/* Takes the page out of S (on the LRU list, no job). */
static void drop_page(struct rh_listings *l, struct slot *s)
{
	lru_unlink(s);
	l->bytes -= s->bytes;
	rh_listing_page_put(s->page);
	s->page = NULL;
}

static void slot_free(struct rh_listings *l, struct slot *s)
{
	struct slot **pp = &l->bucket[s->hash % BUCKETS];

	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	free(s->key.path);
	free(s);
}

static void job_free(struct job *j)
{
	if (j->page)
		rh_listing_page_put(j->page);
	close(j->root_fd);
	close(j->dir_fd);
	free(j->waiters);
	free(j);
}

/* Least recently used first, never KEEP (the page just published). */
static void evict(struct rh_listings *l, const struct slot *keep)
{
	while (l->bytes > l->cap && l->lru.prev != keep) {
		struct slot *s = l->lru.prev;

		drop_page(l, s);
		slot_free(l, s);
	}
}

/* Publishes J's page into its slot, under the mutex. */
static void publish(struct rh_listings *l, struct job *j)
{
	struct slot *s = j->slot;
	struct rh_listing_page *p = j->page;

	j->page = NULL;
	s->job = NULL;
	s->page = p;
	s->bytes = sizeof *s + s->key.path_len + sizeof *p + p->len;
	l->bytes += s->bytes;
	lru_push(l, s);
	evict(l, s);
}

static void *worker(void *arg)
{
	struct rh_listings *l = arg;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		struct job *j;

		while (!l->stopping && !l->head)
			pthread_cond_wait(&l->work, &l->mu);
		if (l->stopping)
			break;
		j = l->head;
		l->head = j->next;
		if (!l->head)
			l->tail = &l->head;
		pthread_mutex_unlock(&l->mu);

		build(j); /* the slot's key is immutable and the slot stays while it has a job */

		pthread_mutex_lock(&l->mu);
		publish(l, j);
		pthread_mutex_unlock(&l->mu);
		/* outside the mutex: a woken ring may ask again at once */
		for (size_t i = 0; i < j->n_waiters; i++)
			j->waiters[i].wake(j->waiters[i].ctx, j->waiters[i].token);
		job_free(j);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int rh_listings_init(struct rh_listings **out, unsigned n_threads, size_t cache_bytes)
{
	struct rh_listings *l;
	sigset_t all, old;
	int err = 0;

	if (!n_threads)
		n_threads = 1;
	l = calloc(1, sizeof *l + n_threads * sizeof *l->thread);
	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->work, NULL);
	l->tail = &l->head;
	l->lru.prev = l->lru.next = &l->lru;
	l->cap = cache_bytes;
	/* the workers take no signal: the main thread handles them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; l->n_threads < n_threads; l->n_threads++) {
		err = -pthread_create(&l->thread[l->n_threads], NULL, worker, l);
		if (err)
			break;
		pthread_setname_np(l->thread[l->n_threads], "rh-listing");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		rh_listings_destroy(l);
		return err;
	}
	*out = l;
	return 0;
}

void rh_listings_destroy(struct rh_listings *l)
{
	pthread_mutex_lock(&l->mu);
	l->stopping = true;
	pthread_cond_broadcast(&l->work);
	pthread_mutex_unlock(&l->mu);
	for (unsigned i = 0; i < l->n_threads; i++)
		pthread_join(l->thread[i], NULL);
	while (l->head) {
		struct job *j = l->head;
		l->head = j->next;
		job_free(j);
	}
	for (size_t b = 0; b < BUCKETS; b++)
		while (l->bucket[b]) {
			struct slot *s = l->bucket[b];
			if (s->page)
				drop_page(l, s);
			slot_free(l, s);
		}
	pthread_cond_destroy(&l->work);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static bool add_waiter(struct job *j, rh_listing_wake_fn *wake, void *ctx, uint64_t token)
{
	if (j->n_waiters == j->cap_waiters) {
		size_t cap = j->cap_waiters ? 2 * j->cap_waiters : 4;
		struct waiter *v = realloc(j->waiters, cap * sizeof *v);

		if (!v)
			return false;
		j->waiters = v;
		j->cap_waiters = cap;
	}
	j->waiters[j->n_waiters++] = (struct waiter){ wake, ctx, token };
	return true;
}

static struct slot *find(struct rh_listings *l, const struct key *k, uint64_t hash)
{
	for (struct slot *s = l->bucket[hash % BUCKETS]; s; s = s->hnext)
		if (s->hash == hash && key_eq(&s->key, k))
			return s;
	return NULL;
}

static struct slot *slot_new(struct rh_listings *l, const struct key *k, uint64_t hash)
{
	struct slot *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->key = *k;
	s->key.path = malloc(k->path_len ? k->path_len : 1);
	if (!s->key.path) {
		free(s);
		return NULL;
	}
	memcpy(s->key.path, k->path, k->path_len);
	s->hash = hash;
	s->hnext = l->bucket[hash % BUCKETS];
	l->bucket[hash % BUCKETS] = s;
	return s;
}

/* A job for S with its own descriptors, queued. -errno. */
static int queue(struct rh_listings *l, struct slot *s, const struct rh_listing_want *w)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j || !(j->page = page_new(0))) {
		free(j);
		return -ENOMEM;
	}
	j->root_fd = fcntl(w->root_fd, F_DUPFD_CLOEXEC, 0);
	j->dir_fd = j->root_fd < 0 ? -1 : fcntl(w->dir_fd, F_DUPFD_CLOEXEC, 0);
	if (j->dir_fd < 0) {
		int err = -errno;
		if (j->root_fd >= 0)
			close(j->root_fd);
		rh_listing_page_put(j->page);
		free(j);
		return err;
	}
	j->slot = s;
	s->job = j;
	*l->tail = j;
	l->tail = &j->next;
	pthread_cond_signal(&l->work);
	return 0;
}

struct rh_listing_page *rh_listings_get(struct rh_listings *l, const struct rh_listing_want *w,
					time_t now, rh_listing_wake_fn *wake, void *wake_ctx,
					uint64_t token)
{
	struct key k = { w->dir_st->st_dev, w->dir_st->st_ino, w->format, w->hide_dotfiles,
			 w->max_entries, w->path_len, (char *)w->path };
	uint64_t hash = key_hash(&k);
	struct rh_listing_page *p = NULL;
	struct slot *s;
	int err = 0;

	pthread_mutex_lock(&l->mu);
	s = find(l, &k, hash);
	if (s && s->page) {
		if (s->page->built >= now) {
			p = s->page;
			atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
			lru_unlink(s);
			lru_push(l, s);
			goto out;
		}
		drop_page(l, s); /* stale: rebuilt below */
	}
	if (!s && !(s = slot_new(l, &k, hash))) {
		err = -ENOMEM;
		goto out;
	}
	if (!s->job && (err = queue(l, s, w)) < 0) {
		slot_free(l, s);
		goto out;
	}
	if (!add_waiter(s->job, wake, wake_ctx, token))
		err = -ENOMEM;
out:
	pthread_mutex_unlock(&l->mu);
	return err ? error_page(err) : p;
}
