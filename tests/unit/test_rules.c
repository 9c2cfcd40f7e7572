#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http_chars.h"
#include "rules.h"

static bool glob(const char *pat, const char *path)
{
	struct rh_glob g;
	char msg[200];
	bool r;

	if (!rh_glob_compile(&g, pat, msg, sizeof msg)) {
		fprintf(stderr, "glob %s: %s\n", pat, msg);
		return false;
	}
	r = rh_glob_match(&g, path, strlen(path));
	rh_glob_free(&g);
	return r;
}

static void glob_error(const char *pat, const char *want)
{
	struct rh_glob g;
	char msg[200] = "";

	CHECK(!rh_glob_compile(&g, pat, msg, sizeof msg));
	CHECK_STR(msg, want);
}

static void test_glob(void)
{
	/* a name glob: the last segment */
	CHECK(glob("*.css", "/a.css"));
	CHECK(glob("*.css", "/deep/er/a.css"));
	CHECK(glob("*.css", "/.css"));
	CHECK(!glob("*.css", "/a.css/"));
	CHECK(!glob("*.css", "/a.cssx"));
	CHECK(!glob("*.css", "/a.CSS"));
	CHECK(!glob("*.css", "/css.d/a.js"));
	CHECK(glob("app.*.js", "/js/app.1234.js"));
	CHECK(!glob("app.*.js", "/js/app.js"));
	CHECK(glob("robots.txt", "/robots.txt"));
	CHECK(!glob("robots.txt", "/x/robots.txt.bak"));
	CHECK(glob("?.txt", "/a.txt"));
	CHECK(!glob("?.txt", "/ab.txt"));
	CHECK(glob("*", "/"));
	CHECK(glob("*", "/any/thing"));
	CHECK(glob("a*b*c", "/axxbyyc"));
	CHECK(glob("a*b*c", "/abcbc"));
	CHECK(!glob("a*b*c", "/abcb"));
	/* a path glob */
	CHECK(glob("/*", "/"));
	CHECK(glob("/*", "/a"));
	CHECK(glob("/*", "/a/b/c.d"));
	CHECK(glob("/assets/*", "/assets/a.css"));
	CHECK(glob("/assets/*", "/assets/x/y/z.js"));
	CHECK(glob("/assets/*", "/assets/"));
	CHECK(!glob("/assets/*", "/assets"));
	CHECK(!glob("/assets/*", "/assetsx/a"));
	CHECK(!glob("/assets/*", "/other/assets/a"));
	CHECK(glob("/assets/*.css", "/assets/a.css"));
	CHECK(!glob("/assets/*.css", "/assets/x/a.css"));
	CHECK(glob("/img/*/thumb.png", "/img/1/thumb.png"));
	CHECK(!glob("/img/*/thumb.png", "/img/1/2/thumb.png"));
	CHECK(!glob("/img/*/thumb.png", "/img/thumb.png"));
	CHECK(glob("/a*", "/abc"));
	CHECK(!glob("/a*", "/a/b"));
	CHECK(glob("/*/index.html", "/x/index.html"));
	CHECK(glob("/exact.html", "/exact.html"));
	CHECK(!glob("/exact.html", "/exact.html/"));
	CHECK(!glob("/exact.html", "/sub/exact.html"));
	CHECK(glob("/v?/*", "/v1/x/y"));
	CHECK(!glob("/v?/*", "/v12/x"));
	/* refused */
	glob_error("", "the glob is empty");
	glob_error("/a/**", "\"/a/**\": \"**\" is not supported (a final \"/*\" already matches every depth)");
	glob_error("a/*.css", "\"a/*.css\" is neither a file name glob (without '/') nor a path glob (starting with '/')");
	glob_error("/a b", "\"/a b\" holds a space or a control character");
	glob_error("/a\tb", "\"/a\tb\" holds a space or a control character");
}

static struct rh_header_rule rule(const char *match, bool always, const char *const *set)
{
	struct rh_header_rule r = { .always = always };
	char msg[200];
	size_t n = 0;

