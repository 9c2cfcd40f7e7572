#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "file.h"
#include "path.h"
#include "site.h"

static char root[64], outside[80];

static void write_file(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	mkdir(p, 0755);
}

static void link_to(const char *target, const char *rel)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	symlink(target, p);
}

/* Decodes and resolves ENC; on 200 also checks the content. */
static int get(struct rh_file_cache *c, struct rh_site *site, const char *enc,
	       const char *want_content)
{
	char path[4096], buf[64];
	ssize_t n = rh_path_normalize(enc, strlen(enc), path, sizeof path);
	struct rh_file *f;
	int status;

	if (n < 0)
		return 400;
	status = rh_file_get(c, site, 0, path, n, 1, &f);
	if (status == 200) {
		ssize_t got = pread(f->fd, buf, sizeof buf - 1, 0);
		buf[got > 0 ? got : 0] = '\0';
		if (want_content)
			CHECK_STR(buf, want_content);
		rh_file_put(f);
	}
	return status;
}

/* The bytes of small files are kept in memory within the cache's bounds,
 * and a file rewritten in place is seen at the next second's check. */
static void test_memory(struct rh_site *site)
{
	struct rh_file_cache c;
	struct rh_file *f;
	char big[300];

	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	write_file("m1.txt", "first");
	write_file("m2.txt", "other");
	write_file("big.txt", big);
	rh_file_cache_init(&c, 8, 10, 200); /* 10 bytes in all, files up to 200 */

	CHECK_INT(rh_file_get(&c, site, 0, "/m1.txt", 7, 1, &f), 200);
	CHECK(f->data && !memcmp(f->data, "first", 5));
	CHECK_INT(c.data_bytes, 5);
	rh_file_put(f);
	CHECK_INT(rh_file_get(&c, site, 0, "/big.txt", 8, 1, &f), 200);
	CHECK(f->data == NULL); /* over file_cache_max_file: sent from its descriptor */
	rh_file_put(f);
	CHECK_INT(rh_file_get(&c, site, 0, "/m2.txt", 7, 1, &f), 200);
	CHECK(f->data && !memcmp(f->data, "other", 5));
	rh_file_put(f);
	CHECK_INT(c.data_bytes, 10);

	/* same size, new bytes: seen at the next second's check */
	write_file("m1.txt", "FIRST");
	CHECK_INT(rh_file_get(&c, site, 0, "/m1.txt", 7, 2, &f), 200);
	CHECK(f->data && !memcmp(f->data, "FIRST", 5));
	rh_file_put(f);
	/* a third small file does not fit beside the two: the oldest makes room */
	write_file("m3.txt", "third");
	CHECK_INT(rh_file_get(&c, site, 0, "/m3.txt", 7, 2, &f), 200);
	CHECK(f->data && !memcmp(f->data, "third", 5));
	rh_file_put(f);
	CHECK(c.data_bytes <= 10);
	rh_file_cache_destroy(&c);
}

int main(void)
{
	char err[256], conf[96];
	struct rh_file_cache cache;
	struct rh_site *site;
	struct rh_config *cfg;
	FILE *f;

	strcpy(root, "/tmp/rh-root-XXXXXX");
	mkdtemp(root);
	snprintf(outside, sizeof outside, "%s-secret", root);
	f = fopen(outside, "w");
	fputs("SECRET", f);
	fclose(f);
	write_file("index.html", "home");
	write_file("a b.c.txt", "spaces");
	mk("dir");
	write_file("dir/index.html", "dir index");
	mk("empty");
	link_to(outside, "escape");	      /* absolute symlink out of the root */
	link_to("../../../../../../../..", "up"); /* relative one */
	link_to("a b.c.txt", "inside");
	mkfifo(strcat(strcpy(conf, root), "/fifo"), 0644);

	snprintf(conf, sizeof conf, "%s.conf", root);
	f = fopen(conf, "w");
	fprintf(f, "document_root = \"%s\";\n", root);
	fclose(f);
	cfg = rh_config_load(conf, NULL, err, sizeof err);
	CHECK(cfg != NULL);
	site = rh_site_new(cfg, err, sizeof err);
	CHECK(site != NULL);
	rh_file_cache_init(&cache, 4, 1 << 20, 1 << 16);

	CHECK_INT(get(&cache, site, "/", "home"), 200);
	CHECK_INT(get(&cache, site, "/index.html", "home"), 200);
	CHECK_INT(get(&cache, site, "/a%20b.c.txt", "spaces"), 200);
	CHECK_INT(get(&cache, site, "/dir/", "dir index"), 200);
	CHECK_INT(get(&cache, site, "/dir", NULL), 301);
	CHECK_INT(get(&cache, site, "/empty/", NULL), RH_FILE_NO_INDEX);
	CHECK_INT(get(&cache, site, "/index.html/", NULL), 404);
	CHECK_INT(get(&cache, site, "/missing", NULL), 404);
	CHECK_INT(get(&cache, site, "/fifo", NULL), 403);
	CHECK_INT(get(&cache, site, "/inside", "spaces"), 200);
	/* nothing outside the root, however it is spelled */
	CHECK(get(&cache, site, "/escape", NULL) != 200);
	CHECK(get(&cache, site, "/up/tmp", NULL) != 200);
	CHECK_INT(get(&cache, site, "/../index.html", NULL), 400); /* climbs above the root */
	CHECK_INT(get(&cache, site, "/%2e%2e/%2e%2e/index.html", NULL), 400);
	{
		char p[160];
		snprintf(p, sizeof p, "/../../..%s", outside);
		CHECK_INT(get(&cache, site, p, NULL), 400);
		snprintf(p, sizeof p, "/up%s", outside);
		CHECK_INT(get(&cache, site, p, NULL), 404);
	}
	/* more files than cache entries: evicted ones still answer */
	for (int round = 0; round < 2; round++) {
		CHECK_INT(get(&cache, site, "/index.html", "home"), 200);
		CHECK_INT(get(&cache, site, "/a%20b.c.txt", "spaces"), 200);
		CHECK_INT(get(&cache, site, "/dir/", "dir index"), 200);
		CHECK_INT(get(&cache, site, "/dir/index.html", "dir index"), 200);
		CHECK_INT(get(&cache, site, "/inside", "spaces"), 200);
	}

	rh_file_cache_destroy(&cache);
	test_memory(site);
	rh_site_put(site);
	{
		char cmd[200];
		snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' '%s'", root, outside, conf);
		CHECK_INT(system(cmd), 0);
	}
	return check_done("file");
}
