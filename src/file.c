#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <liburing.h>

#include "log.h"
#include "site.h"
#include "site_conf.h"
#include "sq.h"
#include "ud.h"

#define PATH_MAX_LEN 4096

/* openat2 under the root: no spelling of ".." and no symbolic link can
 * leave it, and /proc magic links are refused. CACHED: only through what
 * the dentry cache holds (-EAGAIN otherwise), so the ring never waits for
 * a directory block. */
static int open_beneath(int root_fd, const char *path, int flags, bool cached)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (cached ? RESOLVE_CACHED : 0),
	};
	int fd = syscall(SYS_openat2, root_fd, path, &how, sizeof how);
	return fd < 0 ? -errno : fd;
}

static enum rh_lookup lookup_of_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
	case ELOOP:
	case EXDEV:
		return RH_LOOKUP_MISSING;
	case EACCES:
	case EPERM:
		return RH_LOOKUP_FORBIDDEN;
	case EMFILE:
	case ENFILE:
		return RH_LOOKUP_NO_FDS;
	case EAGAIN:
		return RH_LOOKUP_COLD;
	default:
		return RH_LOOKUP_FAILED;
	}
}

/* What a path names: a regular file opened into *FD, a directory (*FD =
 * -1), or what went wrong. */
static enum rh_lookup open_regular(int root_fd, const char *path, bool cached, int *fd,
				   struct stat *st)
{
	int r = open_beneath(root_fd, path, 0, cached);

	*fd = -1;
	if (r < 0)
		return lookup_of_errno(-r);
	if (fstat(r, st) < 0) {
		close(r);
		return RH_LOOKUP_FAILED;
	}
	if (S_ISDIR(st->st_mode)) {
		close(r);
		return RH_LOOKUP_DIRECTORY;
	}
	if (!S_ISREG(st->st_mode)) { /* FIFOs, devices, sockets are never served */
		close(r);
		return RH_LOOKUP_FORBIDDEN;
	}
	/* O_NONBLOCK kept FIFOs from blocking the open; io_uring would turn it
	 * into -EAGAIN on page-cache misses, so it goes now. */
	if (fcntl(r, F_SETFL, 0) < 0) {
		close(r);
		return RH_LOOKUP_FAILED;
	}
	*fd = r;
	return RH_LOOKUP_FILE;
}

static const char *root_of(const struct rh_site *site, unsigned idx)
{
	return site->cfg->sites->site[idx].document_root;
}

/* Site IDX's document root, opened for one look-up: by its path each time,
 * so that a root renamed away (or a symbolic link swapped to a new
 * release) is followed at once, as nginx follows it. */
static int open_root(const struct rh_site *site, unsigned idx, bool cached)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = cached ? RESOLVE_CACHED : 0,
	};
	int fd = syscall(SYS_openat2, AT_FDCWD, root_of(site, idx), &how, sizeof how);

	return fd < 0 ? -errno : fd;
}

/* Notes ROOT followed by PATH and NAME as the path to warm. */
static void note_cold(struct rh_file_cache *c, const char *root, const char *path, size_t len,
		      const char *name)
{
	int n = snprintf(c->cold_path, sizeof c->cold_path, "%s%.*s%s", root, (int)len, path, name);

	/* too long to note: the root is warmed, and the look-ups that may
	 * block in the end find the rest */
	if (n < 0 || (size_t)n >= sizeof c->cold_path)
		snprintf(c->cold_path, sizeof c->cold_path, "%s", root);
}

/* Resolves PATH (normalized, starting with '/') under ROOT_FD to a regular
 * file, trying SC's index files for a directory path ending in '/'; *NAME
 * is then the index file's name, whose extension gives the media type. */
