#include <errno.h>
#include <fcntl.h>
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

static const char *listing(int fd, const char *url, enum rh_listing_format f, bool hide)
{
	ssize_t n;

	rh_buf_free(&b);
	n = rh_listing_write(fd, url, strlen(url), f, hide, &b);
	CHECK(n >= 0);
	CHECK_INT(n, b.len);
	if (n < 0)
		return "";
	rh_buf_free(&b); /* again: the output appends */
	n = rh_listing_write(fd, url, strlen(url), f, hide, &b);
	CHECK_INT(n, b.len);
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

int main(void)
{
	char dir[] = "/tmp/rh-listing-XXXXXX", want[4096], etag[RH_LISTING_ETAG_MAX], etag2[RH_LISTING_ETAG_MAX];
	struct timespec ts[2] = { { T, 0 }, { T, 0 } };
	struct stat st;
	int pfd, efd;

	CHECK(mkdtemp(dir) != NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0);
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
	{
		struct rh_buf eb = { 0 };
		CHECK_INT(rh_listing_write(efd, "/", 1, RH_LISTING_HTML, true, &eb), -ENOTDIR);
		CHECK_INT(eb.len, 0);
		rh_buf_free(&eb);
	}

	/* the validators */
	CHECK_INT(fstat(dfd, &st), 0);
	CHECK_INT(rh_listing_etag(etag, &st, RH_LISTING_HTML), strlen(etag));
	rh_listing_etag(etag2, &st, RH_LISTING_JSON);
	CHECK(strcmp(etag, etag2));
	CHECK(!strncmp(etag, "\"d-", 3));
	CHECK(!strcmp(etag + strlen(etag) - 3, "-h\""));
	CHECK(!strcmp(etag2 + strlen(etag2) - 3, "-j\""));

	close(efd);
	close(pfd);
	{
		const char *names[] = { "a<b>&\"c'.txt", ".hidden", "with space%.txt", "back\\slash", "bad\xff.bin",
					"ctl\x01\nname", "\xc3\xa9t\xc3\xa9~_-.txt", "dangling", "fifo" };
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			unlinkat(dfd, names[i], 0);
		unlinkat(dfd, "dir", AT_REMOVEDIR);
	}
	close(dfd);
	rmdir(dir);
	rh_buf_free(&b);
	return check_done("test_listing");
}
