#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "site_conf.h"
#include "vhost.h"

static char path[64];

static struct rh_sites_conf *parse(const char *text, char *err, size_t errlen)
{
	struct rh_conf_err e = { path, err, errlen };
	struct rh_sites_conf *sc = NULL;
	FILE *f = fopen(path, "w");
	config_t lc;

	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	config_init(&lc);
	if (!config_read_file(&lc, path))
		snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&lc), config_error_text(&lc));
	else
		sc = rh_sites_conf_parse(config_root_setting(&lc), "/srv/default", &e);
	config_destroy(&lc);
	return sc;
}

/* The message must be "PATH:LINE: REST". */
static void check_error_(int at, const char *text, int line, const char *rest)
{
	char err[600], want[700];
	struct rh_sites_conf *sc = parse(text, err, sizeof err);

	snprintf(want, sizeof want, "%s:%d: %s", path, line, rest);
	if (sc || strcmp(err, want))
		fprintf(stderr, "test_site_conf.c:%d: for this text:\n%s\n", at, text);
	CHECK(sc == NULL);
	CHECK_STR(err, want);
	rh_sites_conf_free(sc);
}
#define check_error(...) check_error_(__LINE__, __VA_ARGS__)

static void test_defaults(void)
{
	char err[600];
	struct rh_sites_conf *sc = parse("listen = [ \"127.0.0.1:0\" ];\n", err, sizeof err);
	const struct rh_site_conf *s;
	struct rh_peer lo = { .family = 2, .addr = { 127, 0, 0, 1 } };

	CHECK(sc != NULL);
	if (!sc)
		return;
	CHECK_INT(sc->n_site, 1);
	s = &sc->site[0];
	CHECK_STR(s->name, "");
	CHECK_INT(s->n_server_name, 0);
	CHECK_STR(s->document_root, "/srv/default");
	CHECK_INT(s->n_index, 1);
	CHECK_STR(s->index[0], "index.html");
	CHECK_STR(s->charset, "");
	CHECK_INT(s->n_precompressed, 0);
	CHECK_INT(s->dotfiles, RH_DOTFILES_DENY);
	CHECK(!s->directory_listing);
	CHECK_INT(s->n_error_pages, 0);
	CHECK_STR(s->fallback, "");
	CHECK_INT(s->n_headers, 0);
	CHECK_INT(s->n_redirects, 0);
	CHECK_STR(sc->status_path, "");
	CHECK_INT(sc->n_status_allow, 2);
	CHECK(rh_status_allowed(sc->status_allow, sc->n_status_allow, &lo));
	CHECK_INT(rh_vhost_select(sc->vhost, "anything", 8), 0);
	rh_sites_conf_free(sc);
}

static const char full[] =
	"document_root = \"/ignored/here\";\n"
	"index = [ \"index.htm\" ];\n"
	"charset = \"utf-8\";\n"
	"server_name = \"Default.Example.\";\n"
	"status_path = \"/.ringhttpd/metrics\";\n"
	"status_allow = [ \"10.0.0.0/8\", \"2001:db8::/32\" ];\n"
	"headers = ( { match = \"/*\"; set = \"X-Site: default\"; always = true; } );\n"
	"sites = (\n"
	"  { server_name = [ \"example.org\", \"*.Example.org\" ];\n"
	"    document_root = \"/srv/example\";\n"
	"    precompressed = [ \"zstd\", \"br\", \"gzip\" ];\n"
	"    dotfiles = \"allow\";\n"
	"    directory_listing = true;\n"
	"    error_pages = ( { status = 404; page = \"/404.html\"; },\n"
	"                    { status = [ 403, 410 ]; page = \"/gone.html\"; } );\n"
	"    fallback = \"/index.html\";\n"
	"    headers = ( { match = \"*.css\"; set = [ \"Cache-Control: max-age=60\", \"Vary: Origin\" ]; },\n"
	"                { match = \"/assets/*\"; set = [ \"Access-Control-Allow-Origin: *\" ]; always = false; } );\n"
	"    redirects = ( { from = \"/old\"; to = \"/new\"; status = 301; },\n"
	"                  { from = \"/blog/*\"; to = \"https://blog.example.org/\"; } );\n"
	"  },\n"
	"  { server_name = [ \"static.test\" ]; document_root = \"/srv/static\"; }\n"
	");\n";

