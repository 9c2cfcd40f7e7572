#include "http_cond.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_date.h"

size_t rh_etag_format(char out[RH_ETAG_MAX], const struct stat *st)
{
	uint64_t mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + st->st_mtim.tv_nsec;

	return snprintf(out, RH_ETAG_MAX, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_ino,
			(unsigned long long)st->st_size, (unsigned long long)mtime_ns);
}

/* Next entity-tag of a comma-separated list, with its "W/" prefix removed
 * when WEAK is non-NULL. Returns false at the end of the list or on a
 * malformed list. */
static bool next_etag(const char **p, const char *end, struct rh_str *tag, bool *weak)
{
	const char *q;

	while (*p < end && (**p == ' ' || **p == '\t' || **p == ','))
		(*p)++;
	if (*p == end)
		return false;
	*weak = end - *p >= 2 && !memcmp(*p, "W/", 2);
	if (*weak)
		*p += 2;
	if (*p == end || **p != '"' || !(q = memchr(*p + 1, '"', end - (*p + 1))))
		return false;
	*tag = (struct rh_str){ *p, q + 1 - *p };
	*p = q + 1;
	return true;
}

static bool etag_list_matches(struct rh_str list, struct rh_str etag)
{
	const char *p = list.p, *end = list.p + list.len;
	struct rh_str tag;
	bool weak;

	if (list.len == 1 && list.p[0] == '*')
		return true;
	while (next_etag(&p, end, &tag, &weak))
		if (tag.len == etag.len && !memcmp(tag.p, etag.p, etag.len))
			return true;
	return false;
}

bool rh_not_modified(const struct rh_request *req, struct rh_str etag, time_t mtime)
{
	time_t since;

	if (req->if_none_match.p)
		return etag_list_matches(req->if_none_match, etag);
	if (req->if_modified_since.p && rh_http_date_parse(req->if_modified_since, &since))
		return mtime <= since;
	return false;
}

bool rh_if_range_holds(const struct rh_request *req, struct rh_str etag, time_t mtime)
{
	struct rh_str v = req->if_range;
	time_t date;

	if (!v.p)
		return true;
	if (v.len && (v.p[0] == '"' || v.p[0] == 'W')) /* strong comparison: W/ never matches */
		return v.len == etag.len && !memcmp(v.p, etag.p, etag.len);
	return rh_http_date_parse(v, &date) && date == mtime;
}

/* Decimal digits at *P into *V; false when there are none or too many. */
static bool parse_u64(const char **p, const char *end, uint64_t *v)
{
	const char *start = *p;

	*v = 0;
	for (; *p < end && **p >= '0' && **p <= '9'; (*p)++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return *p > start;
}

enum rh_range rh_range_parse(struct rh_str range, uint64_t size, uint64_t *first,
			     uint64_t *last)
{
	const char *p = range.p, *end = range.p + range.len;
	uint64_t a, b;

	if (range.len < 6 || strncasecmp(p, "bytes=", 6))
		return RH_RANGE_WHOLE;
	p += 6;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (memchr(p, ',', end - p))
		return RH_RANGE_WHOLE;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p < end && *p == '-') { /* suffix: the last b bytes */
		p++;
		if (!parse_u64(&p, end, &b) || p != end)
			return RH_RANGE_WHOLE;
		if (b == 0 || size == 0)
			return RH_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return RH_RANGE_PARTIAL;
	}
	if (!parse_u64(&p, end, &a) || p == end || *p++ != '-')
		return RH_RANGE_WHOLE;
	if (p == end) {
		b = UINT64_MAX;
	} else if (!parse_u64(&p, end, &b) || p != end || b < a) {
		return RH_RANGE_WHOLE;
	}
	if (a >= size)
		return RH_RANGE_UNSATISFIABLE;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return RH_RANGE_PARTIAL;
}
