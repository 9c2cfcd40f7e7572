#include <fcntl.h>
#include <liburing.h>
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
#include "ud.h"

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

/* Decodes and resolves ENC (-1 when it does not normalize); on a file
 * also checks the content. */
static int get(struct rh_file_cache *c, struct rh_site *site, const char *enc,
	       const char *want_content)
{
	char path[4096], buf[64];
	ssize_t n = rh_path_normalize(enc, strlen(enc), path, sizeof path);
	struct rh_file *f;
	enum rh_lookup status;

	if (n < 0)
		return -1;
	status = rh_file_get(c, site, 0, path, n, 1, true, &f);
	if (status == RH_LOOKUP_FILE) {
		ssize_t got = pread(f->fd, buf, sizeof buf - 1, 0);
		buf[got > 0 ? got : 0] = '\0';
		if (want_content)
			CHECK_STR(buf, want_content);
		rh_file_put(f);
	}
	return status;
}

/* Gets PATH and lets the ring read what the cache queued into memory. */
static struct rh_file *get_loaded(struct rh_file_cache *c, struct rh_site *site,
				  struct io_uring *u, const char *path, time_t now)
{
	struct io_uring_cqe *cqe;
	struct rh_file *f;

	CHECK_INT(rh_file_get(c, site, 0, path, strlen(path), now, true, &f), RH_LOOKUP_FILE);
	rh_file_cache_submit_loads(c, u);
	io_uring_submit(u);
	while (io_uring_peek_cqe(u, &cqe) == 0 || io_uring_wait_cqe_nr(u, &cqe, 0) == 0) {
		if (!cqe)
			break;
		CHECK_INT(rh_ud_op(cqe->user_data), RH_OP_FILE_LOAD);
		rh_file_cache_loaded(c, rh_ud_idx(cqe->user_data), cqe->res);
		io_uring_cqe_seen(u, cqe);
	}
	return f;
}

/* The bytes of small files are read into memory through the ring, within
 * the cache's bounds, and a file rewritten in place is seen at the next
 * second's check. */
static void test_memory(struct rh_site *site)
{
	struct rh_file_cache c;
	struct io_uring u;
	struct rh_file *f;
	char big[300];

	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	write_file("m1.txt", "first");
	write_file("m2.txt", "other");
	write_file("big.txt", big);
	CHECK_INT(io_uring_queue_init(8, &u, 0), 0);
	rh_file_cache_init(&c, 8, 10, 200); /* 10 bytes in all, files up to 200 */

	/* the first answer comes from the descriptor; the bytes follow */
	CHECK_INT(rh_file_get(&c, site, 0, "/m1.txt", 7, 1, true, &f), RH_LOOKUP_FILE);
	CHECK(f->data == NULL);
	rh_file_put(f);
	CHECK_INT(rh_file_get(&c, site, 0, "/m1.txt", 7, 1, true, &f), RH_LOOKUP_FILE);
	rh_file_put(f);
	f = get_loaded(&c, site, &u, "/m1.txt", 1);
	CHECK(f->data && !memcmp(f->data, "first", 5));
	CHECK_INT(c.data_bytes, 5);
	rh_file_put(f);
	f = get_loaded(&c, site, &u, "/big.txt", 1);
	CHECK(f->data == NULL); /* over file_cache_max_file: sent from its descriptor */
	rh_file_put(f);
	f = get_loaded(&c, site, &u, "/m2.txt", 1);
	CHECK(f->data && !memcmp(f->data, "other", 5));
	rh_file_put(f);
	CHECK_INT(c.data_bytes, 10);

	/* same size, new bytes: seen at the next second's check */
	write_file("m1.txt", "FIRST");
	f = get_loaded(&c, site, &u, "/m1.txt", 2);
	rh_file_put(f);
	f = get_loaded(&c, site, &u, "/m1.txt", 2);
	CHECK(f->data && !memcmp(f->data, "FIRST", 5));
	rh_file_put(f);
	/* a third small file does not fit beside the two: the oldest makes room */
	write_file("m3.txt", "third");
	f = get_loaded(&c, site, &u, "/m3.txt", 2);
	rh_file_put(f);
	f = get_loaded(&c, site, &u, "/m3.txt", 2);
	CHECK(f->data && !memcmp(f->data, "third", 5));
	rh_file_put(f);
	CHECK(c.data_bytes <= 10);

	/* a file dropped from the cache while its bytes are read keeps none */
	write_file("m4.txt", "four");
	CHECK_INT(rh_file_get(&c, site, 0, "/m4.txt", 7, 2, true, &f), RH_LOOKUP_FILE);
	rh_file_cache_flush(&c);
	rh_file_cache_submit_loads(&c, &u);
	CHECK(f->data == NULL && f->loading == NULL);
	rh_file_put(f);
	rh_file_cache_destroy(&c);
	io_uring_queue_exit(&u);
}

