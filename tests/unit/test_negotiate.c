#include <string.h>

#include "check.h"
#include "negotiate.h"

static const enum rh_coding all3[] = { RH_CODING_BR, RH_CODING_ZSTD, RH_CODING_GZIP };
static const enum rh_coding gz_first[] = { RH_CODING_GZIP, RH_CODING_BR };
#define ALL (RH_CODING_BIT(RH_CODING_BR) | RH_CODING_BIT(RH_CODING_ZSTD) | RH_CODING_BIT(RH_CODING_GZIP))

static const char *pick(const char *ae, const enum rh_coding *order, size_t n, unsigned avail)
{
	return rh_coding_name(rh_negotiate_encoding(ae, ae ? strlen(ae) : 0, order, n, avail));
}

#define PICK(ae) pick((ae), all3, 3, ALL)

static void test_encoding(void)
{
	CHECK_STR(PICK(NULL), "identity");
	CHECK_STR(PICK(""), "identity");
	CHECK_STR(PICK("gzip"), "gzip");
	CHECK_STR(PICK("GZip"), "gzip");
	CHECK_STR(PICK("x-gzip"), "gzip");
	/* ties go to the configured order */
	CHECK_STR(PICK("gzip, deflate, br, zstd"), "br");
	CHECK_STR(pick("br, gzip", gz_first, 2, ALL), "gzip");
	CHECK_STR(PICK("gzip, zstd"), "zstd");
	/* the client's preference first */
	CHECK_STR(PICK("br;q=0.5, gzip;q=0.8"), "gzip");
	CHECK_STR(PICK("br;q=0.5, gzip;q=0.501"), "gzip");
	CHECK_STR(PICK("br;q=1.0, gzip;q=0.999"), "br");
	CHECK_STR(PICK("br ; q=0.9 , zstd;Q=0.95"), "zstd");
	/* q=0 refuses */
	CHECK_STR(PICK("br;q=0, gzip"), "gzip");
	CHECK_STR(PICK("br;q=0"), "identity");
	CHECK_STR(PICK("br;q=0.000, zstd;q=0.0"), "identity");
	CHECK_STR(PICK("gzip, br;q=0"), "gzip");
	/* only what is available */
	CHECK_STR(pick("br, gzip", all3, 3, RH_CODING_BIT(RH_CODING_GZIP)), "gzip");
	CHECK_STR(pick("br", all3, 3, RH_CODING_BIT(RH_CODING_GZIP)), "identity");
	CHECK_STR(pick("br", all3, 0, ALL), "identity");
	/* "*" */
	CHECK_STR(PICK("*"), "br");
	CHECK_STR(PICK("*;q=0"), "identity");
	CHECK_STR(PICK("br;q=0, *"), "zstd");
	CHECK_STR(PICK("*;q=0, gzip"), "gzip");
	CHECK_STR(PICK("br;q=0.5, *"), "zstd");
	CHECK_STR(PICK("*;q=0.1, gzip;q=0.2"), "gzip");
	/* identity */
	CHECK_STR(PICK("gzip;q=0.5, identity"), "identity");
	CHECK_STR(PICK("gzip, identity"), "gzip");
	CHECK_STR(PICK("identity;q=0, gzip;q=0.1"), "gzip");
	CHECK_STR(PICK("gzip;q=0.001"), "gzip");
	CHECK_STR(PICK("identity"), "identity");
	CHECK_STR(PICK("identity;q=0"), "identity"); /* nothing else: identity anyway */
	/* malformed elements are ignored */
	CHECK_STR(PICK("br;q=2, gzip"), "gzip");
	CHECK_STR(PICK("br;q=0.1234, gzip;q=0.1"), "gzip");
	CHECK_STR(PICK("br;q=1.5, gzip;q=0.1"), "gzip");
	CHECK_STR(PICK("br;q=1.001, gzip;q=0.1"), "gzip");
	CHECK_STR(PICK("br;q=, gzip;q=0.1"), "gzip");
	CHECK_STR(PICK("br;q=.5, gzip;q=0.1"), "gzip");
	CHECK_STR(PICK("br;level=1, gzip;q=0.1"), "gzip");
	CHECK_STR(PICK("br;q=0.5;q=0.9, gzip;q=0.6"), "gzip");
	CHECK_STR(PICK("br q=1, gzip;q=0.1"), "gzip");
	CHECK_STR(PICK(",, ,gzip,,"), "gzip");
	CHECK_STR(PICK("br;q=\"1\", gzip;q=0.1"), "gzip");
	/* the first element for a coding counts */
	CHECK_STR(PICK("br;q=0, br, gzip;q=0.5"), "gzip");
	/* unknown codings do not matter */
	CHECK_STR(PICK("compress, deflate"), "identity");

	CHECK_STR(rh_coding_suffix(RH_CODING_BR), ".br");
	CHECK_STR(rh_coding_suffix(RH_CODING_ZSTD), ".zst");
	CHECK_STR(rh_coding_suffix(RH_CODING_GZIP), ".gz");
	CHECK_STR(rh_coding_suffix(RH_CODING_IDENTITY), "");
	CHECK_INT(rh_coding_from_name("zstd"), RH_CODING_ZSTD);
	CHECK_INT(rh_coding_from_name("identity"), -1);
	CHECK_INT(rh_coding_from_name("BR"), -1);
}

