#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "conf_read.h"
#include "config.h"
#include "log.h"
#include "site_conf.h"

static char path[64];

static struct rh_config *load(const char *text, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	return rh_config_load(path, NULL, err, errlen);
}

/* The message must be "PATH:LINE: REST". */
static void check_error(const char *text, int line, const char *rest)
{
	char err[512], want[600];
	struct rh_config *cfg = load(text, err, sizeof err);

	CHECK(cfg == NULL);
	rh_config_free(cfg);
	snprintf(want, sizeof want, "%s:%d: %s", path, line, rest);
	CHECK_STR(err, want);
}

/* ringhttpd.conf(5) documents every key of the table, with the type,
 * bounds, default and restart mark the table gives, under "Sites" when it
 * is a key of sites; it documents no key the table lacks. */
static void test_manual(void)
{
	const char *top = getenv("top_srcdir");
	char file[4096], line[1024], section[64] = "";
	bool seen[64] = { false }, in_sites[64] = { false };
	FILE *f;

	CHECK(rh_conf_n_keys <= 64);
	snprintf(file, sizeof file, "%s/data/ringhttpd.conf.5", top ? top : ".");
	f = fopen(file, "r");
	CHECK(f != NULL);
	if (!f) {
		fprintf(stderr, "%s: cannot read (is top_srcdir set?)\n", file);
		return;
	}
	while (fgets(line, sizeof line, f)) {
		char name[64], doc[512], want[600];
		const struct rh_conf_key *k;

		if (sscanf(line, ".SS %63[^\n]", section) == 1 || sscanf(line, ".SH %63[^\n]", section) == 1)
			continue;
		if (sscanf(line, ".BR %63[a-z0-9_] \" (%511[^\n]", name, doc) != 2)
			continue;
		k = rh_conf_key_find(name);
		CHECK(k != NULL);
		if (!k) {
			fprintf(stderr, "ringhttpd.conf.5 documents \"%s\", which is no key\n", name);
			continue;
		}
		rh_conf_key_doc(k, want, sizeof want);
		strcat(want, ")\"");
		if (strcmp(doc, want))
			fprintf(stderr, "ringhttpd.conf.5: want .BR %s \" (%s\n", name, want);
		CHECK_STR(doc, want);
		seen[k - rh_conf_keys] = true;
		in_sites[k - rh_conf_keys] |= !strcmp(section, "Sites");
		/* under Sites only keys of sites, and `sites` itself */
		if (!strcmp(section, "Sites") && strcmp(name, "sites"))
			CHECK(rh_conf_key_in_site(k));
	}
	fclose(f);
	for (size_t i = 0; i < rh_conf_n_keys; i++) {
		if (!seen[i])
			fprintf(stderr, "ringhttpd.conf.5 lacks %s\n", rh_conf_keys[i].name);
		CHECK(seen[i]);
		if (rh_conf_key_in_site(&rh_conf_keys[i]))
			CHECK(in_sites[i]);
	}
}

/* data/ringhttpd.conf shows every key, set or in a comment. */
static void test_shipped_file(void)
{
	const char *top = getenv("top_srcdir");
	char file[4096], line[1024];
	bool seen[64] = { false };
	FILE *f;

	snprintf(file, sizeof file, "%s/data/ringhttpd.conf", top ? top : ".");
	f = fopen(file, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char name[64];
		const struct rh_conf_key *k;

		if ((sscanf(line, "%63[a-z0-9_] =", name) == 1 ||
		     sscanf(line, "#%*[ ]%63[a-z0-9_] =", name) == 1) &&
		    (k = rh_conf_key_find(name)))
			seen[k - rh_conf_keys] = true;
	}
	fclose(f);
	for (size_t i = 0; i < rh_conf_n_keys; i++) {
		if (!seen[i])
			fprintf(stderr, "data/ringhttpd.conf lacks %s\n", rh_conf_keys[i].name);
		CHECK(seen[i]);
	}
}

/* Which keys a reload cannot apply: those the table marks, when changed. */
static void test_restart_keys(void)
{
	char err[512], keys[256];
	struct rh_config *a = load("document_root = \"/tmp\";\ncpu_limit = 2;\n", err, sizeof err);
	struct rh_config *b = load("document_root = \"/\";\ncpu_limit = 3;\nbuffer_size = 8192;\n"
				   "listen = [ \"127.0.0.1:80\" ];\nmax_connections_per_ip = 4;\n"
				   "keepalive_timeout = 5;\nlisting_max_entries = 9;\n",
				   err, sizeof err);
	struct rh_config *c = load("document_root = \"/tmp\";\ncpu_limit = 2;\nsend_timeout = 1;\n"
				   "types = { md = \"text/markdown\"; };\nlog_level = \"debug\";\n",
				   err, sizeof err);

	CHECK(a && b && c);
	if (a && b && c) {
		CHECK_INT(rh_config_restart_keys(a, b, keys, sizeof keys), 4);
		CHECK_STR(keys, "cpu_limit, buffer_size, listen, max_connections_per_ip");
		CHECK_INT(rh_config_restart_keys(a, c, keys, sizeof keys), 0);
		CHECK_STR(keys, "");
	}
	rh_config_free(a);
	rh_config_free(b);
	rh_config_free(c);
}

