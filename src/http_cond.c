#include "http_cond.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_date.h"

size_t rh_mtime_hex(char out[RH_MTIME_HEX_MAX], const struct timespec *ts)
{
	/* seconds (as unsigned: two's complement keeps them distinct) times
	 * 10^9 plus nanoseconds, in 96 bits: HI:LO */
	uint64_t sec = (uint64_t)ts->tv_sec, nsec = (uint64_t)ts->tv_nsec % 1000000000u;
	uint64_t low = (sec & 0xffffffffu) * 1000000000u, high = (sec >> 32) * 1000000000u;
	uint64_t lo = low + (high << 32), hi = (high >> 32) + (lo < low);

	lo += nsec;
	hi += lo < nsec;
	if (!hi)
		return snprintf(out, RH_MTIME_HEX_MAX, "%llx", (unsigned long long)lo);
	return snprintf(out, RH_MTIME_HEX_MAX, "%llx%016llx", (unsigned long long)hi,
			(unsigned long long)lo);
}

size_t rh_etag_format(char out[RH_ETAG_MAX], const struct stat *st)
{
	char mtime[RH_MTIME_HEX_MAX];

	rh_mtime_hex(mtime, &st->st_mtim);
	return snprintf(out, RH_ETAG_MAX, "\"%llx-%llx-%s\"", (unsigned long long)st->st_ino,
			(unsigned long long)st->st_size, mtime);
}

/* entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE at *P; *OPAQUE is the quoted
 * part. False, *P unchanged, when there is none. */
static bool parse_etag(const char **p, const char *end, struct rh_str *opaque, bool *weak)
{
	const char *q = *p;

	*weak = end - q >= 2 && q[0] == 'W' && q[1] == '/';
	if (*weak)
		q += 2;
	if (q == end || *q != '"')
		return false;
	for (const char *c = q + 1; c < end; c++) {
		unsigned char ch = *c;

		if (ch == '"') {
			*opaque = (struct rh_str){ q, c + 1 - q };
			*p = c + 1;
			return true;
		}
		if (ch < 0x21 || ch == 0x7f) /* etagc = %x21 / %x23-7E / obs-text */
			return false;
	}
	return false;
}

static const char *skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* One field line of If-Match or If-None-Match: "*" or #entity-tag. 1 when
 * ETAG matches, by the strong or the weak comparison (RFC 9110 8.8.3.2),
 * 0 when not, -1 for a malformed line. */
static int etag_line_match(struct rh_str list, struct rh_str etag, bool strong)
{
	const char *p = list.p, *end = list.p + list.len, *e = etag.p;
	struct rh_str own, tag;
	bool own_weak, weak, match = false;

	p = skip_ows(p, end);
	if (end - p >= 1 && *p == '*' && skip_ows(p + 1, end) == end)
		return 1;
	if (!parse_etag(&e, etag.p + etag.len, &own, &own_weak))
		return 0;
	for (;;) {
		p = skip_ows(p, end);
		if (p == end)
			return match;
		if (*p == ',') { /* empty elements are allowed */
			p++;
			continue;
		}
		if (!parse_etag(&p, end, &tag, &weak))
			return -1;
		p = skip_ows(p, end);
		if (p < end && *p != ',')
			return -1;
		if (tag.len == own.len && !memcmp(tag.p, own.p, own.len) &&
		    !(strong && (weak || own_weak)))
			match = true;
	}
}

/* The field's lines together are one list (RFC 9110 5.3); a malformed
 * line makes it match nothing. */
static bool etag_list_match(const struct rh_list *list, struct rh_str etag, bool strong)
{
	bool match = false;

	for (unsigned i = 0; i < list->n; i++) {
		int m = etag_line_match(list->line[i], etag, strong);
		if (m < 0)
			return false;
		match |= m;
	}
	return match;
}

static bool safe_method(const struct rh_request *req)
{
	return req->method == RH_METHOD_GET || req->method == RH_METHOD_HEAD;
}