#define JSON(a) rh_accept_prefers_json((a), strlen(a))

static void test_accept(void)
{
	CHECK(!rh_accept_prefers_json(NULL, 0));
	CHECK(!JSON(""));
	CHECK(JSON("application/json"));
	CHECK(JSON("Application/JSON"));
	CHECK(!JSON("text/html"));
	CHECK(!JSON("text/html, application/json"));
	CHECK(!JSON("application/json, text/html"));
	CHECK(JSON("application/json, text/html;q=0.9"));
	CHECK(!JSON("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
	CHECK(!JSON("*/*"));
	CHECK(JSON("application/*, text/html;q=0.5"));
	CHECK(JSON("application/json;charset=utf-8"));
	CHECK(JSON("application/json;q=0.5, */*;q=0.1"));
	CHECK(!JSON("application/json;q=0, */*"));
	/* the most specific range counts, not the order */
	CHECK(!JSON("*/*;q=1, application/json;q=0.2, text/*;q=0.3"));
	CHECK(JSON("text/*;q=0.1, */*;q=0.9, application/json"));
	CHECK(JSON("text/html;q=0.5, text/*;q=1, application/json;q=0.6"));
	/* malformed elements are ignored */
	CHECK(JSON("text/html;q=5, application/json"));
	CHECK(JSON("text/html;q=0.5, application/json;v=\"a,b\""));
}

static const char *ctype(const char *type, const char *charset)
{
	static char buf[128];
	size_t n = rh_content_type(buf, sizeof buf, type, charset);

	CHECK_INT(n, strlen(buf));
	return buf;
}

static void test_charset(void)
{
	char small[8];

	CHECK_STR(ctype("text/html", ""), "text/html");
	CHECK_STR(ctype("text/html", "utf-8"), "text/html; charset=utf-8");
	CHECK_STR(ctype("text/plain", "utf-8"), "text/plain; charset=utf-8");
	CHECK_STR(ctype("text/css", "utf-8"), "text/css; charset=utf-8");
	CHECK_STR(ctype("text/javascript", "utf-8"), "text/javascript; charset=utf-8");
	CHECK_STR(ctype("application/javascript", "utf-8"), "application/javascript; charset=utf-8");
	CHECK_STR(ctype("application/json", "utf-8"), "application/json; charset=utf-8");
	CHECK_STR(ctype("application/xml", "utf-8"), "application/xml; charset=utf-8");
	CHECK_STR(ctype("image/svg+xml", "utf-8"), "image/svg+xml; charset=utf-8");
	CHECK_STR(ctype("application/manifest+json", "utf-8"), "application/manifest+json; charset=utf-8");
	CHECK_STR(ctype("application/atom+xml", "utf-8"), "application/atom+xml; charset=utf-8");
	CHECK_STR(ctype("application/ld+json", "utf-8"), "application/ld+json; charset=utf-8");
	CHECK_STR(ctype("image/png", "utf-8"), "image/png");
	CHECK_STR(ctype("application/octet-stream", "utf-8"), "application/octet-stream");
	CHECK_STR(ctype("application/wasm", "utf-8"), "application/wasm");
	CHECK_STR(ctype("font/woff2", "utf-8"), "font/woff2");
	CHECK_STR(ctype("application/jsonx", "utf-8"), "application/jsonx");
	CHECK_STR(ctype("text/", "utf-8"), "text/");
	CHECK_STR(ctype("TEXT/Plain", "utf-8"), "TEXT/Plain; charset=utf-8");
	/* a charset already there stays */
	CHECK_STR(ctype("text/plain; charset=iso-8859-1", "utf-8"), "text/plain; charset=iso-8859-1");
	CHECK_STR(ctype("text/plain;CHARSET=x", "utf-8"), "text/plain;CHARSET=x");
	CHECK_STR(ctype("text/markdown; variant=GFM", "utf-8"), "text/markdown; variant=GFM; charset=utf-8");
	CHECK(rh_charset_applies("text/html; level=1"));
	CHECK(!rh_charset_applies("+json"));
	/* like snprintf */
	CHECK_INT(rh_content_type(small, sizeof small, "text/html", "utf-8"), 24);
	CHECK_STR(small, "text/ht");
}

int main(void)
{
	test_encoding();
	test_accept();
	test_charset();
	return check_done("test_negotiate");
}
