#include "h2_request.h"

#include <string.h>

/* A field in the store: [name length][value length][name][value]. */
void rh_h2_field_put(char *store, uint32_t *len, const uint8_t *name, uint32_t nlen,
		     const uint8_t *value, uint32_t vlen)
{
	char *p = store + *len;

	memcpy(p, &nlen, 4);
	memcpy(p + 4, &vlen, 4);
	memcpy(p + 8, name, nlen);
	memcpy(p + 8 + nlen, value, vlen);
	*len += rh_h2_field_bytes(nlen, vlen);
}

int rh_h2_request(const char *store, uint32_t len, struct rh_request *req)
{
	struct rh_fields f;
	const char *p = store, *end = store + len;
	int rc = 0;

	rh_fields_begin(req, &f, 20);
	while (p < end && rc == 0) {
		uint32_t nlen, vlen;
		struct rh_str name, value;

		memcpy(&nlen, p, 4);
		memcpy(&vlen, p + 4, 4);
		name = (struct rh_str){ p + 8, nlen };
		value = (struct rh_str){ p + 8 + nlen, vlen };
		p += rh_h2_field_bytes(nlen, vlen);
		if (nlen && name.p[0] == ':') {
			if (nlen == 7 && !memcmp(name.p, ":method", 7))
				rh_request_method(req, value);
			else if (nlen == 5 && !memcmp(name.p, ":path", 5))
				rc = rh_request_target(req, value);
			else if (nlen == 10 && !memcmp(name.p, ":authority", 10))
				f.authority = value;
			continue; /* :scheme: the session checked it */
		}
		rc = rh_fields_add(req, &f, name, value);
	}
	return rc ? rc : rh_fields_end(req, &f);
}
