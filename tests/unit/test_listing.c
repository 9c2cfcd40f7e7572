#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "listing.h"

#define T 1704164645 /* 2024-01-02 03:04:05 UTC */

static int dfd;
static struct rh_buf b;

static void file(const char *name, const char *content)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	struct timespec ts[2] = { { T, 0 }, { T, 0 } };

	CHECK(fd >= 0);
	CHECK_INT(write(fd, content, strlen(content)), strlen(content));
	close(fd);
	CHECK_INT(utimensat(dfd, name, ts, 0), 0);
}

/* The listing of FD as the worker makes it: collected (links resolved
 * inside FD itself, no cap) and rendered; twice, since rendering appends. */
static const char *listing(int fd, const char *url, enum rh_listing_format f, bool hide)
{
	struct rh_listing_entries e;
	int err = rh_listing_collect(fd, "/", 1, fd, hide, UINT_MAX, &e);

	CHECK_INT(err, 0);
	rh_buf_free(&b);
	CHECK_INT(rh_listing_render(&e, url, strlen(url), f, &b), 0);
	rh_buf_free(&b);
	CHECK_INT(rh_listing_render(&e, url, strlen(url), f, &b), 0);
	rh_listing_entries_free(&e);
	b.p = realloc(b.p, b.len + 1);
	b.p[b.len] = '\0';
	return b.p;
}

static const char html_head[] =
	"<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Index of /d&lt;&amp;&gt;/</title>\n"
	"</head>\n<body>\n<h1>Index of /d&lt;&amp;&gt;/</h1>\n<table>\n"
	"<tr><th>Name</th><th>Size</th><th>Last modified</th></tr>\n"
	"<tr><td><a href=\"../\">../</a></td><td>-</td><td>-</td></tr>\n";

static const char html_rows[] =
	"<tr><td><a href=\"a%3Cb%3E%26%22c%27.txt\">a&lt;b&gt;&amp;&quot;c&#39;.txt</a></td><td>5</td><td>2024-01-02 03:04:05</td></tr>\n"
	"<tr><td><a href=\"back%5Cslash\">back\\slash</a></td><td>2</td><td>2024-01-02 03:04:05</td></tr>\n"
	"<tr><td><a href=\"bad%FF.bin\">bad\xef\xbf\xbd.bin</a></td><td>0</td><td>2024-01-02 03:04:05</td></tr>\n"
	"<tr><td><a href=\"ctl%01%0Aname\">ctl\xef\xbf\xbd\xef\xbf\xbdname</a></td><td>1</td><td>2024-01-02 03:04:05</td></tr>\n"
	"<tr><td><a href=\"dir/\">dir/</a></td><td>-</td><td>2024-01-02 03:04:05</td></tr>\n"
	"<tr><td><a href=\"with%20space%25.txt\">with space%.txt</a></td><td>0</td><td>2024-01-02 03:04:05</td></tr>\n"
	"<tr><td><a href=\"%C3%A9t%C3%A9~_-.txt\">\xc3\xa9t\xc3\xa9~_-.txt</a></td><td>5</td><td>2024-01-02 03:04:05</td></tr>\n"
	"</table>\n</body>\n</html>\n";

static const char json[] =
	"[{\"name\":\".hidden\",\"type\":\"file\",\"size\":3,\"mtime\":\"2024-01-02T03:04:05Z\"},"
	"{\"name\":\"a<b>&\\\"c'.txt\",\"type\":\"file\",\"size\":5,\"mtime\":\"2024-01-02T03:04:05Z\"},"
	"{\"name\":\"back\\\\slash\",\"type\":\"file\",\"size\":2,\"mtime\":\"2024-01-02T03:04:05Z\"},"
	"{\"name\":\"bad\\ufffd.bin\",\"type\":\"file\",\"size\":0,\"mtime\":\"2024-01-02T03:04:05Z\"},"
	"{\"name\":\"ctl\\u0001\\nname\",\"type\":\"file\",\"size\":1,\"mtime\":\"2024-01-02T03:04:05Z\"},"
	"{\"name\":\"dir\",\"type\":\"directory\",\"size\":null,\"mtime\":\"2024-01-02T03:04:05Z\"},"
	"{\"name\":\"with space%.txt\",\"type\":\"file\",\"size\":0,\"mtime\":\"2024-01-02T03:04:05Z\"},"
	"{\"name\":\"\xc3\xa9t\xc3\xa9~_-.txt\",\"type\":\"file\",\"size\":5,\"mtime\":\"2024-01-02T03:04:05Z\"}]\n";