static void test_full(void)
{
	char err[600];
	struct rh_sites_conf *sc = parse(full, err, sizeof err);
	const struct rh_site_conf *d, *s, *t;
	struct rh_peer p10 = { .family = 2, .addr = { 10, 1, 2, 3 } };
	struct rh_peer lo = { .family = 2, .addr = { 127, 0, 0, 1 } };

	CHECK(sc != NULL);
	if (!sc) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_INT(sc->n_site, 3);
	d = &sc->site[0];
	s = &sc->site[1];
	t = &sc->site[2];
	/* the top level: its own keys, the document root it was given */
	CHECK_STR(d->document_root, "/srv/default");
	CHECK_INT(d->root_line, 1);
	CHECK_STR(d->index[0], "index.htm");
	CHECK_STR(d->charset, "utf-8");
	CHECK_STR(d->name, "default.example");
	CHECK_INT(d->n_headers, 1);
	CHECK(d->headers[0].always);
	CHECK_STR(sc->status_path, "/.ringhttpd/metrics");
	CHECK_INT(sc->n_status_allow, 2);
	CHECK(rh_status_allowed(sc->status_allow, sc->n_status_allow, &p10));
	CHECK(!rh_status_allowed(sc->status_allow, sc->n_status_allow, &lo));
	/* a site stands alone: the top level's charset, index, headers are not its */
	CHECK_STR(s->name, "example.org");
	CHECK_INT(s->line, 9);
	CHECK_INT(s->root_line, 10);
	CHECK_INT(s->n_server_name, 2);
	CHECK_STR(s->server_name[1], "*.example.org");
	CHECK_STR(s->document_root, "/srv/example");
	CHECK_STR(s->charset, "");
	CHECK_STR(s->index[0], "index.html");
	CHECK_INT(s->n_precompressed, 3);
	CHECK_INT(s->precompressed[0], RH_CODING_ZSTD);
	CHECK_INT(s->precompressed[1], RH_CODING_BR);
	CHECK_INT(s->precompressed[2], RH_CODING_GZIP);
	CHECK_INT(s->dotfiles, RH_DOTFILES_ALLOW);
	CHECK(s->directory_listing);
	CHECK_INT(s->n_error_pages, 3);
	CHECK_STR(rh_site_error_page(s, 404), "/404.html");
	CHECK_STR(rh_site_error_page(s, 403), "/gone.html");
	CHECK_STR(rh_site_error_page(s, 410), "/gone.html");
	CHECK(rh_site_error_page(s, 500) == NULL);
	CHECK_STR(s->fallback, "/index.html");
	CHECK_INT(s->n_headers, 2);
	CHECK_INT(s->max_header_lines, 3);
	CHECK_INT(sc->max_header_lines, 3);
	CHECK_STR(s->headers[0].set[1].line, "Vary: Origin");
	CHECK(!s->headers[1].always);
	CHECK_INT(s->n_redirects, 2);
	CHECK_INT(s->redirects[0].status, 301);
	CHECK_INT(s->redirects[1].status, 302);
	CHECK(s->redirects[1].prefix);
	CHECK_STR(t->name, "static.test");
	CHECK_STR(t->charset, "");
	CHECK_INT(t->n_headers, 0);
	/* Host selection over the three */
	CHECK_INT(rh_vhost_select(sc->vhost, "www.example.org:8080", 20), 1);
	CHECK_INT(rh_vhost_select(sc->vhost, "STATIC.test", 11), 2);
	CHECK_INT(rh_vhost_select(sc->vhost, "default.example", 15), 0);
	CHECK_INT(rh_vhost_select(sc->vhost, "nowhere", 7), 0);
	CHECK(rh_sites_select(sc, "a.example.org", 13) == s);
	CHECK(rh_sites_select(sc, NULL, 0) == d);
	rh_sites_conf_free(sc);
}

#define SITE(body) "sites = (\n  { server_name = [ \"a.test\" ]; document_root = \"/srv/a\";\n" body "  }\n);\n"

