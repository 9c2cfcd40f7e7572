/* Path rules of a site, compiled at load and evaluated without allocation:
 * the `match` glob, `headers` entries, `redirects`, the dotfile rule and
 * the fallback rule.
 *
 * Every PATH argument is the request's path after normalization (starting
 * with '/', without "." or ".." segments, no query). The caller decides
 * whether it is percent-decoded; the globs and `from` compare bytes. For
 * `headers`, passing the path of the file actually served (".../index.html"
 * for a directory) lets "*.html" cover index files too. */
#ifndef RH_RULES_H
#define RH_RULES_H

#include <stdbool.h>
#include <stddef.h>

/* A `match` glob. '*' matches any run of bytes other than '/', '?' one
 * byte other than '/'; every other byte matches itself (case-sensitive).
 *  - Without a leading '/' ("*.css", "robots.txt", "app.*.js") the glob
 *    matches the name of the path's last segment (the bytes after its last
 *    '/'; empty for "/dir/").
 *  - With a leading '/' it matches the whole path, except that a '*' that
 *    ends the glob right after a '/' matches any rest, '/' included:
 *    "/assets/" and a '*' cover "/assets/a.css" and "/assets/x/y/z.js"
 *    (not "/assets" itself), '/' and a '*' every path. Elsewhere '*' stays
 *    in one segment: "/img/", '*', "/thumb.png" is one level deep.
 * "**" is refused, as is a '/' in a name glob, a control byte, a space or
 * an empty glob. */
struct rh_glob {
	char *pat;
	size_t len;
	bool whole_path; /* starts with '/' */
};

/* Compiles TEXT into G. On error returns false with a message in MSG
 * (G left empty). */
bool rh_glob_compile(struct rh_glob *g, const char *text, char *msg, size_t msglen);
void rh_glob_free(struct rh_glob *g);
bool rh_glob_match(const struct rh_glob *g, const char *path, size_t len);

/* One line of a `set` list, normalized to "Name: value" (one space after
 * the colon, value without surrounding white space). */
struct rh_header_line {
	char *line;       /* "Name: value", NUL-terminated, without CRLF */
	size_t line_len;
	size_t name_len;  /* line[0..name_len) is the name */
	bool acao;        /* the name is Access-Control-Allow-Origin */
};

/* Parses TEXT ("Name: value") into H: the name must be a token and not
 * one the server frames the response with or sends once itself (the list
 * in rules.c and ringhttpd.conf(5)); the value must not hold CR, LF, NUL
 * or any other control byte but a tab. On error false with a message in
 * MSG. */
bool rh_header_line_parse(struct rh_header_line *h, const char *text, char *msg, size_t msglen);
void rh_header_line_free(struct rh_header_line *h);

/* One `headers` entry. */
struct rh_header_rule {
	struct rh_glob match;
	struct rh_header_line *set;
	size_t n_set;
	bool always; /* also on error responses */
};

/* One header line to add to a response. */
struct rh_header_out {
	const struct rh_header_line *h;
	bool always; /* the entry that set it has always = true */
};

/* Only the entries with always = true: for an error response. */
#define RH_RULES_ERROR 1u

/* Evaluates RULES[0..N) in order for PATH. Every entry whose glob matches
 * applies; an entry removes the lines earlier entries added for a name it
 * sets (names compared case-insensitively), then adds its own lines in
 * their order. So the result is in entry order, a later entry replacing a
 * name, and several lines of one name in one entry are all kept. With
 * FLAGS & RH_RULES_ERROR only the entries with always = true take part.
 *
 * Writes at most CAP lines to OUT (the site's max_header_lines is always
 * enough) and returns their count. *CORS (when not NULL) tells whether
 * one of them is Access-Control-Allow-Origin: then an OPTIONS request for
 * PATH is a CORS preflight, answered 204 with these lines. */
size_t rh_rules_headers(const struct rh_header_rule *rules, size_t n, const char *path,
			size_t len, unsigned flags, struct rh_header_out *out, size_t cap,
			bool *cors);

/* One `redirects` entry. */
struct rh_redirect {
	char *from;      /* without the trailing '*' of a prefix: "/old/" */
	size_t from_len;
	bool prefix;     /* `from` ended in '/' and '*' */
	char *to;        /* for a prefix without a trailing '*': "/new/" */
	size_t to_len;
	size_t to_base;  /* bytes of `to` before its '#', or to_len */
	bool to_query;   /* `to` has a '?' before its '#' */
	unsigned status; /* 301, 302, 307 or 308 */
};

/* Compiles an entry. FROM must start with '/' and hold no '?', '#', white
 * space or control byte, and no '*' except one right after a final '/'
 * (a prefix: "/old/" and a '*'). TO
 * must start with '/' or be an absolute URI ("scheme://..."), without
 * white space or control bytes; for a prefix it must not hold '?' or '#',
 * and a final '*' is dropped ("/new/" with or without a '*' after it).
 * STATUS must be 301, 302, 307 or 308. On error false with a message. */
bool rh_redirect_compile(struct rh_redirect *r, const char *from, const char *to,
			 unsigned status, char *msg, size_t msglen);
void rh_redirect_free(struct rh_redirect *r);

/* The first entry of R[0..N) that matches the decoded, normalized PATH:
 * its `from` equal to PATH, or, for a prefix, PATH starting with it. NULL
 * when none does. */
const struct rh_redirect *rh_redirect_find(const struct rh_redirect *r, size_t n,
					   const char *path, size_t len);

/* Writes the Location of a redirect into BUF: `to`, then for a prefix
 * REST[0..LEN) (the rest of the path after `from`, percent-encoded) after
 * a '/' (`to`'s own, or one added), so that it stays in `to`'s path and
 * can never reach its authority; then "?QUERY" when HAS_QUERY ('&' when
 * `to` has a query of its own; an empty query is kept as "?"), then `to`'s
 * fragment. NUL-terminated when it fits; returns the full length like
 * snprintf (it fits when below CAP). */
size_t rh_redirect_location(const struct rh_redirect *r, const char *rest, size_t len,
			    const char *query, size_t query_len, bool has_query, char *buf,
			    size_t cap);

/* The dotfile rule: whether a segment of PATH begins with '.', except a
 * first segment ".well-known" ("/.well-known/acme-challenge/x" is served,
 * "/.well-known/.secret", "/.git/config", "/a/.env" are not). */
bool rh_rules_dotfile(const char *path, size_t len);

/* The fallback rule, before the file system is asked: PATH's last
 * segment has no '.' (no extension; "/app/" and "/users/42" qualify,
 * "/missing.js" does not) and no segment begins with '.'. The caller
 * still checks the method (GET or HEAD) and that PATH does not exist. */
bool rh_rules_fallback_applies(const char *path, size_t len);

#endif
