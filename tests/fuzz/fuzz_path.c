/* libFuzzer target: path normalization. For any bytes, a normalized path
 * begins with '/' but never with "//", holds no "//", "/./" or "/../" and
 * does not end in "/." or "/..", so it cannot climb; encoding it for a
 * Location header and normalizing that gives it back. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

static bool ends_with(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && !memcmp(s + len - n, lit, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly SIZE bytes, so that ASan sees any overread */
	char *enc = malloc(size ? size : 1), *out = malloc(size + 1);
	char *again = malloc(3 * size + 1), *back = malloc(3 * size + 1);
	ssize_t n, m;
	size_t e;

	memcpy(enc, data, size);
	n = rh_path_normalize(enc, size, out, size + 1);
	if (n == -400 || n == -414) {
		if (n == -414)
			abort(); /* LEN + 1 bytes always suffice */
		goto done;
	}
	if (n < 1 || (size_t)n > size || out[0] != '/' || out[n] || memchr(out, '\0', n))
		abort();
	if (memmem(out, n, "//", 2) || memmem(out, n, "/./", 3) || memmem(out, n, "/../", 4) ||
	    ends_with(out, n, "/.") || ends_with(out, n, "/..") || memchr(out, '\\', n))
		abort();
	e = rh_path_encode(out, n, again, 3 * size + 1);
	if (!e || (e >= 2 && again[0] == '/' && again[1] == '/'))
		abort();
	m = rh_path_normalize(again, e, back, 3 * size + 1);
	if (m != n || memcmp(back, out, n))
		abort();
done:
	free(enc);
	free(out);
	free(again);
	free(back);
	return 0;
}
