#include "negotiate.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_chars.h"

static const char *const coding_names[RH_CODING_COUNT] = { "identity", "br", "zstd", "gzip" };
static const char *const coding_suffixes[RH_CODING_COUNT] = { "", ".br", ".zst", ".gz" };

const char *rh_coding_name(enum rh_coding c)
{
	return (unsigned)c < RH_CODING_COUNT ? coding_names[c] : "identity";
}

const char *rh_coding_suffix(enum rh_coding c)
{
	return (unsigned)c < RH_CODING_COUNT ? coding_suffixes[c] : "";
}

int rh_coding_from_name(const char *name)
{
	for (int c = RH_CODING_BR; c < RH_CODING_COUNT; c++)
		if (!strcmp(name, coding_names[c]))
			return c;
	return -1;
}

static const char *skip_ows(const char *p, const char *end)
{
	while (p < end && rh_is_ows(*p))
		p++;
	return p;
}

static const char *skip_token(const char *p, const char *end)
{
	while (p < end && rh_is_tchar((unsigned char)*p))
		p++;
	return p;
}

/* The end of the list element that starts at P: the next ',' outside a
 * quoted-string, or END. */
static const char *element_end(const char *p, const char *end)
{
	bool quoted = false;

	for (; p < end; p++) {
		if (quoted && *p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == ',' && !quoted)
			break;
	}
	return p;
}

static bool eq_ci(const char *p, size_t len, const char *lit)
{
	return len == strlen(lit) && !strncasecmp(p, lit, len);
}

/* A qvalue "0[.ddd]" or "1[.000]" as thousandths; -1 when malformed. */
static int parse_qvalue(const char *p, const char *end)
{
	int v, digits = 0;
	bool one;

	if (p >= end || (*p != '0' && *p != '1'))
		return -1;
	one = *p++ == '1';
	v = one ? 1000 : 0;
	if (p < end && *p == '.') {
		int scale = 100;
		for (p++; p < end && *p >= '0' && *p <= '9' && digits < 3; p++, digits++) {
			if (one && *p != '0')
				return -1;
			v += (*p - '0') * scale;
			scale /= 10;
		}
	}
	return p == end ? v : -1;
}

/* The parameters of an element, from P (just after its name) to END:
 * *( OWS ";" OWS name "=" value ). Sets *Q to the weight in thousandths
 * (1000 without a q; a second q is malformed). Other parameters are
 * skipped when ALLOW_OTHER, else they make the element malformed.
 * Returns false when malformed. */
static bool parse_params(const char *p, const char *end, bool allow_other, int *q)
{
	bool seen_q = false;

	*q = 1000;
	for (;;) {
		const char *name, *val;
		size_t name_len;

		p = skip_ows(p, end);
		if (p == end)
			return true;
		if (*p != ';')
			return false;
		p = skip_ows(p + 1, end);
		name = p;
		p = skip_token(p, end);
		name_len = p - name;
		if (!name_len || p == end || *p != '=')
			return false;
		val = ++p;
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			if (p == end)
				return false;
			p++;
		} else {
			p = skip_token(p, end);
		}
		if (eq_ci(name, name_len, "q")) {
			*q = parse_qvalue(val, p);
			if (*q < 0 || seen_q)
				return false;
			seen_q = true;
		} else if (!allow_other) {
			return false;
		}
	}
}

enum rh_coding rh_negotiate_encoding(const char *ae, size_t len, const enum rh_coding *order,
				     size_t n_order, unsigned available)
{
	int listed[RH_CODING_COUNT] = { -1, -1, -1, -1 }, star = -1;
	const char *p = ae, *end = ae + len;
	enum rh_coding best = RH_CODING_IDENTITY;
	int best_w = 0, id_w;

	if (!ae)
		return RH_CODING_IDENTITY;
	while (p < end) {
		const char *e = element_end(p, end), *name, *name_end;
		int q, c = -1;

		name = skip_ows(p, e);
		name_end = skip_token(name, e);
		p = e < end ? e + 1 : e;
		if (name_end == name || !parse_params(name_end, e, false, &q))
			continue;
		if (eq_ci(name, name_end - name, "*")) {
			if (star < 0)
				star = q;
			continue;
		}
		for (int i = 0; i < RH_CODING_COUNT; i++)
			if (eq_ci(name, name_end - name, coding_names[i]))
				c = i;
		if (eq_ci(name, name_end - name, "x-gzip"))
			c = RH_CODING_GZIP;
		if (c >= 0 && listed[c] < 0)
			listed[c] = q;
	}
	/* Weights doubled, so that an identity nobody mentioned weighs 1:
	 * below any q above 0, above a refusal. */
	for (size_t i = 0; i < n_order; i++) {
		enum rh_coding c = order[i];
		int w;

		if (c == RH_CODING_IDENTITY || (unsigned)c >= RH_CODING_COUNT ||
		    !(available & RH_CODING_BIT(c)))
			continue;
		w = 2 * (listed[c] >= 0 ? listed[c] : star >= 0 ? star : 0);
		if (w > best_w) {
			best = c;
			best_w = w;
		}
	}
	id_w = listed[RH_CODING_IDENTITY] >= 0 ? 2 * listed[RH_CODING_IDENTITY]
	       : star >= 0			 ? 2 * star
						 : 1;
	return id_w > best_w ? RH_CODING_IDENTITY : best;
}

