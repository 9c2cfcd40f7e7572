#include <string.h>

#include "check.h"
#include "path.h"

/* Normalizes ENC; returns the status or the result in a static buffer. */
static const char *norm(const char *enc, ssize_t *rc)
{
	static char out[256];

	*rc = rh_path_normalize(enc, strlen(enc), out, sizeof out);
	return *rc >= 0 ? out : NULL;
}

#define NORM(enc, want) \
	do { \
		ssize_t rc_; \
		const char *res_ = norm((enc), &rc_); \
		CHECK_STR(res_, (want)); \
		if (res_) \
			CHECK_INT(rc_, strlen(want)); \
	} while (0)

#define NORM_FAILS(enc, status) \
	do { \
		ssize_t rc_; \
		norm((enc), &rc_); \
		CHECK_INT(rc_, (status)); \
	} while (0)

static void test_dot_segments(void)
{
	NORM("/", "/");
	NORM("//docs", "/docs");
	NORM("/./docs", "/docs");
	NORM("/docs/../docs", "/docs");
	NORM("/a//b/", "/a/b/");
	NORM("///a///b///", "/a/b/");
	NORM("/a/b/c/./../../g", "/a/g");
	NORM("/.", "/");
	NORM("/a/.", "/a/");   /* a trailing dot segment names the directory */
	NORM("/a/b/..", "/a/");
	NORM("/a/..", "/");
	NORM("/a/../", "/");
	NORM("/a/./", "/a/");
	NORM("/a.", "/a.");	 /* trailing dots in a name are part of it */
	NORM("/a..", "/a..");
	NORM("/...", "/...");
	NORM("/a/.../b", "/a/.../b");
	NORM("/.a/..b/b..", "/.a/..b/b..");
	NORM("/a/%2e", "/a/"); /* encoded dots are dots */
	NORM_FAILS("/..", -400);
	NORM_FAILS("/../", -400);
	NORM_FAILS("/a/../../x", -400);
	NORM_FAILS("/a/../..", -400);
	NORM_FAILS("/./../x", -400);
	NORM_FAILS("/%2e%2e/x", -400);
	NORM_FAILS("/.%2e/x", -400);
	NORM_FAILS("/%2E./x", -400);
	NORM("/a/%2e%2e/x", "/x");
	NORM("/a/.%2E", "/");
}

static void test_escapes(void)
{
	NORM("/a%20b", "/a b");
	NORM("/%41%62", "/Ab");
	NORM("/%25", "/%");
	NORM("/%25%32%66", "/%2f"); /* decoded once only */
	NORM("/%c3%a9t%C3%A9", "/\xc3\xa9t\xc3\xa9");
	NORM("/a:b@c!$&'()*+,;=-._~", "/a:b@c!$&'()*+,;=-._~");
	NORM_FAILS("/a%", -400);
	NORM_FAILS("/a%2", -400);
	NORM_FAILS("/a%zz", -400);
	NORM_FAILS("/a%g0", -400);
	NORM_FAILS("/a%00", -400);	/* decoded NUL */
	NORM_FAILS("/a%0a", -400);	/* decoded control character */
	NORM_FAILS("/a%7f", -400);
	NORM_FAILS("/a%2fb", -400);	/* an encoded separator */
	NORM_FAILS("/a%2F..%2F..%2Fx", -400);
	NORM_FAILS("/a%5cb", -400);	/* a backslash, encoded */
	NORM_FAILS("/a\\b", -400);	/* or raw */
	NORM_FAILS("/..\\x", -400);
	NORM_FAILS("/a b", -400);	/* raw bytes that are no pchar */
	NORM_FAILS("/a\tb", -400);
	NORM_FAILS("/a\x01", -400);
	NORM_FAILS("/a\x7f", -400);
	NORM_FAILS("/\xc3\xa9", -400);
	NORM_FAILS("/a?b", -400);
	NORM_FAILS("/a#b", -400);
	NORM_FAILS("/a\"b", -400);
	NORM_FAILS("/a<b>", -400);
	NORM_FAILS("/a|b", -400);
	NORM_FAILS("/a{b}", -400);
	NORM_FAILS("/a^b", -400);
	NORM_FAILS("/a`b", -400);
	NORM_FAILS("/a[b]", -400);
	NORM_FAILS("", -400);	/* not origin-form */
	NORM_FAILS("a", -400);
	NORM_FAILS("*", -400);
}

