/* Content negotiation without allocation or I/O: which precompressed
 * sidecar to send for an Accept-Encoding (RFC 9110 12.5.3), whether an
 * Accept prefers JSON over HTML (12.5.1), and the Content-Type with the
 * site's charset. */
#ifndef RH_NEGOTIATE_H
#define RH_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* The content codings a site can serve from sidecar files. */
enum rh_coding {
	RH_CODING_IDENTITY = 0,
	RH_CODING_BR,   /* FILE.br */
	RH_CODING_ZSTD, /* FILE.zst */
	RH_CODING_GZIP, /* FILE.gz */
};
#define RH_CODING_COUNT 4
/* Bit of a coding in an availability mask. */
#define RH_CODING_BIT(c) (1u << (c))

/* "identity", "br", "zstd", "gzip": the Content-Encoding value. */
const char *rh_coding_name(enum rh_coding c);
/* "", ".br", ".zst", ".gz": the sidecar's suffix. */
const char *rh_coding_suffix(enum rh_coding c);
/* The configuration's name of a coding ("br", "zstd", "gzip"; exact,
 * lower case); -1 for any other. */
int rh_coding_from_name(const char *name);

/* Chooses the coding to send. AE is the Accept-Encoding field value
 * (NULL when the request has none: then identity). ORDER lists the
 * site's `precompressed` codings in configured order and AVAILABLE is the
 * mask (RH_CODING_BIT) of those whose sidecar exists and is fresh.
 *
 * Each element's q (0 to 1, up to three decimals; 1 when absent) is its
 * weight; codings are case-insensitive, "x-gzip" is gzip, "*" stands for
 * every coding not listed (identity included), and q=0 refuses. An
 * element with a malformed (or repeated) q or an unknown parameter is
 * ignored. The first element for a coding counts. The highest q wins;
 * ties go to the configured order, and a coding wins a tie with
 * identity. Identity that is not listed (and not covered by "*") is
 * acceptable with the lowest weight. When nothing is acceptable, not
 * even identity, the answer is still identity (the server does not
 * refuse with 406). */
enum rh_coding rh_negotiate_encoding(const char *ae, size_t len, const enum rh_coding *order,
				     size_t n_order, unsigned available);

/* Whether an Accept field value gives application/json a higher weight
 * than text/html, each weight taken from the most specific range that
 * matches it: the exact type, then its type with a '*' subtype, then the
 * all-'*' range. False when ACCEPT is NULL or on a tie: HTML is the
 * default. */
bool rh_accept_prefers_json(const char *accept, size_t len);

/* Whether a media type (parameters ignored, case-insensitive) takes the
 * site's charset: text/... , application/javascript, application/json,
 * application/xml, image/svg+xml, and any type ending in +json or +xml. */
bool rh_charset_applies(const char *type);

/* Writes TYPE, followed by "; charset=CHARSET" when CHARSET is not empty,
 * the type takes a charset and has no charset parameter yet, into BUF
 * (NUL-terminated when it fits). Returns the length of the full value,
 * like snprintf: it fits when the result is below CAP. */
size_t rh_content_type(char *buf, size_t cap, const char *type, const char *charset);

#endif
