#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "site_conf.h"
#include "log.h"

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

	unlink(path);
	return check_done("config");
}
