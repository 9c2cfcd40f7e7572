#include "listing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

void rh_buf_free(struct rh_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

struct writer {
	struct rh_buf *b;
	bool oom;
};

static void put(struct writer *w, const char *s, size_t n)
{
	struct rh_buf *b = w->b;

	if (w->oom)
		return;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;
		while (cap - b->len < n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			w->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void puts_(struct writer *w, const char *s)
{
	put(w, s, strlen(s));
}

/* The length of the valid UTF-8 sequence at S[0..N), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static void html_text(struct writer *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t l = utf8_len(u + i, n - i);

		if (!l || u[i] < 0x20 || u[i] == 0x7f) {
			puts_(w, "\xef\xbf\xbd");
			i++;
			continue;
		}
		switch (u[i]) {
		case '&': puts_(w, "&amp;"); break;
		case '<': puts_(w, "&lt;"); break;
		case '>': puts_(w, "&gt;"); break;
		case '"': puts_(w, "&quot;"); break;
		case '\'': puts_(w, "&#39;"); break;
		default: put(w, s + i, l);
		}
		i += l;
	}
}

static void href(struct writer *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			put(w, s + i, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			put(w, e, 3);
		}
	}
}

static void json_string(struct writer *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	put(w, "\"", 1);
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len(u + i, n - i);
		char e[8];

		if (!l) {
			puts_(w, "\\ufffd");
			i++;
			continue;
		}
		switch (u[i]) {
		case '"': puts_(w, "\\\""); break;
		case '\\': puts_(w, "\\\\"); break;
		case '\b': puts_(w, "\\b"); break;
		case '\f': puts_(w, "\\f"); break;
		case '\n': puts_(w, "\\n"); break;
		case '\r': puts_(w, "\\r"); break;
		case '\t': puts_(w, "\\t"); break;
		default:
			if (u[i] < 0x20 || u[i] == 0x7f) {
				snprintf(e, sizeof e, "\\u%04x", u[i]);
				puts_(w, e);
			} else {
				put(w, s + i, l);
			}
		}
		i += l;
	}
	put(w, "\"", 1);
}

static void free_names(struct rh_listing_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
}

void rh_listing_entries_free(struct rh_listing_entries *e)
{
	free_names(e->v, e->n);
	free(e->v);
	*e = (struct rh_listing_entries){ 0 };
}

/* The max-heap by name that keeps the first entries while the directory
 * is read: V[0] has the greatest name kept. */
static bool after(const struct rh_listing_entry *a, const struct rh_listing_entry *b)
{
	return strcmp(a->name, b->name) > 0;
}

static void swap(struct rh_listing_entry *a, struct rh_listing_entry *b)
{
	struct rh_listing_entry t = *a;
	*a = *b;
	*b = t;
}

static void sift_down(struct rh_listing_entry *v, size_t n, size_t i)
{
	for (;;) {
		size_t top = i, l = 2 * i + 1, r = l + 1;

		if (l < n && after(&v[l], &v[top]))
			top = l;
		if (r < n && after(&v[r], &v[top]))
			top = r;
		if (top == i)
			return;
		swap(&v[i], &v[top]);
		i = top;
	}
}

static void sift_up(struct rh_listing_entry *v, size_t i)
{
	while (i && after(&v[i], &v[(i - 1) / 2])) {
		swap(&v[i], &v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

/* Whether NAME would enter E, a heap of at most MAX entries. */
static bool wanted(const struct rh_listing_entries *e, size_t max, const char *name)
{
	return e->n < max || (max && strcmp(name, e->v[0].name) < 0);
}

/* Offers entry NAME to E. -ENOMEM or 0. */
static int keep(struct rh_listing_entries *e, size_t max, const char *name, const struct stat *st)
{
	struct rh_listing_entry x = { NULL, strlen(name), S_ISDIR(st->st_mode),
				      S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size, st->st_mtime };

	if (!wanted(e, max, name))
		return 0;
	x.name = strdup(name);
	if (!x.name)
		return -ENOMEM;
	if (e->n == max) { /* replaces the greatest */
		free(e->v[0].name);
		e->v[0] = x;
		sift_down(e->v, e->n, 0);
		return 0;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 32;
		struct rh_listing_entry *v;

		if (cap > max)
			cap = max;
		v = realloc(e->v, cap * sizeof *v);
		if (!v) {
			free(x.name);
			return -ENOMEM;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n] = x;
	sift_up(e->v, e->n++);
	return 0;
}

/* The heap into ascending order, in place. */
static void heap_sort(struct rh_listing_entry *v, size_t n)
{
	while (n > 1) {
		swap(&v[0], &v[--n]);
		sift_down(v, n, 0);
	}
}

/* What entry NAME of directory FD (DIR_PATH under ROOT_FD, PATH holding
 * it at PATH[0..PREFIX)) is when served, into *ST: false when it is
 * not listed. Only a symbolic link needs resolving from the root. */
static bool stat_entry(int root_fd, int fd, const char *name, char *path, size_t prefix,
		       struct stat *st)
{
	static const struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	size_t len = strlen(name);
	int target;
	bool ok;

	if (fstatat(fd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (S_ISLNK(st->st_mode)) {
		if (prefix + len >= PATH_MAX)
			return false;
		memcpy(path + prefix, name, len + 1);
		/* O_PATH: resolved, never opened, so no device or FIFO is touched */
		target = syscall(SYS_openat2, root_fd, path, &how, sizeof how);
		if (target < 0)
			return false;
		ok = fstat(target, st) == 0;
		close(target);
		if (!ok)
			return false;
	}
	return S_ISDIR(st->st_mode) || S_ISREG(st->st_mode);
}

int rh_listing_collect(int root_fd, const char *dir_path, size_t dir_len, int dir_fd,
		       bool hide_dotfiles, unsigned max_entries, struct rh_listing_entries *out)
{
	char path[PATH_MAX];
	size_t prefix = dir_len;
	struct stat st;
	struct dirent *d;
	DIR *dir;
	int fd, err = 0;

	*out = (struct rh_listing_entries){ 0 };
	if (dir_len + 1 >= sizeof path)
		return -ENAMETOOLONG;
	memcpy(path, dir_path, dir_len);
	if (!dir_len || dir_path[dir_len - 1] != '/')
		path[prefix++] = '/';
	fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !(dir = fdopendir(fd))) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!st.st_nlink) { /* removed: readdir would just say it is empty */
		closedir(dir);
		return -ENOENT;
	}
	out->newest = st.st_mtime;
	for (;;) {
		errno = 0;
		d = readdir(dir);
		if (!d) {
			err = errno ? -errno : 0;
			break;
		}
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
		    (hide_dotfiles && d->d_name[0] == '.'))
			continue;
		/* a file or directory (not a link) past the cap is counted
		 * unstatted: its type is all the count needs */
		if ((d->d_type == DT_REG || d->d_type == DT_DIR) &&
		    !wanted(out, max_entries, d->d_name)) {
			out->total++;
			continue;
		}
		if (!stat_entry(root_fd, fd, d->d_name, path, prefix, &st))
			continue;
		out->total++;
		err = keep(out, max_entries, d->d_name, &st);
		if (err)
			break;
	}
	closedir(dir);
	if (err) {
		rh_listing_entries_free(out);
		return err;
	}
	heap_sort(out->v, out->n);
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].mtime > out->newest)
			out->newest = out->v[i].mtime;
	return 0;
}

static void date(char *buf, size_t cap, time_t t, const char *fmt)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, cap, fmt, &tm))
		snprintf(buf, cap, "-");
}

static void render_json(struct writer *w, const struct rh_listing_entries *e)
{
	char num[32], when[64];

	puts_(w, "[");
	for (size_t i = 0; i < e->n; i++) {
		const struct rh_listing_entry *x = &e->v[i];

		puts_(w, i ? ",{\"name\":" : "{\"name\":");
		json_string(w, x->name, x->len);
		puts_(w, x->dir ? ",\"type\":\"directory\",\"size\":null" : ",\"type\":\"file\",\"size\":");
		if (!x->dir) {
			snprintf(num, sizeof num, "%llu", (unsigned long long)x->size);
			puts_(w, num);
		}
		date(when, sizeof when, x->mtime, "%Y-%m-%dT%H:%M:%SZ");
		puts_(w, ",\"mtime\":\"");
		puts_(w, when);
		puts_(w, "\"}");
	}
	puts_(w, "]\n");
}

static void render_html(struct writer *w, const struct rh_listing_entries *e, const char *url_path,
			size_t url_len)
{
	char num[128], when[64];

	puts_(w, "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Index of ");
	html_text(w, url_path, url_len);
	puts_(w, "</title>\n</head>\n<body>\n<h1>Index of ");
	html_text(w, url_path, url_len);
	puts_(w, "</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Last modified</th></tr>\n");
	if (!(url_len == 1 && url_path[0] == '/'))
		puts_(w, "<tr><td><a href=\"../\">../</a></td><td>-</td><td>-</td></tr>\n");
	for (size_t i = 0; i < e->n; i++) {
		const struct rh_listing_entry *x = &e->v[i];

		puts_(w, "<tr><td><a href=\"");
		href(w, x->name, x->len);
		puts_(w, x->dir ? "/\">" : "\">");
		html_text(w, x->name, x->len);
		puts_(w, x->dir ? "/</a></td><td>-</td><td>" : "</a></td><td>");
		if (!x->dir) {
			snprintf(num, sizeof num, "%llu</td><td>", (unsigned long long)x->size);
			puts_(w, num);
		}
		date(when, sizeof when, x->mtime, "%Y-%m-%d %H:%M:%S");
		puts_(w, when);
		puts_(w, "</td></tr>\n");
	}
	puts_(w, "</table>\n");
	if (e->n < e->total) {
		snprintf(num, sizeof num, "<p>The first %zu of %zu entries are shown.</p>\n", e->n,
			 e->total);
		puts_(w, num);
	}
	puts_(w, "</body>\n</html>\n");
}

int rh_listing_render(const struct rh_listing_entries *e, const char *url_path, size_t url_len,
		      enum rh_listing_format format, struct rh_buf *out)
{
	struct writer w = { out, false };
	size_t start = out->len;

	if (format == RH_LISTING_JSON)
		render_json(&w, e);
	else
		render_html(&w, e, url_path, url_len);
	if (w.oom) {
		out->len = start;
		return -ENOMEM;
	}
	return 0;
}