static void test_format(void)
{
	char want[4096];
	struct timespec ts[2] = { { T, 0 }, { T, 0 } };
	struct rh_listing_entries e;
	int pfd, efd;

	file("a<b>&\"c'.txt", "hello");
	file(".hidden", "abc");
	file("with space%.txt", "");
	file("back\\slash", "\\\\");
	file("bad\xff.bin", "");
	file("ctl\x01\nname", "x");
	file("\xc3\xa9t\xc3\xa9~_-.txt", "\xc3\xa9t\xc3\xa9");
	CHECK_INT(mkdirat(dfd, "dir", 0755), 0);
	CHECK_INT(utimensat(dfd, "dir", ts, 0), 0);
	CHECK_INT(symlinkat("nowhere", dfd, "dangling"), 0);
	CHECK_INT(mkfifoat(dfd, "fifo", 0644), 0);

	snprintf(want, sizeof want, "%s%s", html_head, html_rows);
	CHECK_STR(listing(dfd, "/d<&>/", RH_LISTING_HTML, true), want);
	CHECK_STR(listing(dfd, "/d<&>/", RH_LISTING_JSON, false), json);
	/* dotfiles left out */
	CHECK(!strstr(listing(dfd, "/", RH_LISTING_JSON, true), "hidden"));
	CHECK(strstr(listing(dfd, "/", RH_LISTING_HTML, false), ">.hidden</a>") != NULL);
	/* no parent link at the root */
	CHECK(!strstr(listing(dfd, "/", RH_LISTING_HTML, true), "../"));
	CHECK(strstr(listing(dfd, "/", RH_LISTING_HTML, true), "<title>Index of /</title>") != NULL);
	/* an O_PATH descriptor works, and an empty directory lists nothing */
	pfd = openat(dfd, "dir", O_PATH | O_DIRECTORY);
	CHECK(pfd >= 0);
	CHECK_STR(listing(pfd, "/d/dir/", RH_LISTING_JSON, true), "[]\n");
	/* not a directory */
	efd = openat(dfd, ".hidden", O_RDONLY);
	CHECK_INT(rh_listing_collect(dfd, "/", 1, efd, true, 10, &e), -ENOTDIR);
	CHECK_INT(e.n, 0);
	CHECK(e.v == NULL);
	close(efd);
	close(pfd);
}

#define BIG 100000
#define CAP 10000

static int by_strcmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* 100,000 entries, named so that creation (and readdir) order is not name
 * order, and of several lengths: the cap keeps the first by name, exactly
 * as sorting them all would, and the page says how many are left out. */