/* listing_max_entries and max_connections_per_ip_v6_prefix as loaded from
 * a configuration holding TEXT. */
static void check_new_keys(const char *text, unsigned listing, unsigned prefix)
{
	char conf[256], err[512];
	struct rh_config *cfg;

	snprintf(conf, sizeof conf, "document_root = \"/tmp\";\n%s", text);
	cfg = load(conf, err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg) {
		CHECK_INT(cfg->listing_max_entries, listing);
		CHECK_INT(cfg->max_connections_per_ip_v6_prefix, prefix);
	}
	rh_config_free(cfg);
}

int main(void)
{
	char err[512];
	struct rh_config *cfg;
	const char *ov_listen[] = { "[::1]:8081" };
	struct rh_config_overrides ov = { .document_root = "/", .listen = ov_listen, .n_listen = 1,
					  .cpu_limit = 3 };

	strcpy(path, "/tmp/rh-config-XXXXXX");
	close(mkstemp(path));

	cfg = load("document_root = \"/tmp\";\n", err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg) { /* the defaults */
		CHECK_INT(cfg->cpu_limit, 0);
		CHECK(cfg->share_ring_backend);
		CHECK(!cfg->enable_sq_poll);
		CHECK(cfg->register_buffers);
		CHECK_INT(cfg->ring_entries, 4096);
		CHECK_INT(cfg->buffer_size, 16384);
		CHECK_INT(cfg->splice_threshold, 0);
		CHECK_INT(cfg->n_listen, 2);
		CHECK_STR(cfg->listen[0], "0.0.0.0:80");
		CHECK_STR(cfg->listen[1], "[::]:80");
		CHECK_STR(cfg->user, "www-data");
		CHECK_INT(cfg->sites->site[0].n_index, 1);
		CHECK_STR(cfg->sites->site[0].index[0], "index.html");
		CHECK_INT(cfg->keepalive_timeout, 75);
		CHECK_INT(cfg->header_timeout, 10);
		CHECK_INT(cfg->send_timeout, 60);
		CHECK_STR(cfg->access_log, "off");
		CHECK_INT(cfg->log_level, RH_LOG_INFO);
	}
	rh_config_free(cfg);

	cfg = load("document_root = \"/tmp\";\ncpu_limit = 2;\nenable_sq_poll = true;\nindex = [\"a.htm\", \"b.html\"];\n"
		   "types = { md = \"text/markdown\"; };\nlog_level = \"debug\";\n"
		   "access_log = \"journal\";\nlisten = [\"127.0.0.1:0\"];\n", err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg) {
		CHECK_INT(cfg->cpu_limit, 2);
		CHECK(cfg->enable_sq_poll);
		CHECK_INT(cfg->sites->site[0].n_index, 2);
		CHECK_STR(cfg->sites->site[0].index[1], "b.html");
		CHECK_INT(cfg->n_types, 1);
		CHECK_STR(cfg->types[0].ext, "md");
		CHECK_STR(cfg->types[0].type, "text/markdown");
		CHECK_INT(cfg->log_level, RH_LOG_DEBUG);
	}
	rh_config_free(cfg);

	/* command-line values replace the file's */
	{
		FILE *f = fopen(path, "w");
		fputs("document_root = \"/nonexistent\";\ncpu_limit = 1;\n", f);
		fclose(f);
		cfg = rh_config_load(path, &ov, err, sizeof err);
		CHECK(cfg != NULL);
		if (cfg) {
			CHECK_STR(cfg->document_root, "/");
			CHECK_INT(cfg->n_listen, 1);
			CHECK_STR(cfg->listen[0], "[::1]:8081");
			CHECK_INT(cfg->cpu_limit, 3);
		}
		rh_config_free(cfg);
	}

	check_error("\n\nbogus_key = 1;\n", 3, "bogus_key: unknown key");
	check_error("cpu_limit = \"two\";\n", 1, "cpu_limit: expected an integer");
	check_error("cpu_limit = -1;\n", 1, "cpu_limit: -1 is out of range (0 to 4096)");
	check_error("enable_sq_poll = 1;\n", 1, "enable_sq_poll: expected true or false");
	check_error("ring_entries = 100;\n", 1, "ring_entries: 100 is not a power of two");
	check_error("buffer_size = 100;\n", 1, "buffer_size: 100 is out of range (4096 to 1048576)");
	check_error("listen = [\"localhost:80\"];\n", 1,
		    "listen: \"localhost:80\" is not ADDR:PORT (IPv6: [ADDR]:PORT)");
	check_error("listen = \"0.0.0.0:80\";\n", 1,
		    "listen: expected a list of strings, like [ \"a\", \"b\" ]");
	check_error("index = [\"../x\"];\n", 1, "index: \"../x\" is not a file name");
	check_error("keepalive_timeout = 0;\n", 1, "keepalive_timeout: 0 is out of range (1 to 86400)");
	check_error("access_log = \"relative.log\";\n", 1,
		    "access_log: expected \"off\", \"journal\" or an absolute file path");
	check_error("log_level = \"loud\";\n", 1,
		    "log_level: \"loud\" is not one of error, warning, notice, info, debug");
	check_error("types = { md = 1; };\n", 1, "md: expected a media type string");
	check_error("\ndocument_root = \"/nonexistent-root\";\n", 2,
		    "document_root: /nonexistent-root: No such file or directory");
	check_error("cpu_limit = 1;\nshare_ring_backend = = true;\n", 2, "syntax error");

	/* new keys: their defaults and bounds */
	check_new_keys("", 10000, 64);
	check_new_keys("listing_max_entries = 1000000;\nmax_connections_per_ip_v6_prefix = 128;\n",
		       1000000, 128);
	check_new_keys("listing_max_entries = 1;\nmax_connections_per_ip_v6_prefix = 1;\n", 1, 1);
	check_error("listing_max_entries = 0;\n", 1, "listing_max_entries: 0 is out of range (1 to 1000000)");
	check_error("listing_max_entries = 1000001;\n", 1,
		    "listing_max_entries: 1000001 is out of range (1 to 1000000)");
	check_error("listing_max_entries = \"many\";\n", 1, "listing_max_entries: expected an integer");
	check_error("max_connections_per_ip_v6_prefix = 0;\n", 1,
		    "max_connections_per_ip_v6_prefix: 0 is out of range (1 to 128)");
	check_error("max_connections_per_ip_v6_prefix = 129;\n", 1,
		    "max_connections_per_ip_v6_prefix: 129 is out of range (1 to 128)");

	/* what start-up would refuse, the loader (and so -t) refuses */
	check_error("document_root = \"tmp\";\n", 1, "document_root: \"tmp\" is not an absolute path");
	check_error("document_root = \"\";\n", 1, "document_root: \"\" is not an absolute path");
	check_error("document_root = \"/tmp\";\naccess_log = \"/tmp\";\n", 2,
		    "access_log: /tmp: Is a directory");
	check_error("document_root = \"/tmp\";\ntypes = { md = \"text/markdown\\x0b\"; };\n", 2,
		    "md: \"text/markdown\\x0B\" is not a media type");
	check_error("document_root = \"/tmp\";\ntypes = { md = \"text/\\x7fmarkdown\"; };\n", 2,
		    "md: \"text/\\x7Fmarkdown\" is not a media type");
	check_error("document_root = \"/tmp\";\ntypes = { md = \"text/markdown\\tx\"; };\n", 2,
		    "md: \"text/markdown\\x09x\" is not a media type");
	check_error("index = [ \"index.html\", \"..\" ];\n", 1, "index: \"..\" is not a file name");
	check_error("index = [ \".\" ];\n", 1, "index: \".\" is not a file name");
	check_error("index = [ \"\" ];\n", 1, "index: \"\" is not a file name");
	/* index names may still start with a dot */
	cfg = load("document_root = \"/tmp\";\nindex = [ \".index.html\", \"..html\" ];\n", err,
		   sizeof err);
	CHECK(cfg != NULL);
	rh_config_free(cfg);

	/* a relative --root is taken from the working directory */
	{
		const char *rel = "tmp";
		struct rh_config_overrides rov = { .document_root = rel, .cpu_limit = -1 };
		char *cwd = getcwd(NULL, 0);
		FILE *f = fopen(path, "w");

		fputs("user = \"\";\n", f);
		fclose(f);
		CHECK(chdir("/") == 0);
		cfg = rh_config_load(path, &rov, err, sizeof err);
		CHECK(cfg != NULL);
		if (cfg) {
			CHECK_STR(cfg->document_root, "/tmp");
			CHECK_STR(cfg->sites->site[0].document_root, "/tmp");
		}
		rh_config_free(cfg);
		CHECK(chdir("/tmp") == 0);
		rov.document_root = ".";
		cfg = rh_config_load(path, &rov, err, sizeof err);
		CHECK(cfg != NULL);
		if (cfg)
			CHECK_STR(cfg->document_root, "/tmp/.");
		rh_config_free(cfg);
		CHECK(cwd && chdir(cwd) == 0);
		free(cwd);
	}

	test_restart_keys();
	test_manual();
	test_shipped_file();
	unlink(path);
	return check_done("config");
}