static void test_limits(void)
{
	char out[8];
	const char *nul = "/a\0b";

	CHECK_INT(rh_path_normalize("/abcdef", 7, out, sizeof out), 7);
	CHECK_STR(out, "/abcdef");
	CHECK_INT(rh_path_normalize("/abcdefg", 8, out, sizeof out), -414);
	CHECK_INT(rh_path_normalize("/abcdef/", 8, out, sizeof out), -414);
	CHECK_INT(rh_path_normalize("/a", 2, out, 1), -414);
	CHECK_INT(rh_path_normalize("/%41%41%41%41%41%41", 19, out, sizeof out), 7);
	CHECK_INT(rh_path_normalize(nul, 4, out, sizeof out), -400); /* a raw NUL */
	/* the length is what counts, not a NUL */
	CHECK_INT(rh_path_normalize("/ab/../x", 3, out, sizeof out), 3);
	CHECK_STR(out, "/ab");
}

static void test_encode(void)
{
	char out[64];

	CHECK_INT(rh_path_encode("/a b/%?#", 8, out, sizeof out), 16);
	CHECK_STR(out, "/a%20b/%25%3F%23");
	CHECK_INT(rh_path_encode("/\xc3\xa9\x01\x7f\\", 6, out, sizeof out), 16);
	CHECK_STR(out, "/%C3%A9%01%7F%5C");
	CHECK_INT(rh_path_encode("/a:b@c!$&'()*+,;=-._~/", 22, out, sizeof out), 22);
	CHECK_STR(out, "/a:b@c!$&'()*+,;=-._~/");
	CHECK_INT(rh_path_encode("/\"<>[]^`{|}", 11, out, sizeof out), 31);
	CHECK_STR(out, "/%22%3C%3E%5B%5D%5E%60%7B%7C%7D");
	/* never "//" at the start: a client would read an authority */
	CHECK_INT(rh_path_encode("//evil.example/", 15, out, sizeof out), 0);
	/* overflow, the NUL included */
	CHECK_INT(rh_path_encode("/abc", 4, out, 4), 0);
	CHECK_INT(rh_path_encode("/abc", 4, out, 5), 4);
	CHECK_INT(rh_path_encode("/a b", 4, out, 6), 0);
	CHECK_INT(rh_path_encode("/a b", 4, out, 7), 6);
}

/* normalize(encode(normalize(x))) == normalize(x), never "//" first */
static void test_round_trip(void)
{
	static const char *const in[] = {
		"/", "//docs", "/a%20b/", "/%25%32%66", "/%c3%a9/./x/../y", "/a/%2e/b",
		"/a:b@c", "/%3f%23%22", "/%5b%5d%7c",
	};

	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		char a[256], enc[768], b[256];
		ssize_t n = rh_path_normalize(in[i], strlen(in[i]), a, sizeof a), m;
		size_t e;

		if (n < 0)
			continue;
		e = rh_path_encode(a, n, enc, sizeof enc);
		CHECK(e > 0);
		CHECK(!(enc[0] == '/' && enc[1] == '/'));
		m = rh_path_normalize(enc, e, b, sizeof b);
		CHECK_INT(m, n);
		CHECK(m == n && !memcmp(a, b, n));
	}
}

int main(void)
{
	test_dot_segments();
	test_escapes();
	test_limits();
	test_encode();
	test_round_trip();
	return check_done("path");
}