static enum rh_lookup resolve_in(struct rh_file_cache *c, int root_fd,
				 const struct rh_site_conf *sc, const char *path, size_t len,
				 bool cached, int *fd, struct stat *st, const char **name)
{
	char full[PATH_MAX_LEN];
	enum rh_lookup found, dir;

	*name = path;
	if (path[len - 1] != '/') {
		found = open_regular(root_fd, path, cached, fd, st);
		if (found == RH_LOOKUP_COLD)
			note_cold(c, sc->document_root, path, len, "");
		return found;
	}
	for (size_t i = 0; i < sc->n_index; i++) {
		size_t nlen = strlen(sc->index[i]);
		if (len + nlen >= sizeof full)
			return RH_LOOKUP_MISSING;
		memcpy(full, path, len);
		memcpy(full + len, sc->index[i], nlen + 1);
		found = open_regular(root_fd, full, cached, fd, st);
		*name = sc->index[i];
		if (found == RH_LOOKUP_COLD)
			note_cold(c, sc->document_root, path, len, sc->index[i]);
		if (found != RH_LOOKUP_MISSING)
			return found == RH_LOOKUP_DIRECTORY ? RH_LOOKUP_FORBIDDEN : found;
	}
	/* no index: a directory is listed or forbidden, anything else does not exist */
	dir = open_regular(root_fd, path, cached, fd, st);
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	switch (dir) {
	case RH_LOOKUP_DIRECTORY:
		return RH_LOOKUP_NO_INDEX;
	case RH_LOOKUP_FILE:
		return RH_LOOKUP_MISSING;
	case RH_LOOKUP_COLD:
		note_cold(c, sc->document_root, path, len, "");
		return dir;
	default:
		return dir;
	}
}

static enum rh_lookup resolve(struct rh_file_cache *c, const struct rh_site *site, unsigned idx,
			      const char *path, size_t len, bool may_block, int *fd,
			      struct stat *st, const char **name)
{
	int root_fd = open_root(site, idx, !may_block);
	enum rh_lookup found;

	*fd = -1;
	*name = path;
	if (root_fd < 0) {
		if (root_fd == -EAGAIN) /* the whole path is warmed at once */
			note_cold(c, root_of(site, idx), path, len, "");
		return lookup_of_errno(-root_fd);
	}
	found = resolve_in(c, root_fd, &site->cfg->sites->site[idx], path, len, !may_block, fd, st,
			   name);
	close(root_fd);
	return found;
}

