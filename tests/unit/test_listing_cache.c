/* The listing cache with real directories and its worker thread: builds
 * queued and joined, each waiter woken once, pages shared, rebuilt after
 * their second with validators of what they show, evicted by bytes while
 * still referenced, and directory errors reported. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "listing_cache.h"

#define T 1704164645 /* 2024-01-02 03:04:05 UTC */
#define HOLD (1ull << 63) /* the wake waits for release before returning */

/* What a ring does on a wake: the token into a pipe it polls. */
struct waker {
	int pipe[2];
	sem_t entered, release;
};

static void wake(void *ctx, uint64_t token)
{
	struct waker *w = ctx;

	if (write(w->pipe[1], &token, sizeof token) != sizeof token)
		abort();
	if (token & HOLD) {
		sem_post(&w->entered);
		sem_wait(&w->release);
	}
}

static void waker_init(struct waker *w)
{
	if (pipe2(w->pipe, O_CLOEXEC)) /* no CHECK: rings call it on their threads */
		abort();
	sem_init(&w->entered, 0, 0);
	sem_init(&w->release, 0, 0);
}

static void waker_close(struct waker *w)
{
	close(w->pipe[0]);
	close(w->pipe[1]);
	sem_destroy(&w->entered);
	sem_destroy(&w->release);
}

/* The next token woken, or 0 if none comes within TIMEOUT_MS. */
static uint64_t next_token(struct waker *w, int timeout_ms)
{
	struct pollfd pfd = { w->pipe[0], POLLIN, 0 };
	uint64_t token;

	if (poll(&pfd, 1, timeout_ms) != 1 || read(w->pipe[0], &token, sizeof token) != sizeof token)
		return 0;
	return token;
}

static time_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* Polls the clock into the second after T: what makes a page stale. */
static time_t second_after(time_t t)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	while (mono() <= t)
		nanosleep(&tick, NULL);
	return mono();
}

static int root, tmp;
static struct stat dir_st;

static struct rh_listing_want want(int dir_fd, const char *path, enum rh_listing_format f,
				   unsigned max)
{
	CHECK_INT(fstat(dir_fd, &dir_st), 0);
	return (struct rh_listing_want){ root, dir_fd, &dir_st, path, strlen(path), f, true, max };
}

/* A page as a ring gets it: asked, woken, asked again with the same NOW. */
static struct rh_listing_page *get_wait(struct rh_listings *l, const struct rh_listing_want *w,
					time_t now, struct waker *wk, uint64_t token)
{
	struct rh_listing_page *p = rh_listings_get(l, w, now, wake, wk, token);

	if (p)
		return p;
	CHECK_INT(next_token(wk, 10000), token);
	p = rh_listings_get(l, w, now, wake, wk, token);
	CHECK(p != NULL);
	return p;
}

static void put_file(int at, const char *name, const char *content, int flags, time_t mtime)
{
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	int fd = openat(at, name, O_WRONLY | O_CREAT | flags, 0644);

	CHECK(fd >= 0);
	CHECK_INT(write(fd, content, strlen(content)), strlen(content));
	close(fd);
	CHECK_INT(utimensat(at, name, ts, 0), 0);
}

/* Page bodies are not NUL-terminated. */
static bool has(const struct rh_listing_page *p, const char *s)
{
	return p->body && memmem(p->body, p->len, s, strlen(s));
}

static bool ends_with(const char *s, size_t len, const char *end)
{
	return len >= strlen(end) && !memcmp(s + len - strlen(end), end, strlen(end));
}

/* One build per key whatever the number of waiters; every waiter woken
 * once; the published page is the one every later request shares. */