static void test_cap(void)
{
	static char *names[BIG];
	struct rh_listing_entries e, all;
	char row[256], note[128];
	const char *page;
	bool same = true;
	int big;

	CHECK_INT(mkdirat(dfd, "big", 0755), 0);
	big = openat(dfd, "big", O_RDONLY | O_DIRECTORY);
	CHECK(big >= 0);
	for (unsigned i = 0; i < BIG; i++) {
		char name[32];
		int fd;

		snprintf(name, sizeof name, "%x.%u", i * 2654435761u, i % 7);
		snprintf(name + strlen(name), sizeof name - strlen(name), "-%u", i);
		names[i] = strdup(name);
		fd = openat(big, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			CHECK(fd >= 0);
			break;
		}
		close(fd);
	}
	qsort(names, BIG, sizeof *names, by_strcmp);

	CHECK_INT(rh_listing_collect(dfd, "/big/", 5, big, true, CAP, &e), 0);
	CHECK_INT(e.n, CAP);
	CHECK_INT(e.total, BIG);
	for (size_t i = 0; i < e.n && i < CAP; i++)
		same &= !strcmp(e.v[i].name, names[i]);
	CHECK(same);
	CHECK_INT(rh_listing_collect(dfd, "/big/", 5, big, true, UINT_MAX, &all), 0);
	CHECK_INT(all.n, BIG);
	for (size_t i = 0; i < all.n && i < BIG; i++)
		same &= !strcmp(all.v[i].name, names[i]);
	CHECK(same);

	rh_buf_free(&b);
	CHECK_INT(rh_listing_render(&e, "/big/", 5, RH_LISTING_HTML, &b), 0);
	b.p = realloc(b.p, b.len + 1);
	b.p[b.len] = '\0';
	page = b.p;
	CHECK_INT(count(page, "<tr><td><a href=\""), CAP + 1); /* and "../" */
	snprintf(row, sizeof row, "<tr><td><a href=\"../\">../</a></td><td>-</td><td>-</td></tr>\n"
		 "<tr><td><a href=\"%s\">%s</a></td><td>0</td><td>", names[0], names[0]);
	CHECK(strstr(page, row) != NULL);
	snprintf(row, sizeof row, "<tr><td><a href=\"%s\">%s</a></td><td>0</td><td>", names[CAP - 1],
		 names[CAP - 1]);
	CHECK(strstr(page, row) != NULL);
	snprintf(row, sizeof row, "\">%s</a>", names[CAP]);
	CHECK(!strstr(page, row));
	snprintf(note, sizeof note, "</td></tr>\n</table>\n<p>The first %d of %d entries are shown.</p>\n"
		 "</body>\n</html>\n", CAP, BIG);
	CHECK(b.len > strlen(note) && !strcmp(page + b.len - strlen(note), note));

	/* JSON stays a plain array of the first entries */
	rh_buf_free(&b);
	CHECK_INT(rh_listing_render(&e, "/big/", 5, RH_LISTING_JSON, &b), 0);
	b.p = realloc(b.p, b.len + 1);
	b.p[b.len] = '\0';
	CHECK_INT(count(b.p, "{\"name\":"), CAP);
	snprintf(row, sizeof row, "[{\"name\":\"%s\",\"type\":\"file\",\"size\":0,", names[0]);
	CHECK(!strncmp(b.p, row, strlen(row)));
	CHECK(!strcmp(b.p + b.len - 4, "\"}]\n"));

	/* no note when nothing is left out */
	rh_buf_free(&b);
	CHECK_INT(rh_listing_render(&all, "/big/", 5, RH_LISTING_HTML, &b), 0);
	{
		static const char end[] = "</tr>\n</table>\n</body>\n</html>\n";
		CHECK(b.len > strlen(end) && !memcmp(b.p + b.len - strlen(end), end, strlen(end)));
	}
	rh_listing_entries_free(&all);
	rh_listing_entries_free(&e);

	/* a cap of 0 keeps nothing, and counts */
	CHECK_INT(rh_listing_collect(dfd, "/big/", 5, big, true, 0, &e), 0);
	CHECK_INT(e.n, 0);
	CHECK_INT(e.total, BIG);
	rh_listing_entries_free(&e);

	for (unsigned i = 0; i < BIG; i++) {
		unlinkat(big, names[i], 0);
		free(names[i]);
	}
	close(big);
	CHECK_INT(unlinkat(dfd, "big", AT_REMOVEDIR), 0);
}