	while (set[n])
		n++;
	CHECK(rh_glob_compile(&r.match, match, msg, sizeof msg));
	r.set = calloc(n, sizeof *r.set);
	for (size_t i = 0; i < n; i++)
		CHECK(rh_header_line_parse(&r.set[i], set[i], msg, sizeof msg));
	r.n_set = n;
	return r;
}

static void free_rule(struct rh_header_rule *r)
{
	rh_glob_free(&r->match);
	for (size_t i = 0; i < r->n_set; i++)
		rh_header_line_free(&r->set[i]);
	free(r->set);
}

/* The lines of OUT[0..N) joined with '|', each prefixed with '!' when always. */
static const char *joined(const struct rh_header_out *out, size_t n)
{
	static char buf[1024];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += snprintf(buf + len, sizeof buf - len, "%s%s%s", i ? "|" : "",
				out[i].always ? "!" : "", out[i].h->line);
	return buf;
}

static void header_error(const char *text, const char *want)
{
	struct rh_header_line h;
	char msg[200] = "";

	CHECK(!rh_header_line_parse(&h, text, msg, sizeof msg));
	CHECK_STR(msg, want);
}

static void test_headers(void)
{
	static const char *const all[] = { "Cache-Control: no-cache", "X-Frame-Options: DENY", NULL };
	static const char *const css[] = { "cache-control:   max-age=3600  ", "Vary: Origin", NULL };
	static const char *const assets[] = { "Cache-Control: max-age=31536000, immutable",
					      "Access-Control-Allow-Origin: *", NULL };
	static const char *const links[] = { "Link: </a.css>; rel=preload", "Link: </b.js>; rel=preload",
					     NULL };
	static const char *const links2[] = { "LINK: </c.css>", NULL };
	struct rh_header_rule r[5];
	struct rh_header_out out[16];
	struct rh_header_line h;
	char msg[200];
	bool cors;
	size_t n;

	r[0] = rule("/*", true, all);
	r[1] = rule("*.css", false, css);
	r[2] = rule("/assets/*", false, assets);
	r[3] = rule("/index.html", false, links);
	r[4] = rule("/index.html", true, links2);
	CHECK_STR(r[1].set[0].line, "cache-control: max-age=3600");
	CHECK_INT(r[1].set[0].name_len, 13);

	n = rh_rules_headers(r, 5, "/x.js", 5, 0, out, 16, &cors);
	CHECK_STR(joined(out, n), "!Cache-Control: no-cache|!X-Frame-Options: DENY");
	CHECK(!cors);
	/* a later entry replaces the name, case-insensitively, at its place */
	n = rh_rules_headers(r, 5, "/a.css", 6, 0, out, 16, &cors);
	CHECK_STR(joined(out, n),
		  "!X-Frame-Options: DENY|cache-control: max-age=3600|Vary: Origin");
	n = rh_rules_headers(r, 5, "/assets/x/a.css", 15, 0, out, 16, &cors);
	CHECK_STR(joined(out, n), "!X-Frame-Options: DENY|Vary: Origin|"
				  "Cache-Control: max-age=31536000, immutable|"
				  "Access-Control-Allow-Origin: *");
	CHECK(cors);
	/* errors: only the always entries */
	n = rh_rules_headers(r, 5, "/assets/x/a.css", 15, RH_RULES_ERROR, out, 16, &cors);
	CHECK_STR(joined(out, n), "!Cache-Control: no-cache|!X-Frame-Options: DENY");
	CHECK(!cors);
	/* several lines of one name in one entry stay; a later entry replaces all */
	n = rh_rules_headers(r, 4, "/index.html", 11, 0, out, 16, NULL);
	CHECK_STR(joined(out, n), "!Cache-Control: no-cache|!X-Frame-Options: DENY|"
				  "Link: </a.css>; rel=preload|Link: </b.js>; rel=preload");
	n = rh_rules_headers(r, 5, "/index.html", 11, 0, out, 16, NULL);
	CHECK_STR(joined(out, n),
		  "!Cache-Control: no-cache|!X-Frame-Options: DENY|!LINK: </c.css>");
	/* CAP bounds the output */
	n = rh_rules_headers(r, 5, "/a.css", 6, 0, out, 1, NULL);
	CHECK_INT(n, 1);
	for (int i = 0; i < 5; i++)
		free_rule(&r[i]);

	CHECK(rh_header_line_parse(&h, "X-Empty:", msg, sizeof msg));
	CHECK_STR(h.line, "X-Empty: ");
	rh_header_line_free(&h);
	CHECK(rh_header_line_parse(&h, "access-control-allow-origin:https://a.example", msg, sizeof msg));
	CHECK(h.acao);
	CHECK_STR(h.line, "access-control-allow-origin: https://a.example");
	rh_header_line_free(&h);
	header_error("X-Bad: a\r\nInjected: 1", "the value of X-Bad holds a control character (CR, LF or other)");
	header_error("X-Bad: a\nb", "the value of X-Bad holds a control character (CR, LF or other)");
	header_error("X-Bad: a\x7f", "the value of X-Bad holds a control character (CR, LF or other)");
	header_error("X Bad: 1", "\"X Bad\" is not a valid header name");
	header_error("X(Bad): 1", "\"X(Bad)\" is not a valid header name");
	header_error("NoColon", "\"NoColon\" is not \"Name: value\"");
	header_error(": v", "\": v\" has no header name");
	header_error("content-length: 5", "Content-Length is set by the server");
	header_error("Transfer-Encoding: chunked", "Transfer-Encoding is set by the server");
	CHECK(rh_header_line_parse(&h, "X-Tab: a\tb", msg, sizeof msg));
	rh_header_line_free(&h);
}

