/* HTTP-date (RFC 9110 5.6.7): formatting and parsing. */
#ifndef RH_HTTP_DATE_H
#define RH_HTTP_DATE_H

#include <stdbool.h>
#include <time.h>

#include "http_parse.h"

#define RH_HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* The times an HTTP-date can say, with its four-digit year from 1 on:
 * 0001-01-01 00:00:00 to 9999-12-31 23:59:59 GMT. */
#define RH_HTTP_DATE_MIN (-62135596800LL)
#define RH_HTTP_DATE_MAX 253402300799LL

bool rh_http_date_in_range(time_t t);
/* Writes the IMF-fixdate of T and a NUL into OUT; a T outside the range
 * above is written as the nearest end of it. */
void rh_http_date_format(time_t t, char out[RH_HTTP_DATE_LEN + 1]);
/* Accepts IMF-fixdate, the obsolete RFC 850 and asctime forms. */
bool rh_http_date_parse(struct rh_str s, time_t *t);

#endif