static void test_joined_and_shared(int d)
{
	struct rh_listing_want html = want(d, "/d/", RH_LISTING_HTML, 100),
			       json = want(d, "/d/", RH_LISTING_JSON, 100);
	struct rh_listings *l;
	struct rh_listing_page *a, *a2, *j, *j2;
	struct waker wk;
	time_t now = mono();
	struct timespec limit;

	waker_init(&wk);
	CHECK_INT(rh_listings_init(&l, 1, 1 << 20), 0);
	CHECK(rh_listings_get(l, &html, now, wake, &wk, HOLD | 1) == NULL);
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += 10;
	CHECK_INT(sem_timedwait(&wk.entered, &limit), 0);
	/* the worker is held in the wake: the page is published before it */
	CHECK_INT(next_token(&wk, 0), HOLD | 1);
	a = rh_listings_get(l, &html, now, wake, &wk, 9);
	CHECK(a != NULL);
	a2 = rh_listings_get(l, &html, now, wake, &wk, 9);
	CHECK(a2 == a);
	/* the JSON form is another key: queued, and joined, while the worker is held */
	CHECK(rh_listings_get(l, &json, now, wake, &wk, HOLD | 2) == NULL);
	CHECK(rh_listings_get(l, &json, now, wake, &wk, 3) == NULL);
	CHECK(rh_listings_get(l, &json, now, wake, &wk, 4) == NULL);
	sem_post(&wk.release);
	CHECK_INT(sem_timedwait(&wk.entered, &limit), 0);
	CHECK_INT(next_token(&wk, 0), HOLD | 2);
	j = rh_listings_get(l, &json, now, wake, &wk, 9);
	CHECK(j != NULL);
	sem_post(&wk.release);
	CHECK_INT(next_token(&wk, 10000), 3);
	CHECK_INT(next_token(&wk, 10000), 4);
	/* had 3 or 4 queued a build of its own, that build would now be the page */
	j2 = rh_listings_get(l, &json, now, wake, &wk, 9);
	CHECK(j2 == j);
	rh_listings_destroy(l);
	CHECK_INT(next_token(&wk, 0), 0); /* no other wake, ever: the worker is gone */

	CHECK(a && j && a->body && j->body);
	if (a && j) {
		CHECK_INT(a->error, 0);
		CHECK(ends_with(a->body, a->len, "</table>\n</body>\n</html>\n"));
		CHECK(!memcmp(j->body, "[{\"name\":\"a.txt\"", 16));
		CHECK(a->etag_len == strlen(a->etag) && !strncmp(a->etag, "\"l-", 3));
		CHECK(ends_with(j->etag, j->etag_len, "-j\""));
		CHECK(!ends_with(a->etag, a->etag_len, "-j\""));
		CHECK_INT(a->etag_len, 20);
		CHECK_INT(j->etag_len, 22);
	}
	/* pages outlive the module while referenced */
	rh_listing_page_put(a);
	rh_listing_page_put(a2);
	rh_listing_page_put(j);
	rh_listing_page_put(j2);
	waker_close(&wk);
}

/* A page is reused in its second only; the one built after shows the
 * change, with a new strong tag: an append (same mtime), a same-size
 * rewrite with a new mtime. Last-Modified is the newest listed mtime. */
static void test_freshness(int d)
{
	struct rh_listing_want w = want(d, "/d/", RH_LISTING_HTML, 100);
	struct rh_listing_page *p1, *p2, *p3, *again;
	struct rh_listings *l;
	struct waker wk;
	char *body1, date[RH_HTTP_DATE_LEN + 1];
	time_t now;

	waker_init(&wk);
	CHECK_INT(rh_listings_init(&l, 1, 1 << 20), 0);
	p1 = get_wait(l, &w, mono(), &wk, 1);
	CHECK(p1->body && has(p1, "<td>5</td>"));
	CHECK_INT(p1->mtime, T + 7); /* the directory's, newer than a.txt's */
	rh_http_date_format(T + 7, date);
	CHECK_STR(p1->last_modified, date);
	body1 = strndup(p1->body, p1->len);
	again = rh_listings_get(l, &w, p1->built, wake, &wk, 2);
	CHECK(again == p1);
	rh_listing_page_put(again);

	put_file(d, "a.txt", " world", O_APPEND, T); /* 11 bytes, the same mtime */
	now = second_after(p1->built);
	p2 = get_wait(l, &w, now, &wk, 3);
	CHECK(p2 != p1);
	CHECK(has(p2, "<td>11</td>"));
	CHECK(p2->etag_len != p1->etag_len || memcmp(p2->etag, p1->etag, p1->etag_len));
	/* p1 left the cache, and is still whole for whoever sends it */
	CHECK_MEM(p1->body, p1->len, body1);

	put_file(d, "a.txt", "HELLO WORLD", O_TRUNC, T + 100);
	now = second_after(p2->built);
	p3 = get_wait(l, &w, now, &wk, 4);
	CHECK(has(p3, "<td>11</td><td>2024-01-02 03:05:45</td>"));
	CHECK(p3->etag_len != p2->etag_len || memcmp(p3->etag, p2->etag, p2->etag_len));
	CHECK_INT(p3->mtime, T + 100);
	rh_http_date_format(T + 100, date);
	CHECK_STR(p3->last_modified, date);

	rh_listing_page_put(p1);
	rh_listing_page_put(p2);
	rh_listing_page_put(p3);
	rh_listings_destroy(l);
	CHECK_INT(next_token(&wk, 0), 0);
	free(body1);
	waker_close(&wk);
	put_file(d, "a.txt", "hello", O_TRUNC, T);
}

