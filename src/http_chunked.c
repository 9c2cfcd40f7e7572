#include "http_chunked.h"

#include <string.h>

#include "http_chars.h"

/* chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * last-chunk = 1*("0") [ chunk-ext ] CRLF, then trailer-section CRLF */
enum {
	ST_SIZE,	  /* hex digits */
	ST_EXT_SEMI,	  /* BWS before ';' */
	ST_EXT_NAME_PRE,  /* BWS after ';' */
	ST_EXT_NAME,	  /* token */
	ST_EXT_NAME_POST, /* BWS before '=' or ';' */
	ST_EXT_VAL_PRE,	  /* BWS after '=' */
	ST_EXT_TOKEN,	  /* token value */
	ST_EXT_QUOTED,	  /* quoted-string value */
	ST_EXT_ESCAPE,	  /* after '\' in it */
	ST_EXT_END,	  /* after the closing '"' */
	ST_SIZE_LF,	  /* LF ending the size line */
	ST_DATA,
	ST_DATA_CR,
	ST_DATA_LF,
	ST_TRAILER,	 /* start of a trailer line, or the final CR */
	ST_TRAILER_NAME,
	ST_TRAILER_VALUE,
	ST_TRAILER_LF,
	ST_FINAL_LF,
	ST_DONE,
	ST_ERROR,	 /* malformed: 400 */
	ST_TOO_LARGE,	 /* past max_wire: 413 */
};

void rh_chunked_init(struct rh_chunked *c, uint64_t max_wire)
{
	memset(c, 0, sizeof *c);
	c->state = ST_SIZE;
	c->max_wire = max_wire;
}

bool rh_chunked_done(const struct rh_chunked *c)
{
	return c->state == ST_DONE;
}

/* The end of the size line: the data or, after the last chunk, trailers. */
static unsigned size_line_end(const struct rh_chunked *c, unsigned char ch)
{
	if (ch != '\n')
		return ST_ERROR;
	return c->remaining ? ST_DATA : ST_TRAILER;
}

/* After an extension: more of them, or the end of the line. */
static unsigned after_ext(unsigned char ch)
{
	if (ch == ';')
		return ST_EXT_NAME_PRE;
	if (rh_is_ows(ch))
		return ST_EXT_SEMI;
	return ch == '\r' ? ST_SIZE_LF : ST_ERROR;
}

static unsigned size_step(struct rh_chunked *c, unsigned char ch)
{
	int v = rh_hexval(ch);

	if (v >= 0) {
		if (++c->digits > RH_CHUNK_SIZE_DIGITS)
			return ST_ERROR;
		c->remaining = c->remaining << 4 | (unsigned)v;
		return ST_SIZE;
	}
	if (!c->digits)
		return ST_ERROR;
	if (ch != '\r')
		c->ext_len++; /* the extensions begin */
	return after_ext(ch);
}

static unsigned ext_step(unsigned state, unsigned char ch)
{
	switch (state) {
	case ST_EXT_SEMI:
		return rh_is_ows(ch) ? ST_EXT_SEMI : ch == ';' ? ST_EXT_NAME_PRE : ST_ERROR;
	case ST_EXT_NAME_PRE:
		return rh_is_ows(ch) ? ST_EXT_NAME_PRE : rh_is_tchar(ch) ? ST_EXT_NAME : ST_ERROR;
	case ST_EXT_NAME:
		if (rh_is_tchar(ch))
			return ST_EXT_NAME;
		if (rh_is_ows(ch))
			return ST_EXT_NAME_POST;
		return ch == '=' ? ST_EXT_VAL_PRE : after_ext(ch);
	case ST_EXT_NAME_POST:
		if (rh_is_ows(ch))
			return ST_EXT_NAME_POST;
		if (ch == '=')
			return ST_EXT_VAL_PRE;
		return ch == ';' ? ST_EXT_NAME_PRE : ST_ERROR;
	case ST_EXT_VAL_PRE:
		if (rh_is_ows(ch))
			return ST_EXT_VAL_PRE;
		if (ch == '"')
			return ST_EXT_QUOTED;
		return rh_is_tchar(ch) ? ST_EXT_TOKEN : ST_ERROR;
	case ST_EXT_TOKEN:
		return rh_is_tchar(ch) ? ST_EXT_TOKEN : after_ext(ch);
	case ST_EXT_QUOTED:
		if (ch == '"')
			return ST_EXT_END;
		if (ch == '\\')
			return ST_EXT_ESCAPE;
		return rh_is_qdtext(ch) ? ST_EXT_QUOTED : ST_ERROR;
	case ST_EXT_ESCAPE:
		return rh_is_qdtext(ch) || ch == '"' || ch == '\\' ? ST_EXT_QUOTED : ST_ERROR;
	case ST_EXT_END:
		return after_ext(ch);
	}
	return ST_ERROR;
}

static unsigned trailer_step(unsigned state, unsigned char ch)
{
	switch (state) {
	case ST_TRAILER:
		if (ch == '\r')
			return ST_FINAL_LF;
		return rh_is_tchar(ch) ? ST_TRAILER_NAME : ST_ERROR; /* also obs-fold */
	case ST_TRAILER_NAME:
		if (rh_is_tchar(ch))
			return ST_TRAILER_NAME;
		return ch == ':' ? ST_TRAILER_VALUE : ST_ERROR;
	case ST_TRAILER_VALUE:
		if (ch == '\r')
			return ST_TRAILER_LF;
		return rh_is_field_char(ch) ? ST_TRAILER_VALUE : ST_ERROR;
	case ST_TRAILER_LF:
		return ch == '\n' ? ST_TRAILER : ST_ERROR;
	case ST_FINAL_LF:
		return ch == '\n' ? ST_DONE : ST_ERROR;
	}
	return ST_ERROR;
}

/* One byte of anything but chunk data. */
static unsigned step(struct rh_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case ST_SIZE:
		return size_step(c, ch);
	case ST_SIZE_LF:
		return size_line_end(c, ch);
	case ST_DATA_CR:
		return ch == '\r' ? ST_DATA_LF : ST_ERROR;
	case ST_DATA_LF:
		if (ch != '\n')
			return ST_ERROR;
		c->digits = 0;
		c->ext_len = 0;
		return ST_SIZE;
	}
	if (c->state >= ST_TRAILER)
		return ++c->trailer_len > RH_CHUNK_TRAILER_MAX ? ST_ERROR : trailer_step(c->state, ch);
	/* the extensions, CR ending them excluded */
	if (ch != '\r' && ++c->ext_len > RH_CHUNK_EXT_MAX)
		return ST_ERROR;
	return ext_step(c->state, ch);
}

ssize_t rh_chunked_feed(struct rh_chunked *c, const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && c->state < ST_DONE) {
		if (c->wire == c->max_wire) {
			c->state = ST_TOO_LARGE;
			break;
		}
		if (c->state == ST_DATA) {
			uint64_t n = len - i;

			if (n > c->remaining)
				n = c->remaining;
			if (n > c->max_wire - c->wire)
				n = c->max_wire - c->wire;
			c->remaining -= n;
			c->wire += n;
			i += n;
			if (!c->remaining)
				c->state = ST_DATA_CR;
			continue;
		}
		c->state = step(c, (unsigned char)buf[i++]);
		c->wire++;
	}
	if (c->state == ST_ERROR)
		return -400;
	if (c->state == ST_TOO_LARGE)
		return -413;
	return i;
}
