#include "path.h"

#include <stdbool.h>
#include <string.h>

#include "http_chars.h"

/* A decoded byte that may be part of a name. */
static bool name_byte_ok(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != '/' && c != '\\';
}

/* Decodes the segment ENC[0..LEN) (no raw '/') to OUT + *N. */
static int decode_segment(const char *enc, size_t len, char *out, size_t cap, size_t *n)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = enc[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3 || (hi = rh_hexval(enc[i + 1])) < 0 || (lo = rh_hexval(enc[i + 2])) < 0)
				return -400;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			if (!name_byte_ok(c))
				return -400;
		} else if (!rh_is_pchar(c)) {
			return -400;
		}
		if (*n + 1 >= cap)
			return -414;
		out[(*n)++] = (char)c;
	}
	return 0;
}

ssize_t rh_path_normalize(const char *enc, size_t len, char *out, size_t cap)
{
	const char *p = enc + 1, *end = enc + len;
	size_t n = 1;

	if (!len || enc[0] != '/')
		return -400;
	if (cap < 2)
		return -414;
	out[0] = '/';
	/* invariant: OUT[0..N) ends with '/', before each segment */
	while (p <= end) {
		const char *slash = memchr(p, '/', end - p);
		const char *seg_end = slash ? slash : end;
		size_t start = n, seg_len;
		int rc;

		if ((rc = decode_segment(p, seg_end - p, out, cap, &n)) < 0)
			return rc;
		seg_len = n - start;
		if (seg_len == 1 && out[start] == '.') {
			n = start;
		} else if (seg_len == 2 && out[start] == '.' && out[start + 1] == '.') {
			if (start == 1) /* above the root */
				return -400;
			for (n = start - 1; out[n - 1] != '/'; n--)
				;
		} else if (seg_len && slash) {
			if (n + 1 >= cap)
				return -414;
			out[n++] = '/';
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	out[n] = '\0';
	return n;
}

size_t rh_path_encode(const char *path, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	if (len >= 2 && path[0] == '/' && path[1] == '/')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = path[i];

		if (rh_is_pchar(c) || c == '/') {
			if (n + 1 >= cap)
				return 0;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= cap)
				return 0;
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (n >= cap)
		return 0;
	out[n] = '\0';
	return n;
}