static const char *location(const struct rh_redirect *r, size_t n, const char *path,
			    const char *query, unsigned *status)
{
	static char buf[256];
	const struct rh_redirect *m = rh_redirect_find(r, n, path, strlen(path));
	size_t len;

	if (!m)
		return "(none)";
	*status = m->status;
	/* the handler passes the rest encoded; these paths need no escapes */
	len = rh_redirect_location(m, path + m->from_len, strlen(path) - m->from_len,
				   query ? query : "", query ? strlen(query) : 0, query != NULL,
				   buf, sizeof buf);
	CHECK_INT(len, strlen(buf));
	return buf;
}

static void redirect_error(const char *from, const char *to, unsigned status, const char *want)
{
	struct rh_redirect r;
	char msg[200] = "";

	CHECK(!rh_redirect_compile(&r, from, to, status, msg, sizeof msg));
	CHECK_STR(msg, want);
}

static void test_redirects(void)
{
	struct rh_redirect r[6];
	char msg[200], small[8];
	unsigned st = 0;

	CHECK(rh_redirect_compile(&r[0], "/old", "/new", 301, msg, sizeof msg));
	CHECK(rh_redirect_compile(&r[1], "/docs/*", "https://docs.example.org/v2/", 308, msg, sizeof msg));
	CHECK(rh_redirect_compile(&r[2], "/blog/*", "/news/*", 302, msg, sizeof msg));
	CHECK(rh_redirect_compile(&r[3], "/q", "/search?lang=en#top", 307, msg, sizeof msg));
	CHECK(rh_redirect_compile(&r[4], "/*", "/catch-all/", 302, msg, sizeof msg));
	CHECK(rh_redirect_compile(&r[5], "/never", "/x", 301, msg, sizeof msg));
	CHECK_STR(r[2].to, "/news/");
	CHECK(r[1].prefix);
	CHECK(!r[0].prefix);

	CHECK_STR(location(r, 6, "/old", NULL, &st), "/new");
	CHECK_INT(st, 301);
	CHECK_STR(location(r, 6, "/old", "a=1&b=2", &st), "/new?a=1&b=2");
	CHECK_STR(location(r, 6, "/old", "", &st), "/new?");
	CHECK_STR(location(r, 6, "/docs/a/b.html", "x=1", &st),
		  "https://docs.example.org/v2/a/b.html?x=1");
	CHECK_INT(st, 308);
	CHECK_STR(location(r, 6, "/docs/", NULL, &st), "https://docs.example.org/v2/");
	CHECK_STR(location(r, 6, "/blog/2024/post", NULL, &st), "/news/2024/post");
	CHECK_INT(st, 302);
	CHECK_STR(location(r, 6, "/q", NULL, &st), "/search?lang=en#top");
	CHECK_STR(location(r, 6, "/q", "term=x", &st), "/search?lang=en&term=x#top");
	CHECK_INT(st, 307);
	/* the first match wins: "/docs" is not under "/docs/", the catch-all takes it */
	CHECK_STR(location(r, 6, "/docs", NULL, &st), "/catch-all/docs");
	CHECK_STR(location(r, 6, "/old/", NULL, &st), "/catch-all/old/");
	CHECK_STR(location(r, 6, "/never", NULL, &st), "/catch-all/never");
	CHECK_STR(location(r, 1, "/olden", NULL, &st), "(none)");
	/* too small a buffer: truncated, NUL-terminated, the full length */
	CHECK_INT(rh_redirect_location(&r[0], "", 0, "abcdef", 6, true, small, sizeof small), 11);
	CHECK_STR(small, "/new?ab");
	/* a prefix's rest always follows a '/': `to`'s own or one put in, so
	 * that it never becomes part of the authority */
	{
		struct rh_redirect bare = { .from = "/b/", .from_len = 3, .prefix = true,
					    .to = "https://b.example", .to_len = 17,
					    .to_base = 17, .status = 301 };
		char buf[64];

		CHECK_INT(rh_redirect_location(&bare, "@evil.com/", 10, "", 0, false, buf,
					       sizeof buf), 28);
		CHECK_STR(buf, "https://b.example/@evil.com/");
		rh_redirect_location(&bare, ".evil.com/x", 11, "", 0, false, buf, sizeof buf);
		CHECK_STR(buf, "https://b.example/.evil.com/x");
		rh_redirect_location(&bare, "", 0, "q", 1, true, buf, sizeof buf);
		CHECK_STR(buf, "https://b.example?q");
	}
	for (int i = 0; i < 6; i++)
		rh_redirect_free(&r[i]);

	redirect_error("old", "/new", 301, "from \"old\" does not start with '/'");
	redirect_error("/o*d", "/new", 301, "from \"/o*d\": '*' may only end a prefix, as in \"/old/*\"");
	redirect_error("/old*", "/new", 301, "from \"/old*\": '*' may only end a prefix, as in \"/old/*\"");
	redirect_error("/old?x=1", "/new", 301,
		       "from \"/old?x=1\" holds a space, a control character, '?' or '#'");
	redirect_error("/old", "new", 301,
		       "to \"new\" is neither a path starting with '/' nor an absolute URI like \"https://host/path\"");
	redirect_error("/old", "example.org/x", 301,
		       "to \"example.org/x\" is neither a path starting with '/' nor an absolute URI like \"https://host/path\"");
	redirect_error("/old", "/a b", 301, "to \"/a b\" holds a space or a control character");
	redirect_error("/old/*", "/new?x", 301, "to \"/new?x\": the target of a prefix cannot hold '?' or '#'");
	redirect_error("/old", "/new", 303, "303 is not 301, 302, 307 or 308");
	redirect_error("/old", "", 301, "to is empty");
	/* a prefix's rest never continues the host: `to` holds a path */
	redirect_error("/blog/*", "https://blog.example.org", 301,
		       "to \"https://blog.example.org\": the target of a prefix needs a path, as in "
		       "\"https://blog.example.org/\"");
	redirect_error("/blog/*", "https://blog.example.org*", 301,
		       "to \"https://blog.example.org*\": the target of a prefix needs a path, as in "
		       "\"https://blog.example.org/\"");
	redirect_error("/blog/*", "//blog.example.org/", 301,
		       "to \"//blog.example.org/\" names a host without a scheme: write "
		       "\"https://blog.example.org/\" or a path");
	redirect_error("/old", "//evil.example", 301,
		       "to \"//evil.example\" names a host without a scheme: write "
		       "\"https://evil.example\" or a path");
	{
		struct rh_redirect ok;
		const char *good[] = { "https://blog.example.org/", "https://blog.example.org/new",
				       "https://blog.example.org/*", "/new", "/", "/new/*" };
		for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
			CHECK(rh_redirect_compile(&ok, "/blog/*", good[i], 301, msg, sizeof msg));
			rh_redirect_free(&ok);
		}
		/* an exact redirect takes the whole `to`, so a bare authority is fine */
		CHECK(rh_redirect_compile(&ok, "/blog", "https://blog.example.org", 301, msg, sizeof msg));
		rh_redirect_free(&ok);
	}
}

