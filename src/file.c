#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "site.h"
#include "site_conf.h"

#define PATH_MAX_LEN 4096

/* openat2 under the root: no spelling of ".." and no symbolic link can
 * leave it, and /proc magic links are refused. */
static int open_beneath(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = syscall(SYS_openat2, root_fd, path, &how, sizeof how);
	return fd < 0 ? -errno : fd;
}

static int status_of_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
	case ELOOP:
	case EXDEV:
		return 404;
	case EACCES:
	case EPERM:
		return 403;
	case EMFILE:
	case ENFILE:
		return 503;
	default:
		return 500;
	}
}

/* What a path names: a regular file opened into *FD (200), a directory
 * (*FD = -1, 301 standing for "is a directory"), or an error status. */
static int open_regular(int root_fd, const char *path, int *fd, struct stat *st)
{
	int r = open_beneath(root_fd, path, 0);

	*fd = -1;
	if (r < 0)
		return status_of_errno(-r);
	if (fstat(r, st) < 0) {
		close(r);
		return 500;
	}
	if (S_ISDIR(st->st_mode)) {
		close(r);
		return 301;
	}
	if (!S_ISREG(st->st_mode)) { /* FIFOs, devices, sockets are never served */
		close(r);
		return 403;
	}
	/* O_NONBLOCK kept FIFOs from blocking the open; io_uring would turn it
	 * into -EAGAIN on page-cache misses, so it goes now. */
	if (fcntl(r, F_SETFL, 0) < 0) {
		close(r);
		return 500;
	}
	*fd = r;
	return 200;
}

/* Site IDX's document root, opened for one look-up: by its path each time,
 * so that a root renamed away (or a symbolic link swapped to a new
 * release) is followed at once, as nginx follows it. */
static int open_root(const struct rh_site *site, unsigned idx)
{
	int fd = open(site->cfg->sites->site[idx].document_root,
		      O_PATH | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Resolves PATH (normalized, starting with '/') under ROOT_FD to a regular
 * file, trying SC's index files for a directory path ending in '/'; *NAME
 * is then the index file's name, whose extension gives the media type. */
static int resolve_in(int root_fd, const struct rh_site_conf *sc, const char *path, size_t len,
		      int *fd, struct stat *st, const char **name)
{
	char full[PATH_MAX_LEN];
	int status, dir_status;

	*name = path;
	if (path[len - 1] != '/')
		return open_regular(root_fd, path, fd, st);
	for (size_t i = 0; i < sc->n_index; i++) {
		size_t nlen = strlen(sc->index[i]);
		if (len + nlen >= sizeof full)
			return 404;
		memcpy(full, path, len);
		memcpy(full + len, sc->index[i], nlen + 1);
		status = open_regular(root_fd, full, fd, st);
		*name = sc->index[i];
		if (status != 404)
			return status == 301 ? 403 : status;
	}
	/* no index: a directory is forbidden, anything else does not exist */
	dir_status = open_regular(root_fd, path, fd, st);
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return dir_status == 301 ? RH_FILE_NO_INDEX : dir_status == 200 ? 404 : dir_status;
}

static int resolve(const struct rh_site *site, unsigned idx, const char *path, size_t len,
		   int *fd, struct stat *st, const char **name)
{
	int root_fd = open_root(site, idx), status;

	*fd = -1;
	*name = path;
	if (root_fd < 0)
		return status_of_errno(-root_fd);
	status = resolve_in(root_fd, &site->cfg->sites->site[idx], path, len, fd, st, name);
	close(root_fd);
	return status;
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

/* Reads F's bytes into memory when it is small enough, making room by
 * dropping the least recently used files' bytes. A file that changes
 * while it is read keeps no bytes; it is sent from its descriptor, and
 * the next check sees the change. */
static void load_data(struct rh_file_cache *c, struct rh_file *f)
{
	uint64_t got = 0;

	if (f->size == 0 || f->size > c->data_max_file || f->size > c->data_limit)
		return;
	while (c->data_bytes + f->size > c->data_limit && c->lru.lru_prev != &c->lru)
		unhash(c, c->lru.lru_prev);
	f->data = malloc(f->size);
	if (!f->data)
		return;
	while (got < f->size) {
		ssize_t n = pread(f->fd, f->data + got, f->size - got, got);
		if (n <= 0)
			break;
		got += n;
	}
	if (got != f->size) {
		free(f->data);
		f->data = NULL;
		return;
	}
	c->data_bytes += f->size;
}

int rh_file_get(struct rh_file_cache *c, const struct rh_site *site, unsigned idx,
		const char *path, size_t len, time_t now, struct rh_file **out)
{
	uint32_t h = hash_path(path, len) ^ idx * 0x9e3779b9u;
	struct rh_file *f;
	struct stat st;
	const char *name;
	int fd, status;

	for (f = c->buckets[h & c->mask]; f; f = f->hnext)
		if (f->hash == h && f->site_idx == idx && f->key_len == len &&
		    !memcmp(f->key, path, len))
			break;
	if (f && f->validated == now)
		goto hit;

	/* a miss, or an entry last checked in an earlier second */
	atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
	status = resolve(site, idx, path, len, &fd, &st, &name);
	if (f && (status != 200 || !same_file(f, &st))) {
		unhash(c, f);
		f = NULL;
	}
	if (status != 200)
		return status;
	if (f) {
		close(fd);
		f->validated = now;
		goto hit;
	}
	f = file_new(site, path, len, name, fd, &st, now);
	if (!f) {
		close(fd);
		return 503;
	}
	if (c->count == c->capacity)
		unhash(c, c->lru.lru_prev);
	load_data(c, f);
	f->site_idx = idx;
	f->hash = h;
	f->hnext = c->buckets[h & c->mask];
	c->buckets[h & c->mask] = f;
	lru_push_front(c, f);
	c->count++;
	f->refs++; /* the caller's */
	*out = f;
	return 200;
hit:
	atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
	lru_unlink(f);
	lru_push_front(c, f);
	f->refs++;
	*out = f;
	return 200;
}

int rh_file_open_dir(const struct rh_site *site, unsigned idx, const char *path, struct stat *st)
{
	int root_fd = open_root(site, idx), fd;

	if (root_fd < 0)
		return root_fd;
	fd = open_beneath(root_fd, path, O_DIRECTORY);
	close(root_fd);

	if (fd >= 0 && fstat(fd, st) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}