/* A path the dentry cache does not hold is not looked up unless the
 * look-up may block: it names the path to warm instead. Needs root, to
 * drop the dentry cache. */
static void test_cold(struct rh_site *site)
{
	struct rh_file_cache c;
	struct rh_file *f;
	char want[200];
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	rh_file_cache_init(&c, 8, 1 << 20, 0); /* no bytes in memory: no load holds the file */
	write_file("cold.txt", "cold");
	CHECK_INT(rh_file_get(&c, site, 0, "/cold.txt", 9, 1, false, &f), RH_LOOKUP_FILE);
	rh_file_put(f);
	rh_file_cache_flush(&c); /* its open descriptor would keep the entry */
	sync();			 /* a dirty inode would keep it too */
	if (fd < 0 || write(fd, "2", 1) != 1) {
		printf("test_cold: cannot drop the dentry cache (not root): skipped\n");
	} else {
		CHECK_INT(rh_file_get(&c, site, 0, "/cold.txt", 9, 2, false, &f), RH_LOOKUP_COLD);
		snprintf(want, sizeof want, "%s/cold.txt", root);
		CHECK_STR(c.cold_path, want);
		CHECK_INT(rh_file_get(&c, site, 0, "/cold.txt", 9, 2, true, &f), RH_LOOKUP_FILE);
		rh_file_put(f);
	}
	if (fd >= 0)
		close(fd);
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

	CHECK_INT(get(&cache, site, "/", "home"), RH_LOOKUP_FILE);
	CHECK_INT(get(&cache, site, "/index.html", "home"), RH_LOOKUP_FILE);
	CHECK_INT(get(&cache, site, "/a%20b.c.txt", "spaces"), RH_LOOKUP_FILE);
	CHECK_INT(get(&cache, site, "/dir/", "dir index"), RH_LOOKUP_FILE);
	CHECK_INT(get(&cache, site, "/dir", NULL), RH_LOOKUP_DIRECTORY);
	CHECK_INT(get(&cache, site, "/empty/", NULL), RH_LOOKUP_NO_INDEX);
	CHECK_INT(get(&cache, site, "/index.html/", NULL), RH_LOOKUP_MISSING);
	CHECK_INT(get(&cache, site, "/missing", NULL), RH_LOOKUP_MISSING);
	CHECK_INT(get(&cache, site, "/fifo", NULL), RH_LOOKUP_FORBIDDEN);
	CHECK_INT(get(&cache, site, "/inside", "spaces"), RH_LOOKUP_FILE);
	/* nothing outside the root, however it is spelled */
	CHECK(get(&cache, site, "/escape", NULL) != RH_LOOKUP_FILE);
	CHECK(get(&cache, site, "/up/tmp", NULL) != RH_LOOKUP_FILE);
	CHECK_INT(get(&cache, site, "/../index.html", NULL), -1); /* climbs above the root */
	CHECK_INT(get(&cache, site, "/%2e%2e/%2e%2e/index.html", NULL), -1);
	{
		char p[160];
		snprintf(p, sizeof p, "/../../..%s", outside);
		CHECK_INT(get(&cache, site, p, NULL), -1);
		snprintf(p, sizeof p, "/up%s", outside);
		CHECK_INT(get(&cache, site, p, NULL), RH_LOOKUP_MISSING);
	}
	/* more files than cache entries: evicted ones still answer */
	for (int round = 0; round < 2; round++) {
		CHECK_INT(get(&cache, site, "/index.html", "home"), RH_LOOKUP_FILE);
		CHECK_INT(get(&cache, site, "/a%20b.c.txt", "spaces"), RH_LOOKUP_FILE);
		CHECK_INT(get(&cache, site, "/dir/", "dir index"), RH_LOOKUP_FILE);
		CHECK_INT(get(&cache, site, "/dir/index.html", "dir index"), RH_LOOKUP_FILE);
		CHECK_INT(get(&cache, site, "/inside", "spaces"), RH_LOOKUP_FILE);
	}

	rh_file_cache_destroy(&cache);
	test_memory(site);
	test_cold(site);
	rh_site_put(site);
	{
		char cmd[200];
		snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' '%s'", root, outside, conf);
		CHECK_INT(system(cmd), 0);
	}
	return check_done("file");
}