/* How a media range matches TYPE/SUBTYPE: 3 exactly, 2 by "type/ *",
 * 1 by "* / *", 0 not at all. */
static int range_match(const char *r, size_t rlen, const char *type, const char *sub)
{
	const char *slash = memchr(r, '/', rlen);
	size_t tl, sl;

	if (!slash)
		return 0;
	tl = slash - r;
	sl = rlen - tl - 1;
	if (eq_ci(r, tl, "*"))
		return eq_ci(slash + 1, sl, "*") ? 1 : 0;
	if (!eq_ci(r, tl, type))
		return 0;
	if (eq_ci(slash + 1, sl, "*"))
		return 2;
	return eq_ci(slash + 1, sl, sub) ? 3 : 0;
}

bool rh_accept_prefers_json(const char *accept, size_t len)
{
	const char *p = accept, *end = accept + len;
	int json_spec = 0, json_q = 0, html_spec = 0, html_q = 0;

	if (!accept)
		return false;
	while (p < end) {
		const char *e = element_end(p, end), *r, *r_end;
		int q, m;

		r = skip_ows(p, e);
		r_end = skip_token(r, e);
		if (r_end < e && *r_end == '/')
			r_end = skip_token(r_end + 1, e);
		p = e < end ? e + 1 : e;
		if (r_end == r || !parse_params(r_end, e, true, &q))
			continue;
		m = range_match(r, r_end - r, "application", "json");
		if (m > json_spec) {
			json_spec = m;
			json_q = q;
		}
		m = range_match(r, r_end - r, "text", "html");
		if (m > html_spec) {
			html_spec = m;
			html_q = q;
		}
	}
	return json_q > html_q;
}

/* The length of the bare "type/subtype" at the start of T. */
static size_t bare_len(const char *t)
{
	size_t n = 0;

	while (t[n] && t[n] != ';' && !rh_is_ows(t[n]))
		n++;
	return n;
}

bool rh_charset_applies(const char *type)
{
	static const char *const exact[] = { "application/javascript", "application/json",
					     "application/xml", "image/svg+xml",
					     "application/ecmascript", "application/x-javascript" };
	size_t n = bare_len(type);

	if (n > 5 && !strncasecmp(type, "text/", 5))
		return true;
	for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
		if (eq_ci(type, n, exact[i]))
			return true;
	if (!memchr(type, '/', n))
		return false;
	return (n > 5 && !strncasecmp(type + n - 5, "+json", 5)) ||
	       (n > 4 && !strncasecmp(type + n - 4, "+xml", 4));
}

/* Whether the parameters of TYPE already name a charset. */
static bool has_charset(const char *type)
{
	for (const char *p = strchr(type, ';'); p; p = strchr(p + 1, ';')) {
		const char *q = p + 1;
		while (rh_is_ows(*q))
			q++;
		if (!strncasecmp(q, "charset", 7) && (q[7] == '=' || rh_is_ows(q[7])))
			return true;
	}
	return false;
}

size_t rh_content_type(char *buf, size_t cap, const char *type, const char *charset)
{
	int n;

	if (charset && *charset && rh_charset_applies(type) && !has_charset(type))
		n = snprintf(buf, cap, "%s; charset=%s", type, charset);
	else
		n = snprintf(buf, cap, "%s", type);
	return n < 0 ? 0 : (size_t)n;
}
