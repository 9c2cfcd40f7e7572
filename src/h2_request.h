/* An HTTP/2 request: the fields of a stream's header block kept as the
 * session decodes them, in a store of the caller's, and the request they
 * make once the block is whole, through the checks every protocol shares
 * (http_fields.h). Pure: no I/O and no allocation, so it is fuzzed with a
 * real session (tests/fuzz/fuzz_h2.c). */
#ifndef RH_H2_REQUEST_H
#define RH_H2_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "http_fields.h"

/* What a field counts against the header list limit (RFC 9113 6.5.2). */
static inline size_t rh_h2_field_cost(size_t nlen, size_t vlen)
{
	return nlen + vlen + 32;
}

/* The store's bytes for a field: never more than its cost, so a store of
 * the limit's size holds any list within the limit. */
static inline size_t rh_h2_field_bytes(size_t nlen, size_t vlen)
{
	return 8 + nlen + vlen;
}

/* Appends a field behind the LEN bytes of STORE, which has room for it. */
void rh_h2_field_put(char *store, uint32_t *len, const uint8_t *name, uint32_t nlen,
		     const uint8_t *value, uint32_t vlen);

/* The request the fields in STORE[0..LEN) make (pseudo-header fields first,
 * as the session checked): 0, or minus the status to answer. REQ's strings
 * point into STORE. */
int rh_h2_request(const char *store, uint32_t len, struct rh_request *req);

#endif
