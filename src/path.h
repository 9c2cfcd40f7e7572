/* The request path (RFC 3986 3.3, 5.2.4): percent-decoding with dot
 * segments removed, and percent-encoding for a Location header. Pure
 * functions over bytes, no allocation or I/O. */
#ifndef RH_PATH_H
#define RH_PATH_H

#include <stddef.h>
#include <sys/types.h>

/* Decodes and normalizes the still percent-encoded path ENC[0..LEN) of an
 * origin-form target (it must begin with '/') into OUT, NUL-terminated.
 * Returns the length of the result or -400: for a bad escape, a raw byte
 * that is not a pchar, a decoded NUL, control character, '/' or '\', or a
 * path that climbs above the root; -414 when OUT (CAP bytes, the NUL
 * included) is too small, which LEN + 1 bytes never are.
 *
 * The result begins with '/', has no empty, "." or ".." segments (so no
 * "//", "/./" or "/../") and ends with '/' when the path names a directory:
 * when it ended with '/', "/." or "/..".
 *
 * Choices:
 * - "." and ".." segments are dot segments also when their dots came
 *   encoded ("%2e%2e"), as in nginx: the decoded name is what a file
 *   system would see, so it is what must not climb.
 * - "%2F" is 400: decoded it would be a separator that was not one in the
 *   URI, and kept it could not be told from one; either way the segment
 *   structure checked here would not be the one used.
 * - '\' raw or as "%5C" is 400: it is an ordinary byte on Linux, but some
 *   clients and other systems take it as a separator, so a name with it
 *   would mean different things to them and to us.
 * - Decoded control characters are 400: they are no part of a sane file
 *   name and could split a log line or a header if the path were echoed. */
ssize_t rh_path_normalize(const char *enc, size_t len, char *out, size_t cap);

/* Percent-encodes PATH[0..LEN) for a Location header into OUT, NUL-
 * terminated: everything but unreserved, the sub-delims, ':', '@' and '/'
 * is encoded, so always '%', '?', '#', SP, '\', control characters and
 * non-ASCII bytes. Returns the length, or 0 when OUT (CAP bytes, the NUL
 * included) is too small or PATH begins with "//", which a normalized path
 * never does and which a client would take for an authority. */
size_t rh_path_encode(const char *path, size_t len, char *out, size_t cap);

#endif