static void test_errors(void)
{
	/* the shape of `sites` and of a site */
	check_error("sites = { a = 1; };\n", 1,
		    "sites: expected a list of groups, like ( { server_name = [ \"example.org\" ]; "
		    "document_root = \"/srv/example\"; } )");
	check_error("sites = ( 1 );\n", 1, "sites: element 1 is not a group { ... }");
	check_error("sites = (\n  { document_root = \"/srv/a\"; }\n);\n", 2,
		    "sites: a site needs a server_name");
	check_error("sites = (\n  { server_name = [ \"a.test\" ]; }\n);\n", 2,
		    "sites: a site needs a document_root");
	check_error(SITE("    document_rot = \"/x\";\n"), 3, "document_rot: unknown key");
	check_error(SITE("    listen = [ \"0.0.0.0:80\" ];\n"), 3,
		    "listen: is server-wide: set it at the top level, not in a site");
	check_error(SITE("    status_path = \"/m\";\n"), 3,
		    "status_path: is server-wide: set it at the top level, not in a site");
	check_error("sites = (\n  { server_name = [ \"a.test\" ];\n    document_root = \"srv/a\"; }\n);\n",
		    3, "document_root: \"srv/a\" is not an absolute path");
	/* every server-wide key of the table, whatever its value */
	for (size_t i = 0; i < rh_conf_n_keys; i++) {
		char text[300], rest[200];

		if (rh_conf_key_in_site(&rh_conf_keys[i]))
			continue;
		snprintf(text, sizeof text, SITE("    %s = 1;\n"), rh_conf_keys[i].name);
		snprintf(rest, sizeof rest, "%s: is server-wide: set it at the top level, not in a site",
			 rh_conf_keys[i].name);
		check_error(text, 3, rest);
	}
	check_error(SITE("    max_ranges = 4;\n"), 3,
		    "max_ranges: is server-wide: set it at the top level, not in a site");
	check_error(SITE("    max_connections_per_ip = 4;\n"), 3,
		    "max_connections_per_ip: is server-wide: set it at the top level, not in a site");
	check_error(SITE("    index = [ \"..\" ];\n"), 3, "index: \"..\" is not a file name");
	/* server_name */
	check_error("\nserver_name = [ \"exa mple.org\" ];\n", 2,
		    "server_name: \"exa mple.org\" is not a host name (letters, digits, '-', '_' and "
		    "dots, optionally behind a leading \"*.\"; no port)");
	check_error("server_name = [ \"example.org:80\" ];\n", 1,
		    "server_name: \"example.org:80\" is not a host name (letters, digits, '-', '_' and "
		    "dots, optionally behind a leading \"*.\"; no port)");
	check_error("server_name = [ \"a.*.org\" ];\n", 1,
		    "server_name: \"a.*.org\" is not a host name (letters, digits, '-', '_' and "
		    "dots, optionally behind a leading \"*.\"; no port)");
	check_error("server_name = [ \"*\" ];\n", 1,
		    "server_name: \"*\" is not a host name (letters, digits, '-', '_' and "
		    "dots, optionally behind a leading \"*.\"; no port)");
	check_error("server_name = [ \"a..org\" ];\n", 1,
		    "server_name: \"a..org\" is not a host name (letters, digits, '-', '_' and "
		    "dots, optionally behind a leading \"*.\"; no port)");
	check_error("server_name = [ \"-a.org\" ];\n", 1,
		    "server_name: \"-a.org\" is not a host name (letters, digits, '-', '_' and "
		    "dots, optionally behind a leading \"*.\"; no port)");
	check_error("server_name = [ \"\" ];\n", 1,
		    "server_name: \"\" is not a host name (letters, digits, '-', '_' and "
		    "dots, optionally behind a leading \"*.\"; no port)");
	check_error("server_name = [ 1 ];\n", 1, "server_name: element 1 is not a string");
	check_error("server_name = [ \"a.org\", \"A.org.\" ];\n", 1,
		    "server_name: \"A.org.\" is listed twice");
	check_error("server_name = [ \"a.test\" ];\n" SITE(""), 3,
		    "server_name: \"a.test\" is already a name of the default site");
	check_error("sites = (\n  { server_name = \"a.test\"; document_root = \"/a\"; },\n"
		    "  { server_name = [ \"b.test\", \"A.TEST\" ]; document_root = \"/b\"; }\n);\n",
		    3, "server_name: \"A.TEST\" is already a name of the site at line 2");
	check_error("sites = (\n  { server_name = \"*.a.test\"; document_root = \"/a\"; },\n"
		    "  { server_name = \"b.test\"; document_root = \"/b\"; },\n"
		    "  { server_name = [ \"a.test\", \"*.A.test.\" ]; document_root = \"/c\"; }\n);\n",
		    4, "server_name: \"*.A.test.\" is already a name of the site at line 2");
	check_error("server_name = [ \"*.a.test\" ];\n"
		    "sites = ( { server_name = \"*.a.test\"; document_root = \"/a\"; } );\n",
		    2, "server_name: \"*.a.test\" is already a name of the default site");
	/* per-site keys */
	check_error("index = [ \"a/b.html\" ];\n", 1, "index: \"a/b.html\" is not a file name");
	check_error("charset = \"utf 8\";\n", 1, "charset: \"utf 8\" is not a charset name, like \"utf-8\"");
	check_error("charset = 8;\n", 1, "charset: expected a string");
	check_error("precompressed = [ \"deflate\" ];\n", 1,
		    "precompressed: \"deflate\" is not one of \"br\", \"zstd\", \"gzip\"");
	check_error("precompressed = [ \"br\", \"gzip\", \"br\" ];\n", 1,
		    "precompressed: \"br\" is listed twice");
	check_error("precompressed = \"br\";\n", 1,
		    "precompressed: expected a list of strings, like [ \"a\", \"b\" ]");
	check_error("dotfiles = \"ignore\";\n", 1, "dotfiles: \"ignore\" is not \"deny\" or \"allow\"");
	check_error("directory_listing = \"yes\";\n", 1, "directory_listing: expected true or false");
	check_error("fallback = \"index.html\";\n", 1, "fallback: \"index.html\" does not start with '/'");
	check_error("fallback = \"/index.html?x\";\n", 1,
		    "fallback: \"/index.html?x\" holds a control character, '?' or '#'");
	check_error("status_path = \"metrics\";\n", 1, "status_path: \"metrics\" does not start with '/'");
	check_error("status_allow = [ \"localhost\" ];\n", 1,
		    "status_allow: \"localhost\" is not an IPv4 or IPv6 address, optionally with a "
		    "/prefix length");
	check_error("status_allow = [ \"10.0.0.1/8\" ];\n", 1,
		    "status_allow: \"10.0.0.1/8\" has bits set past its prefix /8");
	check_error("status_allow = [ \"10.0.0.0/33\" ];\n", 1,
		    "status_allow: \"10.0.0.0/33\" is not an IPv4 or IPv6 address, optionally with a "
		    "/prefix length");
	/* error_pages */
	check_error("error_pages = (\n  { status = 404; page = \"/404.html\"; },\n"
		    "  { status = 399; page = \"/x.html\"; }\n);\n",
		    3, "status: 399 is not an error status (400 to 599)");
	check_error("error_pages = ( { status = [ 500, 600 ]; page = \"/x.html\"; } );\n", 1,
		    "status: 600 is not an error status (400 to 599)");
	check_error("error_pages = (\n  { status = [ 404, 410 ]; page = \"/a.html\"; },\n"
		    "  { status = 410; page = \"/b.html\"; }\n);\n",
		    3, "status: 410 already has a page");
	check_error("error_pages = ( { status = 404; page = \"404.html\"; } );\n", 1,
		    "page: \"404.html\" does not start with '/'");
	check_error("error_pages = ( { status = \"404\"; page = \"/404.html\"; } );\n", 1,
		    "status: expected an integer");
	check_error("error_pages = (\n  { page = \"/404.html\"; }\n);\n", 2,
		    "error_pages: entry 1 needs both status and page");
	check_error("error_pages = ( { status = 404; page = \"/404.html\"; code = 1; } );\n", 1,
		    "code: unknown key (an error page has status and page)");
	check_error("error_pages = { status = 404; };\n", 1,
		    "error_pages: expected a list of groups, like ( { status = 404; page = \"/404.html\"; } )");
	/* headers */
	check_error("headers = (\n  { match = \"/a/**\"; set = [ \"X: 1\" ]; }\n);\n", 2,
		    "match: \"/a/**\": \"**\" is not supported (a final \"/*\" already matches every depth)");
	check_error("headers = (\n  { match = \"*.css\";\n    set = [ \"X-Ok: 1\", \"X-Bad: a\\r\\nInjected: 1\" ]; }\n);\n",
		    3, "set: the value of X-Bad holds a control character (CR, LF or other)");
	check_error("headers = ( { match = \"*.css\"; set = [ \"Bad Name: 1\" ]; } );\n", 1,
		    "set: \"Bad Name\" is not a valid header name");
	check_error("headers = ( { match = \"*.css\"; set = [ \"Content-Length: 1\" ]; } );\n", 1,
		    "set: Content-Length is set by the server");
	check_error("headers = ( { match = \"*.css\"; set = [ ]; } );\n", 1, "set: the list is empty");
	check_error("headers = (\n  { set = [ \"X: 1\" ]; }\n);\n", 2,
		    "headers: entry 1 needs both match and set");
	check_error("headers = ( { match = \"*.css\"; set = [ \"X: 1\" ]; always = 1; } );\n", 1,
		    "always: expected true or false");
	check_error("headers = ( { match = \"*.css\"; add = [ \"X: 1\" ]; } );\n", 1,
		    "add: unknown key (a headers entry has match, set and always)");
	/* redirects */
	check_error("redirects = (\n  { from = \"/a\"; to = \"/b\";\n    status = 303; }\n);\n", 3,
		    "status: 303 is not 301, 302, 307 or 308");
	check_error("redirects = ( { from = \"a\"; to = \"/b\"; } );\n", 1,
		    "from: from \"a\" does not start with '/'");
	check_error("redirects = ( { from = \"/a/*/b\"; to = \"/b\"; } );\n", 1,
		    "from: from \"/a/*/b\": '*' may only end a prefix, as in \"/old/*\"");
	check_error("redirects = ( { from = \"/a\"; to = \"b\"; } );\n", 1,
		    "to: to \"b\" is neither a path starting with '/' nor an absolute URI like "
		    "\"https://host/path\"");
	check_error("redirects = (\n  { from = \"/a\"; }\n);\n", 2,
		    "redirects: entry 1 needs both from and to");
	/* inside a site, the same messages and lines */
	check_error(SITE("    headers = (\n      { match = \"a/b\"; set = \"X: 1\"; }\n    );\n"), 4,
		    "match: \"a/b\" is neither a file name glob (without '/') nor a path glob "
		    "(starting with '/')");
}

