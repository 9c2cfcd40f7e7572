/* An incremental decoder of the chunked transfer coding (RFC 9112 7.1): a
 * pure state machine that is fed the bytes after the head as they arrive,
 * split anywhere, and says where the body ends. The data is not kept (the
 * server discards request bodies); what is counted, and limited, is the
 * body's length on the wire: sizes, extensions, data, CRLFs and trailers. */
#ifndef RH_HTTP_CHUNKED_H
#define RH_HTTP_CHUNKED_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define RH_CHUNK_SIZE_DIGITS 16	 /* hex digits of a chunk size, so no overflow */
#define RH_CHUNK_EXT_MAX 1024	 /* bytes of one chunk's extensions */
#define RH_CHUNK_TRAILER_MAX 8192 /* bytes of the trailer section, final CRLF included */

struct rh_chunked {
	unsigned state;	     /* private */
	unsigned digits;     /* private: of the current size */
	uint64_t remaining;  /* private: data bytes left in the current chunk */
	uint32_t ext_len;    /* private: of the current chunk's extensions */
	uint32_t trailer_len; /* private: of the trailer section so far */
	uint64_t max_wire;   /* private: the most bytes the body may take */
	uint64_t wire;	     /* bytes of the body consumed so far */
};

/* A body of at most MAX_WIRE bytes on the wire, final CRLF included. */
void rh_chunked_init(struct rh_chunked *c, uint64_t max_wire);

/* Consumes bytes of BUF[0..LEN). Returns how many: all of them until the
 * body ends, then the bytes up to and including the final CRLF of the
 * trailer section (what follows belongs to the next request), and 0 once
 * done. Returns -400, and keeps returning it, for a malformed body: a size
 * that is not 1 to RH_CHUNK_SIZE_DIGITS hex digits (no sign, "0x", '_' or
 * whitespace), extensions that are not *( BWS ";" BWS token [ BWS "=" BWS
 * ( token / quoted-string ) ] ) or are longer than RH_CHUNK_EXT_MAX, data
 * not followed by CRLF, a bare CR or LF anywhere, a trailer line that is
 * not token ":" field-value, or trailers longer than RH_CHUNK_TRAILER_MAX.
 * Returns -413, and keeps returning it, once the body would pass MAX_WIRE
 * bytes: however it is cut into chunks and whatever its extensions, that
 * many bytes are read at most. Trailer fields are checked and dropped,
 * never merged into the request. */
ssize_t rh_chunked_feed(struct rh_chunked *c, const char *buf, size_t len);

/* True once the whole body, trailers and final CRLF included, is consumed. */
bool rh_chunked_done(const struct rh_chunked *c);

#endif