/* MAX_ENTRIES is part of the key and caps the page. */
static void test_cap(int d)
{
	struct rh_listing_want w2 = want(d, "/d/", RH_LISTING_HTML, 2),
			       w9 = want(d, "/d/", RH_LISTING_HTML, 9);
	struct rh_listing_page *p2, *p9;
	struct rh_listings *l;
	struct waker wk;

	waker_init(&wk);
	CHECK_INT(rh_listings_init(&l, 1, 1 << 20), 0);
	p2 = get_wait(l, &w2, mono(), &wk, 1);
	p9 = get_wait(l, &w9, mono(), &wk, 2);
	CHECK_INT(p2->listed, 2);
	CHECK_INT(p2->total, 3);
	CHECK(ends_with(p2->body, p2->len, "</table>\n<p>The first 2 of 3 entries are shown.</p>\n"
					   "</body>\n</html>\n"));
	CHECK(has(p2, ">b.txt<") && !has(p2, ">c.txt<"));
	CHECK_INT(p9->listed, 3);
	CHECK_INT(p9->total, 3);
	CHECK(!has(p9, "<p>"));
	rh_listing_page_put(p2);
	rh_listing_page_put(p9);
	rh_listings_destroy(l);
	waker_close(&wk);
}

/* The cache holds what fits in its bytes, least recently used out first;
 * a page evicted while referenced stays whole until put. */
static void test_eviction(int d)
{
	struct rh_listing_page *first, *p;
	struct rh_listing_want w;
	struct rh_listings *l;
	struct waker wk;
	time_t now = mono();
	char *body;

	waker_init(&wk);
	CHECK_INT(rh_listings_init(&l, 1, 8192), 0); /* a few pages */
	w = want(d, "/d/", RH_LISTING_HTML, 1000);
	first = get_wait(l, &w, now, &wk, 1000);
	body = strndup(first->body, first->len);
	for (unsigned max = 1; max <= 40; max++) { /* each cap is another key */
		w = want(d, "/d/", RH_LISTING_HTML, max);
		rh_listing_page_put(get_wait(l, &w, now, &wk, max));
	}
	/* the newest is still there, the first is not, though in its second */
	p = rh_listings_get(l, &w, now, wake, &wk, 99);
	CHECK(p != NULL);
	if (p)
		rh_listing_page_put(p);
	w = want(d, "/d/", RH_LISTING_HTML, 1000);
	p = get_wait(l, &w, now, &wk, 100);
	CHECK(p != first);
	CHECK_MEM(first->body, first->len, body);
	CHECK_MEM(p->body, p->len, body);
	rh_listing_page_put(p);
	rh_listing_page_put(first);
	rh_listings_destroy(l);
	free(body);
	waker_close(&wk);
}

/* ERRNO reported by a page of the directory DIR_FD. */
static int error_of(int dir_fd)
{
	struct rh_listing_want w = want(dir_fd, "/x/", RH_LISTING_HTML, 10);
	struct rh_listing_page *p, *again;
	struct rh_listings *l;
	struct waker wk;
	time_t now = mono();
	int err;

	waker_init(&wk);
	if (rh_listings_init(&l, 1, 1 << 20))
		return 1;
	p = get_wait(l, &w, now, &wk, 7);
	err = p->error;
	if (p->body || p->len || p->etag)
		err = 1;
	/* cached like any page */
	again = rh_listings_get(l, &w, now, wake, &wk, 8);
	if (again != p)
		err = 2;
	if (again)
		rh_listing_page_put(again);
	rh_listing_page_put(p);
	rh_listings_destroy(l);
	waker_close(&wk);
	return err;
}

