#include "listing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

struct entry {
	char *name;
	size_t len;
	bool dir;
	uint64_t size;
	time_t mtime;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static void free_entries(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

/* The entries of DIRFD, sorted. -errno on failure. */
static int read_entries(int dirfd, bool hide_dotfiles, struct entry **out, size_t *n_out)
{
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		err = -errno;
		close(fd);
		return err;
	}
	for (;;) {
		struct stat st;

		errno = 0;
		d = readdir(dir);
		if (!d) {
			err = errno ? -errno : 0;
			break;
		}
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
		    (hide_dotfiles && d->d_name[0] == '.'))
			continue;
		if (fstatat(fd, d->d_name, &st, 0) < 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
			continue;
		if (n == cap) {
			struct entry *nv;
			cap = cap ? 2 * cap : 32;
			nv = realloc(v, cap * sizeof *v);
			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[n].len = strlen(d->d_name);
		v[n].name = strdup(d->d_name);
		if (!v[n].name) {
			err = -ENOMEM;
			break;
		}
		v[n].dir = S_ISDIR(st.st_mode);
		v[n].size = st.st_size;
		v[n].mtime = st.st_mtime;
		n++;
	}
	closedir(dir);
	if (err) {
		free_entries(v, n);
		return err;
	}
	if (n)
		qsort(v, n, sizeof *v, by_name);
	*out = v;
	*n_out = n;
	return 0;
}

static void date(char *buf, size_t cap, time_t t, const char *fmt)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, cap, fmt, &tm))
		snprintf(buf, cap, "-");
}

ssize_t rh_listing_write(int dirfd, const char *url_path, size_t url_len,
			 enum rh_listing_format format, bool hide_dotfiles, struct rh_buf *out)
{
	struct writer w = { out, false };
	size_t start = out->len, n = 0;
	struct entry *e = NULL;
	int err = read_entries(dirfd, hide_dotfiles, &e, &n);
	char num[32], when[64];

	if (err)
		return err;
	if (format == RH_LISTING_JSON) {
		puts_(&w, "[");
		for (size_t i = 0; i < n; i++) {
			puts_(&w, i ? ",{\"name\":" : "{\"name\":");
			json_string(&w, e[i].name, e[i].len);
			puts_(&w, e[i].dir ? ",\"type\":\"directory\",\"size\":null"
					   : ",\"type\":\"file\",\"size\":");
			if (!e[i].dir) {
				snprintf(num, sizeof num, "%llu", (unsigned long long)e[i].size);
				puts_(&w, num);
			}
			date(when, sizeof when, e[i].mtime, "%Y-%m-%dT%H:%M:%SZ");
			puts_(&w, ",\"mtime\":\"");
			puts_(&w, when);
			puts_(&w, "\"}");
		}
		puts_(&w, "]\n");
	} else {
		puts_(&w, "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Index of ");
		html_text(&w, url_path, url_len);
		puts_(&w, "</title>\n</head>\n<body>\n<h1>Index of ");
		html_text(&w, url_path, url_len);
		puts_(&w, "</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Last modified</th></tr>\n");
		if (!(url_len == 1 && url_path[0] == '/'))
			puts_(&w, "<tr><td><a href=\"../\">../</a></td><td>-</td><td>-</td></tr>\n");
		for (size_t i = 0; i < n; i++) {
			puts_(&w, "<tr><td><a href=\"");
			href(&w, e[i].name, e[i].len);
			puts_(&w, e[i].dir ? "/\">" : "\">");
			html_text(&w, e[i].name, e[i].len);
			puts_(&w, e[i].dir ? "/</a></td><td>-</td><td>" : "</a></td><td>");
			if (!e[i].dir) {
				snprintf(num, sizeof num, "%llu</td><td>",
					 (unsigned long long)e[i].size);
				puts_(&w, num);
			}
			date(when, sizeof when, e[i].mtime, "%Y-%m-%d %H:%M:%S");
			puts_(&w, when);
			puts_(&w, "</td></tr>\n");
		}
		puts_(&w, "</table>\n</body>\n</html>\n");
	}
	free_entries(e, n);
	if (w.oom) {
		out->len = start;
		return -ENOMEM;
	}
	return out->len - start;
}

size_t rh_listing_etag(char out[RH_LISTING_ETAG_MAX], const struct stat *st,
		       enum rh_listing_format format)
{
	uint64_t mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + st->st_mtim.tv_nsec;
	int n = snprintf(out, RH_LISTING_ETAG_MAX, "\"d-%llx-%llx-%llx-%c\"",
			 (unsigned long long)st->st_ino, (unsigned long long)st->st_size,
			 (unsigned long long)mtime_ns, format == RH_LISTING_JSON ? 'j' : 'h');

	return n < 0 ? 0 : (size_t)n;
}
