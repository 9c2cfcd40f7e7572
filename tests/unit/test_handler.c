/* The handler's response plans, one for every status it produces: no
 * sockets, a real document root and the real file cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "file.h"
#include "handler.h"
#include "http_parse.h"
#include "site.h"

static char root[64];
static struct rh_handler_env env;
static struct rh_peer peer;

static void write_file(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", root, rel);
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

/* Plans the answer to the raw request head RAW. */
static struct rh_plan plan_for(const char *raw)
{
	struct rh_request req;
	struct rh_plan plan;
	ssize_t n = rh_http_parse(raw, strlen(raw), 16384, &req);

	CHECK(n != 0);
	rh_handle(&env, &req, n < 0 ? -n : 0, n > 0 && req.keep_alive, 16, &plan);
	return plan;
}

/* The status of the plan for RAW, its file reference dropped. */
static int status_of(const char *raw)
{
	struct rh_plan plan = plan_for(raw);

	if (plan.file)
		rh_file_put(plan.file);
	return plan.resp.status;
}

static void test_file_plans(void)
{
	struct rh_plan p = plan_for("GET /ten.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	char req[256];

	CHECK_INT(p.resp.status, 200);
	CHECK(!p.error && !p.close && p.resp.keep_alive);
	CHECK(p.file != NULL);
	CHECK_INT(p.body_off, 0);
	CHECK_INT(p.body_len, 10);
	CHECK_INT(p.resp.content_length, 10);
	CHECK_STR(p.resp.content_type, "text/plain");
	CHECK(p.file->queued); /* its bytes are read into memory through the ring */
	snprintf(req, sizeof req, "GET /ten.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: %.*s\r\n\r\n",
		 (int)p.resp.etag.len, p.resp.etag.p);
	rh_file_put(p.file);

	p = plan_for(req);
	CHECK_INT(p.resp.status, 304);
	CHECK_INT(p.body_len, 0);
	CHECK(p.resp.content_type == NULL);
	rh_file_put(p.file);

	p = plan_for("HEAD /ten.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK_INT(p.resp.status, 200);
	CHECK_INT(p.body_len, 0);		  /* HEAD: no body */
	CHECK_INT(p.resp.content_length, 10); /* announced all the same */
	CHECK(p.resp.head_only);
	rh_file_put(p.file);

	p = plan_for("GET /ten.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=2-4\r\n\r\n");
	CHECK_INT(p.resp.status, 206);
	CHECK_INT(p.body_off, 2);
	CHECK_INT(p.body_len, 3);
	CHECK(p.resp.ranged && p.resp.first == 2 && p.resp.last == 4 && p.resp.size == 10);
	rh_file_put(p.file);

	p = plan_for("GET /ten.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=10-\r\n\r\n");
	CHECK_INT(p.resp.status, 416);
	CHECK(p.error && p.file == NULL && p.resp.size == 10);

	p = plan_for("GET /index.txt/ HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK_INT(p.resp.status, 404);

	/* an index file's own name gives its type */
	p = plan_for("GET /d/ HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK_INT(p.resp.status, 200);
	CHECK_STR(p.resp.content_type, "text/plain");
	rh_file_put(p.file);
}

/* Preconditions, then ranges: 412, and multipart/byteranges plans. */
static void test_conditions_and_parts(void)
{
	struct rh_plan p;

	p = plan_for("GET /ten.txt HTTP/1.1\r\nHost: t\r\nIf-Match: \"nope\"\r\n\r\n");
	CHECK_INT(p.resp.status, 412);
	CHECK(p.error && p.file == NULL);
	p = plan_for("GET /ten.txt HTTP/1.1\r\nHost: t\r\n"
		     "If-Unmodified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\nRange: bytes=0-1\r\n\r\n");
	CHECK_INT(p.resp.status, 412);
	p = plan_for("GET /ten.txt HTTP/1.1\r\nHost: t\r\nIf-Match: *\r\n\r\n");
	CHECK_INT(p.resp.status, 200);
	rh_file_put(p.file);
	/* a date later than the clock is no reason for 304 */
	p = plan_for("GET /ten.txt HTTP/1.1\r\nHost: t\r\n"
		     "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n\r\n");
	CHECK_INT(p.resp.status, 200);
	rh_file_put(p.file);

	p = plan_for("GET /k.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-0,900-909\r\n\r\n");
	CHECK_INT(p.resp.status, 206);
	CHECK_INT(p.parts.n, 2);
	CHECK(!p.resp.ranged);
	CHECK(!strncmp(p.resp.content_type, "multipart/byteranges; boundary=", 31));
	CHECK_STR(p.resp.content_type + 31, p.boundary);
	CHECK_INT(p.body_len, p.resp.content_length);
	{
		struct rh_str b = { p.boundary, strlen(p.boundary) };
		struct rh_str t = { "application/octet-stream", 24 };
		CHECK_INT(p.resp.content_length, rh_multipart_length(&p.parts, b, t, 1000));
	}
	rh_file_put(p.file);
	/* parts closer than 80 bytes are one */
	p = plan_for("GET /ten.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1,3-4\r\n\r\n");
	CHECK_INT(p.resp.status, 206);
	CHECK(p.resp.ranged && p.resp.first == 0 && p.resp.last == 4);
	rh_file_put(p.file);
}

static void test_other_plans(void)
{
	struct rh_plan p = plan_for("GET /d?x=1 HTTP/1.1\r\nHost: t\r\n\r\n");

	CHECK_INT(p.resp.status, 301);
	CHECK(!p.error && p.file == NULL);
	CHECK(p.resp.location.len == 2 && !memcmp(p.resp.location.p, "/d", 2));
	CHECK(p.resp.location_has_query);
	/* the Location is the normalized path, never "//" */
	p = plan_for("GET //d HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK_INT(p.resp.status, 301);
	CHECK(p.resp.location.len == 2 && !memcmp(p.resp.location.p, "/d", 2));
	p = plan_for("GET /./e/../d HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK_INT(p.resp.status, 301);
	CHECK(p.resp.location.len == 2 && !memcmp(p.resp.location.p, "/d", 2));
	p = plan_for("GET /../d HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK_INT(p.resp.status, 400);
	CHECK(p.close);

	p = plan_for("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK_INT(p.resp.status, 204);
	CHECK(p.resp.allow && !p.error);

	p = plan_for("DELETE /ten.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK_INT(p.resp.status, 405);
	CHECK(p.error && !p.close);

	CHECK_INT(status_of("GET /missing HTTP/1.1\r\nHost: t\r\n\r\n"), 404);
	CHECK_INT(status_of("GET /empty/ HTTP/1.1\r\nHost: t\r\n\r\n"), 403);
	CHECK_INT(status_of("GET /locked.txt HTTP/1.1\r\nHost: t\r\n\r\n"),
		  geteuid() == 0 ? 200 : 403);

	/* a path that does not decode: answered, then the connection closes */
	p = plan_for("GET /a%zz HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK_INT(p.resp.status, 400);
	CHECK(p.error && p.close && !p.resp.keep_alive);

	/* heads that did not parse */
	p = plan_for("GET / HTTP/1.1\r\n\r\n");
	CHECK_INT(p.resp.status, 400);
	CHECK(p.error && p.close);
	CHECK_INT(status_of("GET / HTTP/2.0\r\nHost: t\r\n\r\n"), 505);
	CHECK_INT(status_of("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
}

/* The Location planned for GET TARGET on site "r", or "(status N)". */
static const char *redirect_for(const char *target)
{
	static char out[512];
	char raw[512];
	struct rh_plan p;

	snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: r\r\n\r\n", target);
	p = plan_for(raw);
	if (p.file)
		rh_file_put(p.file);
	if (p.resp.status < 300 || p.resp.status > 399 || p.resp.location_has_query)
		snprintf(out, sizeof out, "(status %d)", p.resp.status);
	else
		snprintf(out, sizeof out, "%.*s", (int)p.resp.location.len, p.resp.location.p);
	return out;
}

/* Prefix redirects match and cut the decoded path, then encode the rest;
 * the rest always follows a '/' of `to`'s path. */
static void test_site_redirects(void)
{
	CHECK_STR(redirect_for("/%C3%A4/page.html"), "/new/page.html");
	CHECK_STR(redirect_for("/\xc3\xa4/page.html"), "(status 400)"); /* raw: not a pchar */
	CHECK_STR(redirect_for("/%c3%a4/%C3%A4.html"), "/new/%C3%A4.html");
	CHECK_STR(redirect_for("/%25/abc"), "/pct/abc");
	CHECK_STR(redirect_for("/%25/%25"), "/pct/%25");
	CHECK_STR(redirect_for("/%25/a%3Fb%23c"), "/pct/a%3Fb%23c");
	CHECK_STR(redirect_for("/x/../%C3%A4/./p"), "/new/p");
	CHECK_STR(redirect_for("/%C3%A4/"), "/new/");
	/* the rest can never reach the authority */
	CHECK_STR(redirect_for("/blog/@evil.com/"), "https://blog.example.org/@evil.com/");
	CHECK_STR(redirect_for("/blog/.evil.com/x"), "https://blog.example.org/.evil.com/x");
	CHECK_STR(redirect_for("/blog/:80@evil.com"), "https://blog.example.org/:80@evil.com");
	CHECK_STR(redirect_for("/blog//evil.com"), "https://blog.example.org/evil.com");
	CHECK_STR(redirect_for("/v2/@evil.com/a"), "https://docs.example.org/v2/@evil.com/a");
	CHECK_STR(redirect_for("/v2/"), "https://docs.example.org/v2");
	CHECK_STR(redirect_for("/exact"), "/e");
	CHECK_STR(redirect_for("/exact/"), "(status 404)");
}

/* No descriptor left for a file not open yet: 503, with what went wrong. */
static void test_out_of_descriptors(void)
{
	struct rlimit saved, low;
	struct rh_plan p;
	int probe = dup(0);

	getrlimit(RLIMIT_NOFILE, &saved);
	low = (struct rlimit){ probe, saved.rlim_max };
	close(probe);
	setrlimit(RLIMIT_NOFILE, &low);
	while (dup(0) >= 0)
		;
	p = plan_for("GET /other.txt HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK_INT(p.resp.status, 503);
	CHECK(p.error && p.problem != NULL);
	setrlimit(RLIMIT_NOFILE, &saved);
}

int main(void)
{
	char err[256], conf[96], dir[96];
	struct rh_file_cache cache;
	struct rh_config *cfg;
	struct rh_site *site;
	FILE *f;

	strcpy(root, "/tmp/rh-handler-XXXXXX");
	mkdtemp(root);
	write_file("ten.txt", "0123456789");
	{
		char k[1001];
		memset(k, 'k', 1000);
		k[1000] = '\0';
		write_file("k.bin", k);
	}
	write_file("other.txt", "other");
	write_file("locked.txt", "locked");
	snprintf(dir, sizeof dir, "%s/locked.txt", root);
	chmod(dir, 0);
	snprintf(dir, sizeof dir, "%s/d", root);
	mkdir(dir, 0755);
	write_file("d/index.txt", "an index");
	snprintf(dir, sizeof dir, "%s/empty", root);
	mkdir(dir, 0755);

	snprintf(conf, sizeof conf, "%s.conf", root);
	f = fopen(conf, "w");
	fprintf(f, "document_root = \"%s\";\nindex = [\"index.html\", \"index.txt\"];\n", root);
	fprintf(f, "sites = ( { server_name = [ \"r\" ]; document_root = \"%s\";\n"
		   "  redirects = ( { from = \"/\xc3\xa4/*\"; to = \"/new/\"; },\n"
		   "                { from = \"/%%/*\"; to = \"/pct/\"; },\n"
		   "                { from = \"/blog/*\"; to = \"https://blog.example.org/\"; },\n"
		   "                { from = \"/v2/*\"; to = \"https://docs.example.org/v2\"; },\n"
		   "                { from = \"/exact\"; to = \"/e\"; } ); } );\n",
		root);
	fclose(f);
	cfg = rh_config_load(conf, NULL, err, sizeof err);
	CHECK(cfg != NULL);
	site = rh_site_new(cfg, err, sizeof err);
	CHECK(site != NULL);
	rh_file_cache_init(&cache, 16, 1 << 20, 1 << 16);
	env = (struct rh_handler_env){ .site = site, .files = &cache, .now = 1, .wall = time(NULL),
				       .date = "Tue, 01 Dec 2026 00:00:00 GMT", .random = 0x1234,
				       .peer = &peer, .may_block = true };

	test_file_plans();
	test_conditions_and_parts();
	test_other_plans();
	test_site_redirects();
	test_out_of_descriptors();

	rh_file_cache_destroy(&cache);
	rh_site_put(site);
	unlink(conf);
	printf("handler: %d checks, %d failed\n", check_count, check_failures);
	return check_failures != 0;
}
