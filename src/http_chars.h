/* Character classes of HTTP (RFC 9110 5.5, 5.6.2) and URIs (RFC 3986 2,
 * 3.3): one definition for every parser. */
#ifndef RH_HTTP_CHARS_H
#define RH_HTTP_CHARS_H

#include <stdbool.h>
#include <string.h>

static inline bool rh_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool rh_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool rh_is_alnum(unsigned char c)
{
	return rh_is_alpha(c) || rh_is_digit(c);
}

/* CTL: the C0 controls and DEL */
static inline bool rh_is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Whether S holds a CTL. */
static inline bool rh_has_ctl(const char *s)
{
	for (; *s; s++)
		if (rh_is_ctl((unsigned char)*s))
			return true;
	return false;
}

/* OWS: optional white space, SP or HTAB (RFC 9110 5.6.3) */
static inline bool rh_is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* qdtext, and the second byte of a quoted-pair, but for '"' and '\\'
 * (RFC 9110 5.6.4) */
static inline bool rh_is_qdtext(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f && c != '"' && c != '\\');
}

/* tchar: the bytes of a token */
static inline bool rh_is_tchar(unsigned char c)
{
	return rh_is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Whether S is a token: one or more tchar. */
static inline bool rh_is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!rh_is_tchar((unsigned char)*s))
			return false;
	return true;
}

/* field-value bytes: VCHAR, obs-text, SP, HTAB */
static inline bool rh_is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* pchar without pct-encoded: unreserved, sub-delims, ':', '@' */
static inline bool rh_is_pchar(unsigned char c)
{
	return rh_is_alnum(c) || (c && strchr("-._~!$&'()*+,;=:@", c));
}

/* reg-name bytes without pct-encoded: unreserved and sub-delims, but not
 * ',' (a comma in Host is a sign of a combined list, never of one name) */
static inline bool rh_is_reg_name_char(unsigned char c)
{
	return rh_is_alnum(c) || (c && strchr("-._~!$&'()*+;=", c));
}

/* A hexadecimal digit's value, or -1. */
static inline int rh_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

#endif