/* Through the server-wide loader: the keys are accepted at the top level,
 * the sites' roots are checked. */
static void test_loader(void)
{
	char err[600], want[700];
	struct rh_config *cfg;
	FILE *f = fopen(path, "w");

	fputs("document_root = \"/tmp\";\ncharset = \"utf-8\";\nprecompressed = [ \"br\" ];\n"
	      "status_path = \"/m\";\n"
	      "sites = ( { server_name = \"a.test\"; document_root = \"/\"; } );\n", f);
	fclose(f);
	cfg = rh_config_load(path, NULL, err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg) {
		CHECK(cfg->sites != NULL);
		CHECK_INT(cfg->sites->n_site, 2);
		CHECK_STR(cfg->sites->site[0].document_root, "/tmp");
		CHECK_STR(cfg->sites->site[0].charset, "utf-8");
		CHECK_STR(cfg->sites->site[1].document_root, "/");
		CHECK_STR(cfg->sites->status_path, "/m");
	}
	rh_config_free(cfg);

	f = fopen(path, "w");
	fputs("document_root = \"/tmp\";\nsites = (\n  { server_name = \"a.test\";\n"
	      "    document_root = \"/nonexistent-site-root\"; }\n);\n", f);
	fclose(f);
	cfg = rh_config_load(path, NULL, err, sizeof err);
	CHECK(cfg == NULL);
	snprintf(want, sizeof want,
		 "%s:4: document_root: /nonexistent-site-root: No such file or directory", path);
	CHECK_STR(err, want);
	rh_config_free(cfg);

	f = fopen(path, "w");
	fputs("document_root = \"/tmp\";\ndotfiles = \"maybe\";\n", f);
	fclose(f);
	cfg = rh_config_load(path, NULL, err, sizeof err);
	CHECK(cfg == NULL);
	snprintf(want, sizeof want, "%s:2: dotfiles: \"maybe\" is not \"deny\" or \"allow\"", path);
	CHECK_STR(err, want);
	rh_config_free(cfg);
}

int main(void)
{
	strcpy(path, "/tmp/rh-site-conf-XXXXXX");
	close(mkstemp(path));
	test_defaults();
	test_full();
	test_errors();
	test_loader();
	unlink(path);
	return check_done("test_site_conf");
}