static void test_dotfiles(void)
{
#define DOT(p) rh_rules_dotfile((p), strlen(p))
	CHECK(DOT("/.env"));
	CHECK(DOT("/.git/config"));
	CHECK(DOT("/a/.htaccess"));
	CHECK(DOT("/a/b/.hidden/c"));
	CHECK(!DOT("/"));
	CHECK(!DOT("/a.b/c"));
	CHECK(!DOT("/a/b."));
	CHECK(!DOT("/.well-known/acme-challenge/token"));
	CHECK(!DOT("/.well-known/"));
	CHECK(!DOT("/.well-known"));
	CHECK(DOT("/.well-known/.secret"));
	CHECK(DOT("/.well-knownx/a"));
	CHECK(DOT("/a/.well-known/x"));
#define FB(p) rh_rules_fallback_applies((p), strlen(p))
	CHECK(FB("/"));
	CHECK(FB("/app/"));
	CHECK(FB("/users/42"));
	CHECK(FB("/v1.2/page"));
	CHECK(!FB("/missing.js"));
	CHECK(!FB("/a/b.html"));
	CHECK(!FB("/.git/HEAD"));
	CHECK(!FB("/.well-known/x"));
	CHECK(!FB("/a/.hidden/page"));
}

/* The classes every parser and the loaders share (http_chars.h). */
static void test_chars(void)
{
	CHECK(rh_is_token("utf-8") && rh_is_token("!#$%&'*+-.^_`|~Az09"));
	CHECK(!rh_is_token("") && !rh_is_token("a b") && !rh_is_token("a,b") &&
	      !rh_is_token("\xff") && !rh_is_token("a\x7f"));
	CHECK(rh_has_ctl("a\vb") && rh_has_ctl("\x7f") && rh_has_ctl("\t"));
	CHECK(!rh_has_ctl("text/html; charset=\"utf-8\"") && !rh_has_ctl("\xc3\xa4"));
	CHECK(rh_is_reg_name_char('a') && rh_is_reg_name_char('~') && rh_is_reg_name_char('='));
	CHECK(!rh_is_reg_name_char(',') && !rh_is_reg_name_char(':') && !rh_is_reg_name_char('%') &&
	      !rh_is_reg_name_char('/') && !rh_is_reg_name_char(0));
	CHECK(rh_is_digit('7') && !rh_is_digit('a') && rh_is_alpha('Z') && !rh_is_alpha('0'));
	CHECK(rh_is_ows(' ') && rh_is_ows('\t') && !rh_is_ows('\v') && !rh_is_ows(0));
	CHECK(rh_hexval('F') == 15 && rh_hexval('a') == 10 && rh_hexval('g') == -1);
}

int main(void)
{
	test_chars();
	test_glob();
	test_headers();
	test_redirects();
	test_dotfiles();
	return check_done("test_rules");
}