enum rh_precond rh_preconditions(const struct rh_request *req, struct rh_str etag, time_t mtime,
				 time_t now)
{
	bool dated = rh_http_date_in_range(mtime);
	time_t date;

	if (req->if_match.n) {
		if (!etag_list_match(&req->if_match, etag, true))
			return RH_PRECOND_FAILED;
	} else if (dated && req->if_unmodified_since.p &&
		   rh_http_date_parse(req->if_unmodified_since, &date) && mtime > date) {
		return RH_PRECOND_FAILED;
	}
	if (req->if_none_match.n) {
		if (etag_list_match(&req->if_none_match, etag, false))
			return safe_method(req) ? RH_PRECOND_NOT_MODIFIED : RH_PRECOND_FAILED;
	} else if (dated && safe_method(req) && req->if_modified_since.p &&
		   rh_http_date_parse(req->if_modified_since, &date) && date <= now &&
		   mtime <= date) {
		return RH_PRECOND_NOT_MODIFIED;
	}
	return RH_PRECOND_PROCEED;
}

bool rh_if_range_holds(const struct rh_request *req, struct rh_str etag, time_t mtime)
{
	struct rh_str v = req->if_range;
	time_t date;

	if (!v.p)
		return true;
	if (v.len && (v.p[0] == '"' || v.p[0] == 'W')) /* strong comparison: W/ never matches */
		return v.p[0] == '"' && v.len == etag.len && !memcmp(v.p, etag.p, etag.len);
	return rh_http_date_in_range(mtime) && rh_http_date_parse(v, &date) && date == mtime;
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

/* One range-spec (RFC 9110 14.1.1) of SPEC, for SIZE bytes: 1 with *R
 * when satisfiable, 0 when not, -1 when invalid. */
static int parse_spec(struct rh_str spec, uint64_t size, struct rh_byte_range *r)
{
	const char *p = spec.p, *end = spec.p + spec.len;
	uint64_t a, b;

	if (p < end && *p == '-') { /* suffix-range: the last b bytes */
		p++;
		if (!parse_u64(&p, end, &b) || p != end)
			return -1;
		if (b == 0 || size == 0)
			return 0;
		*r = (struct rh_byte_range){ b >= size ? 0 : size - b, size - 1 };
		return 1;
	}
	if (!parse_u64(&p, end, &a) || p == end || *p++ != '-')
		return -1;
	if (p == end)
		b = UINT64_MAX;
	else if (!parse_u64(&p, end, &b) || p != end || b < a)
		return -1;
	if (a >= size)
		return 0;
	*r = (struct rh_byte_range){ a, b >= size ? size - 1 : b };
	return 1;
}

/* Sorts by first, merges the overlapping and the close, then puts the
 * parts back in the order they were asked for (RFC 9110 14.6): a merged
 * part where its first range was. ORDER[i] is where r[i] was asked. A
 * handful of parts: insertion sorts. */
static void coalesce(struct rh_ranges *rs, unsigned *order)
{
	unsigned n = 0;

	for (unsigned i = 1; i < rs->n; i++) {
		struct rh_byte_range x = rs->r[i];
		unsigned xo = order[i], j = i;

		for (; j > 0 && rs->r[j - 1].first > x.first; j--) {
			rs->r[j] = rs->r[j - 1];
			order[j] = order[j - 1];
		}
		rs->r[j] = x;
		order[j] = xo;
	}
	for (unsigned i = 1; i < rs->n; i++) {
		struct rh_byte_range *cur = &rs->r[n], x = rs->r[i];

		if (x.first <= cur->last || x.first - cur->last <= RH_RANGE_COALESCE_GAP) {
			if (x.last > cur->last)
				cur->last = x.last;
			if (order[i] < order[n])
				order[n] = order[i];
		} else {
			rs->r[++n] = x;
			order[n] = order[i];
		}
	}
	if (rs->n)
		rs->n = n + 1;
	for (unsigned i = 1; i < rs->n; i++) {
		struct rh_byte_range x = rs->r[i];
		unsigned xo = order[i], j = i;

		for (; j > 0 && order[j - 1] > xo; j--) {
			rs->r[j] = rs->r[j - 1];
			order[j] = order[j - 1];
		}
		rs->r[j] = x;
		order[j] = xo;
	}
}

enum rh_range rh_ranges_parse(struct rh_str range, uint64_t size, unsigned max_ranges,
			      struct rh_ranges *out)
{
	const char *p = range.p, *end = range.p + range.len;
	unsigned order[RH_MAX_RANGES_CAP];
	uint64_t total = 0;
	bool any = false;

	out->n = 0;
	if (range.len < 6 || strncasecmp(p, "bytes=", 6))
		return RH_RANGE_WHOLE;
	for (p += 6; p < end;) { /* 1#range-spec */
		const char *comma = memchr(p, ',', end - p);
		struct rh_str spec = { p, (comma ? comma : end) - p };
		struct rh_byte_range r;
		int rc;

		p = comma ? comma + 1 : end;
		while (spec.len && (*spec.p == ' ' || *spec.p == '\t'))
			spec.p++, spec.len--;
		while (spec.len && (spec.p[spec.len - 1] == ' ' || spec.p[spec.len - 1] == '\t'))
			spec.len--;
		if (!spec.len)
			continue;
		any = true;
		if ((rc = parse_spec(spec, size, &r)) < 0)
			return RH_RANGE_WHOLE;
		if (!rc)
			continue;
		if (out->n == RH_MAX_RANGES_CAP)
			return RH_RANGE_WHOLE;
		order[out->n] = out->n;
		out->r[out->n++] = r;
	}
	if (!any)
		return RH_RANGE_WHOLE;
	if (!out->n)
		return RH_RANGE_UNSATISFIABLE;
	coalesce(out, order);
	for (unsigned i = 0; i < out->n; i++)
		total += out->r[i].last - out->r[i].first + 1;
	if (out->n > max_ranges || out->n > RH_MAX_RANGES_CAP || total > size)
		return RH_RANGE_WHOLE;
	return RH_RANGE_PARTIAL;
}

size_t rh_multipart_boundary(uint64_t random, char out[RH_BOUNDARY_MAX])
{
	return snprintf(out, RH_BOUNDARY_MAX, "%016llx", (unsigned long long)random);
}

/* Bounded appending to a caller's buffer; once it overflows, it stays so. */
struct out_buf {
	char *p;
	size_t cap, n;
	bool overflow;
};

static void put(struct out_buf *o, const char *s, size_t len)
{
	if (!len)
		return;
	if (o->overflow || len > o->cap - o->n) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->n, s, len);
	o->n += len;
}

