/* HTTP/1.x request head parser (RFC 9112), strict, without allocation or
 * I/O: a pure function over bytes, so it can be unit-tested and fuzzed. It
 * tokenizes the request line and the field lines; what they mean is
 * checked by http_fields.h, as for HTTP/2. */
#ifndef RH_HTTP_PARSE_H
#define RH_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http_fields.h"

/* Parses the request head at the start of BUF[0..LEN). Returns its length
 * in bytes when complete, 0 when more bytes are needed, or minus the HTTP
 * status to answer:
 *   -400 malformed: syntax, a request line too long because of its method,
 *        an HTTP/1.1 request without Host, several Host lines or an invalid
 *        Host or target authority, Transfer-Encoding with Content-Length or
 *        in HTTP/1.0, chunked not the last coding or repeated, conflicting
 *        Content-Length values;
 *   -414 request target too long;
 *   -417 an expectation other than 100-continue;
 *   -431 head larger than MAX_HEAD;
 *   -501 a transfer coding other than chunked;
 *   -505 unsupported version.
 * A 400 takes precedence over 501, which takes precedence over 417. */
ssize_t rh_http_parse(const char *buf, size_t len, size_t max_head, struct rh_request *req);

#endif