static void test_errors(void)
{
	int gone, secret, status;
	pid_t pid;

	/* a directory removed while listed */
	CHECK_INT(mkdirat(tmp, "gone", 0755), 0);
	gone = openat(tmp, "gone", O_PATH | O_DIRECTORY);
	CHECK_INT(unlinkat(tmp, "gone", AT_REMOVEDIR), 0);
	CHECK_INT(error_of(gone), -ENOENT);
	close(gone);

	/* one the server may not read: as an unprivileged user, root being
	 * allowed everything */
	CHECK_INT(mkdirat(tmp, "secret", 0700), 0);
	secret = openat(tmp, "secret", O_PATH | O_DIRECTORY);
	if (geteuid()) {
		CHECK_INT(error_of(secret), -EACCES);
	} else {
		pid = fork();
		if (!pid) {
			if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
				_exit(3);
			_exit(error_of(secret) == -EACCES ? 0 : 4);
		}
		CHECK_INT(waitpid(pid, &status, 0), pid);
		CHECK(WIFEXITED(status));
		CHECK_INT(WEXITSTATUS(status), 0);
	}
	close(secret);
	unlinkat(tmp, "secret", AT_REMOVEDIR);
}

/* Rings on several threads asking for many keys in a cache that keeps
 * few: builds, joins, evictions and puts racing (run under TSan too). */
#define RINGS 4
#define ROUNDS 300

static int stress_dir;
static atomic_int stress_failures;

static void *ring(void *arg)
{
	struct rh_listings *l = arg;
	struct waker wk;

	waker_init(&wk);
	for (unsigned i = 0; i < ROUNDS; i++) {
		struct stat st;
		struct rh_listing_want w = { root, stress_dir, &st, "/d/", 3,
					     i & 1 ? RH_LISTING_JSON : RH_LISTING_HTML, true, i % 20 + 1 };
		struct rh_listing_page *p;
		time_t now = mono();
		unsigned tries = 0;

		fstat(stress_dir, &st);
		while (!(p = rh_listings_get(l, &w, now, wake, &wk, i + 1)) && tries++ < 100)
			if (next_token(&wk, 10000) != i + 1)
				atomic_fetch_add(&stress_failures, 1);
		if (!p || p->error || !p->len || (p->body[0] != '<' && p->body[0] != '['))
			atomic_fetch_add(&stress_failures, 1);
		if (p)
			rh_listing_page_put(p);
	}
	waker_close(&wk);
	return NULL;
}

static void test_threads(int d)
{
	pthread_t t[RINGS];
	struct rh_listings *l;

	stress_dir = d;
	CHECK_INT(rh_listings_init(&l, 2, 16384), 0);
	for (int i = 0; i < RINGS; i++)
		CHECK_INT(pthread_create(&t[i], NULL, ring, l), 0);
	for (int i = 0; i < RINGS; i++)
		pthread_join(t[i], NULL);
	rh_listings_destroy(l);
	CHECK_INT(atomic_load(&stress_failures), 0);
}

int main(void)
{
	char dir[] = "/tmp/rh-listing-cache-XXXXXX";
	struct timespec ts[2] = { { T + 7, 0 }, { T + 7, 0 } };
	int d;

	CHECK(mkdtemp(dir) != NULL);
	tmp = open(dir, O_PATH | O_DIRECTORY);
	CHECK_INT(mkdirat(tmp, "root", 0755), 0);
	root = openat(tmp, "root", O_PATH | O_DIRECTORY);
	CHECK_INT(mkdirat(root, "d", 0755), 0);
	d = openat(root, "d", O_PATH | O_DIRECTORY);
	put_file(d, "a.txt", "hello", 0, T);
	put_file(d, "b.txt", "b", 0, T);
	put_file(d, "c.txt", "c", 0, T);
	CHECK_INT(utimensat(root, "d", ts, 0), 0);

	test_joined_and_shared(d);
	test_freshness(d);
	test_cap(d);
	test_eviction(d);
	test_errors();
	test_threads(d);

	unlinkat(d, "a.txt", 0);
	unlinkat(d, "b.txt", 0);
	unlinkat(d, "c.txt", 0);
	close(d);
	unlinkat(root, "d", AT_REMOVEDIR);
	close(root);
	unlinkat(tmp, "root", AT_REMOVEDIR);
	close(tmp);
	CHECK_INT(rmdir(dir), 0);
	return check_done("test_listing_cache");
}