static void put_u64(struct out_buf *o, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof tmp;

	do
		tmp[--i] = '0' + v % 10;
	while (v /= 10);
	put(o, tmp + i, sizeof tmp - i);
}

size_t rh_multipart_part_head(char *out, size_t cap, struct rh_str boundary,
			      struct rh_str content_type, struct rh_byte_range part, uint64_t size)
{
	struct out_buf o = { out, cap, 0, false };

	put(&o, "\r\n--", 4);
	put(&o, boundary.p, boundary.len);
	put(&o, "\r\n", 2);
	if (content_type.len) {
		put(&o, "Content-Type: ", 14);
		put(&o, content_type.p, content_type.len);
		put(&o, "\r\n", 2);
	}
	put(&o, "Content-Range: bytes ", 21);
	put_u64(&o, part.first);
	put(&o, "-", 1);
	put_u64(&o, part.last);
	put(&o, "/", 1);
	put_u64(&o, size);
	put(&o, "\r\n\r\n", 4);
	return o.overflow ? 0 : o.n;
}

size_t rh_multipart_tail(char *out, size_t cap, struct rh_str boundary)
{
	struct out_buf o = { out, cap, 0, false };

	put(&o, "\r\n--", 4);
	put(&o, boundary.p, boundary.len);
	put(&o, "--\r\n", 4);
	return o.overflow ? 0 : o.n;
}
/* Decimal digits of V. */
static unsigned digits(uint64_t v)
{
	unsigned n = 1;

	while (v >= 10)
		v /= 10, n++;
	return n;
}

uint64_t rh_multipart_length(const struct rh_ranges *ranges, struct rh_str boundary,
			     struct rh_str content_type, uint64_t size)
{
	/* "\r\n--" B "\r\n" ["Content-Type: " T "\r\n"] "Content-Range: bytes " a "-" b "/" s "\r\n\r\n" */
	uint64_t head = 4 + boundary.len + 2 + (content_type.len ? 14 + content_type.len + 2 : 0) +
			21 + 1 + 1 + digits(size) + 4;
	uint64_t total = boundary.len + 8;

	for (unsigned i = 0; i < ranges->n; i++) {
		const struct rh_byte_range *r = &ranges->r[i];

		total += head + digits(r->first) + digits(r->last) + (r->last - r->first + 1);
	}
	return total;
}