static void stamp(int at, const char *name, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	CHECK_INT(utimensat(at, name, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* Entries as serving resolves them, from the document root: a link
 * leaving the root (absolute, or by "..") names what is inside the root,
 * here nothing, so it is left out, as a dangling one is; links that stay
 * inside are listed with their target's size, type and date. */
static void test_links(void)
{
	static const char *const links[][2] = {
		{ "abs-out", "/etc/passwd" },
		{ "dotdot-out", "../../../../../../etc/passwd" },
		{ "dangling", "nowhere" },
		{ "in-rel", "../target.txt" },
		{ "in-abs", "/target.txt" },
		{ "in-dir", "../sub" },
		{ "magic", "/proc/self/root/etc/passwd" },
	};
	struct rh_listing_entries e;
	int root, d;

	CHECK_INT(mkdirat(dfd, "root", 0755), 0);
	root = openat(dfd, "root", O_PATH | O_DIRECTORY);
	CHECK_INT(mkdirat(root, "d", 0755), 0);
	CHECK_INT(mkdirat(root, "sub", 0755), 0);
	d = openat(root, "d", O_PATH | O_DIRECTORY);
	{
		int fd = openat(root, "target.txt", O_WRONLY | O_CREAT, 0644);
		CHECK_INT(write(fd, "12345678", 8), 8);
		close(fd);
	}
	stamp(root, "target.txt", T + 50);
	stamp(root, "sub", T + 60);
	for (size_t i = 0; i < sizeof links / sizeof *links; i++)
		CHECK_INT(symlinkat(links[i][1], d, links[i][0]), 0);
	CHECK(access("/etc/passwd", F_OK) == 0); /* the outside target exists */
	stamp(root, "d", T);

	CHECK_INT(rh_listing_collect(root, "/d/", 3, d, true, 100, &e), 0);
	rh_buf_free(&b);
	CHECK_INT(rh_listing_render(&e, "/d/", 3, RH_LISTING_JSON, &b), 0);
	CHECK_MEM(b.p, b.len,
		  "[{\"name\":\"in-abs\",\"type\":\"file\",\"size\":8,\"mtime\":\"2024-01-02T03:04:55Z\"},"
		  "{\"name\":\"in-dir\",\"type\":\"directory\",\"size\":null,\"mtime\":\"2024-01-02T03:05:05Z\"},"
		  "{\"name\":\"in-rel\",\"type\":\"file\",\"size\":8,\"mtime\":\"2024-01-02T03:04:55Z\"}]\n");
	CHECK_INT(e.total, 3);
	/* the newest of the directory and the listed entries */
	CHECK_INT(e.newest, T + 60);
	rh_listing_entries_free(&e);
	/* the directory's path need not end in '/' */
	CHECK_INT(rh_listing_collect(root, "/d", 2, d, true, 100, &e), 0);
	CHECK_INT(e.n, 3);
	rh_listing_entries_free(&e);
	/* only the listed entries date the listing */
	CHECK_INT(rh_listing_collect(root, "/d/", 3, d, true, 1, &e), 0);
	CHECK_STR(e.v[0].name, "in-abs");
	CHECK_INT(e.newest, T + 50);
	CHECK_INT(e.total, 3); /* links past the cap are resolved to be counted */
	rh_listing_entries_free(&e);

	for (size_t i = 0; i < sizeof links / sizeof *links; i++)
		unlinkat(d, links[i][0], 0);
	close(d);
	unlinkat(root, "d", AT_REMOVEDIR);
	unlinkat(root, "sub", AT_REMOVEDIR);
	unlinkat(root, "target.txt", 0);
	close(root);
	unlinkat(dfd, "root", AT_REMOVEDIR);
}

int main(void)
{
	char dir[] = "/tmp/rh-listing-XXXXXX";

	CHECK(mkdtemp(dir) != NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
	test_format();
	{
		const char *names[] = { "a<b>&\"c'.txt", ".hidden", "with space%.txt", "back\\slash", "bad\xff.bin",
					"ctl\x01\nname", "\xc3\xa9t\xc3\xa9~_-.txt", "dangling", "fifo" };
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			unlinkat(dfd, names[i], 0);
		unlinkat(dfd, "dir", AT_REMOVEDIR);
	}
	test_cap();
	test_links();
	close(dfd);
	CHECK_INT(rmdir(dir), 0);
	rh_buf_free(&b);
	return check_done("test_listing");
}