static uint32_t hash_path(const char *p, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

int rh_file_cache_init(struct rh_file_cache *c, unsigned capacity, uint64_t data_limit,
		       uint64_t max_file)
{
	size_t n = 16;

	while (n < 2 * (size_t)capacity)
		n *= 2;
	memset(c, 0, sizeof *c);
	c->buckets = calloc(n, sizeof *c->buckets);
	if (!c->buckets)
		return -ENOMEM;
	c->mask = n - 1;
	c->capacity = capacity;
	c->data_limit = data_limit;
	c->data_max_file = max_file;
	c->lru.lru_next = c->lru.lru_prev = &c->lru;
	return 0;
}

static void lru_unlink(struct rh_file *f)
{
	f->lru_prev->lru_next = f->lru_next;
	f->lru_next->lru_prev = f->lru_prev;
}

static void lru_push_front(struct rh_file_cache *c, struct rh_file *f)
{
	f->lru_next = c->lru.lru_next;
	f->lru_prev = &c->lru;
	c->lru.lru_next->lru_prev = f;
	c->lru.lru_next = f;
}

static void file_release(struct rh_file *f)
{
	rh_pagecache_unmap(&f->map);
	close(f->fd);
	free(f->data);
	free(f);
}

/* Takes F out of the table; it lives on while responses still use it. */
static void unhash(struct rh_file_cache *c, struct rh_file *f)
{
	struct rh_file **pp = &c->buckets[f->hash & c->mask];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	f->hashed = false;
	lru_unlink(f);
	c->count--;
	if (f->data)
		c->data_bytes -= f->size;
	rh_file_put(f);
}

void rh_file_cache_flush(struct rh_file_cache *c)
{
	while (c->lru.lru_prev != &c->lru)
		unhash(c, c->lru.lru_prev);
}

void rh_file_cache_destroy(struct rh_file_cache *c)
{
	if (!c->buckets) /* never set up */
		return;
	/* the ring has ended: no READ is in flight any more */
	for (uint32_t slot = 0; slot < RH_FILE_LOADS_MAX; slot++)
		if (c->loads[slot])
			rh_file_cache_loaded(c, slot, -ECANCELED);
	while (c->load_head) {
		struct rh_file *f = c->load_head;
		c->load_head = f->load_next;
		rh_file_put(f);
	}
	c->load_tail = NULL;
	rh_file_cache_flush(c);
	free(c->buckets);
	c->buckets = NULL;
}

void rh_file_put(struct rh_file *f)
{
	if (--f->refs == 0)
		file_release(f);
}

static struct rh_file *file_new(const struct rh_site *site, const char *path, size_t len,
				const char *name, int fd, const struct stat *st, time_t now)
{
	/* an index file's name goes after the key: the path actually served */
	size_t extra = path[len - 1] == '/' ? strlen(name) : 0;
	struct rh_file *f = malloc(sizeof *f + 2 * len + extra + 2);

	if (!f)
		return NULL;
	memset(f, 0, sizeof *f);
	f->fd = fd;
	f->size = st->st_size;
	f->mtime = st->st_mtim.tv_sec;
	f->mtime_nsec = st->st_mtim.tv_nsec;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->etag_len = rh_etag_format(f->etag, st);
	rh_http_date_format(f->mtime, f->last_modified);
	f->mime = rh_mime_lookup(site->mime, name, strlen(name));
	f->validated = now;
	f->refs = 1;
	f->key_len = len;
	memcpy(f->key, path, len);
	f->key[len] = '\0';
	f->served = f->key + len + 1;
	memcpy(f->served, path, len);
	memcpy(f->served + len, name, extra);
	f->served_len = len + extra;
	f->served[f->served_len] = '\0';
	return f;
}

static bool same_file(const struct rh_file *f, const struct stat *st)
{
	return f->dev == st->st_dev && f->ino == st->st_ino && f->size == (uint64_t)st->st_size &&
	       f->mtime == st->st_mtim.tv_sec && f->mtime_nsec == st->st_mtim.tv_nsec;
}

/* Makes room for SIZE more bytes in memory by dropping the least
 * recently used files' bytes, but never KEEP's. */
static void make_room(struct rh_file_cache *c, uint64_t size, const struct rh_file *keep)
{
	while (c->data_bytes + size > c->data_limit && c->lru.lru_prev != &c->lru &&
	       c->lru.lru_prev != keep)
		unhash(c, c->lru.lru_prev);
}

/* Queues F's bytes to be read into memory when it is small enough. The
 * queue holds a reference, so an entry dropped meanwhile stays valid. */
static void queue_load(struct rh_file_cache *c, struct rh_file *f)
{
	if (f->size == 0 || f->size > c->data_max_file || f->size > c->data_limit)
		return;
	f->queued = true;
	f->refs++;
	f->load_next = NULL;
	if (c->load_tail)
		c->load_tail->load_next = f;
	else
		c->load_head = f;
	c->load_tail = f;
}

void rh_file_cache_submit_loads(struct rh_file_cache *c, struct io_uring *u)
{
	for (uint32_t slot = 0; slot < RH_FILE_LOADS_MAX && c->load_head; slot++) {
		struct rh_file *f = c->load_head;
		struct io_uring_sqe *sqe;

		if (c->loads[slot])
			continue;
		c->load_head = f->load_next;
		if (!c->load_head)
			c->load_tail = NULL;
		f->queued = false;
		/* dropped or replaced since it was queued: nothing to load */
		if (!f->hashed || !(f->loading = malloc(f->size)) || !(sqe = rh_sq_get(u, 1))) {
			free(f->loading);
			f->loading = NULL;
			rh_file_put(f);
			continue;
		}
		io_uring_prep_read(sqe, f->fd, f->loading, f->size, 0);
		io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_FILE_LOAD, slot, 0));
		c->loads[slot] = f;
	}
}

/* A file that changed while it was read keeps no bytes: it is sent from
 * its descriptor, and the next check sees the change. */
void rh_file_cache_loaded(struct rh_file_cache *c, uint32_t slot, int res)
{
	struct rh_file *f = slot < RH_FILE_LOADS_MAX ? c->loads[slot] : NULL;

	if (!f)
		return;
	c->loads[slot] = NULL;
	if (f->hashed && res >= 0 && (uint64_t)res == f->size && !f->data) {
		make_room(c, f->size, f);
		if (c->data_bytes + f->size <= c->data_limit) {
			f->data = f->loading;
			f->loading = NULL;
			c->data_bytes += f->size;
		}
	}
	free(f->loading);
	f->loading = NULL;
	rh_file_put(f);
}

enum rh_lookup rh_file_get(struct rh_file_cache *c, const struct rh_site *site, unsigned idx,
			   const char *path, size_t len, time_t now, bool may_block,
			   struct rh_file **out)
{
	uint32_t h = hash_path(path, len) ^ idx * 0x9e3779b9u;
	struct rh_file *f;
	struct stat st;
	const char *name;
	enum rh_lookup found;
	int fd;

	for (f = c->buckets[h & c->mask]; f; f = f->hnext)
		if (f->hash == h && f->site_idx == idx && f->key_len == len &&
		    !memcmp(f->key, path, len))
			break;
	if (f && f->validated == now)
		goto hit;

	/* a miss, or an entry last checked in an earlier second */
	atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
	found = resolve(c, site, idx, path, len, may_block, &fd, &st, &name);
	if (found == RH_LOOKUP_COLD)
		return found; /* the entry, if any, is checked once the path is warm */
	if (f && (found != RH_LOOKUP_FILE || !same_file(f, &st))) {
		unhash(c, f);
		f = NULL;
	}
	if (found != RH_LOOKUP_FILE)
		return found;
	if (f) {
		close(fd);
		f->validated = now;
		goto hit;
	}
	f = file_new(site, path, len, name, fd, &st, now);
	if (!f) {
		close(fd);
		return RH_LOOKUP_NO_FDS;
	}
	if (c->count == c->capacity)
		unhash(c, c->lru.lru_prev);
	f->site_idx = idx;
	f->hash = h;
	f->hashed = true;
	f->hnext = c->buckets[h & c->mask];
	c->buckets[h & c->mask] = f;
	lru_push_front(c, f);
	c->count++;
	queue_load(c, f);
	f->refs++; /* the caller's */
	*out = f;
	return RH_LOOKUP_FILE;
hit:
	atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
	lru_unlink(f);
	lru_push_front(c, f);
	f->refs++;
	*out = f;
	return RH_LOOKUP_FILE;
}

int rh_file_open_dir(struct rh_file_cache *c, const struct rh_site *site, unsigned idx,
		     const char *path, bool may_block, int *root_fd, struct stat *st)
{
	int fd;

	*root_fd = open_root(site, idx, !may_block);
	if (*root_fd < 0) {
		if (*root_fd == -EAGAIN)
			note_cold(c, root_of(site, idx), path, strlen(path), "");
		return *root_fd;
	}
	fd = open_beneath(*root_fd, path, O_DIRECTORY, !may_block);
	if (fd == -EAGAIN)
		note_cold(c, root_of(site, idx), path, strlen(path), "");
	if (fd >= 0 && fstat(fd, st) < 0) {
		close(fd);
		fd = -errno;
	}
	if (fd < 0) {
		close(*root_fd);
		*root_fd = -1;
	}
	return fd;
}
