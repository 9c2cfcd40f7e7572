#include "http_date.h"

#include <stdio.h>
#include <string.h>

static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

bool rh_http_date_in_range(time_t t)
{
	return (long long)t >= RH_HTTP_DATE_MIN && (long long)t <= RH_HTTP_DATE_MAX;
}

void rh_http_date_format(time_t t, char out[RH_HTTP_DATE_LEN + 1])
{
	struct tm tm;

	/* clamped, gmtime_r cannot fail (the year fits tm_year) and the year
	 * has four digits; the "% 10000" only tells the compiler so */
	if ((long long)t < RH_HTTP_DATE_MIN)
		t = (time_t)RH_HTTP_DATE_MIN;
	else if ((long long)t > RH_HTTP_DATE_MAX)
		t = (time_t)RH_HTTP_DATE_MAX;
	gmtime_r(&t, &tm);
	snprintf(out, RH_HTTP_DATE_LEN + 1, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], (tm.tm_year + 1900) % 10000,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int month_of(const char *m)
{
	for (int i = 0; i < 12; i++)
		if (!memcmp(m, months[i], 3))
			return i;
	return -1;
}

bool rh_http_date_parse(struct rh_str s, time_t *t)
{
	char buf[64], mon[4], wday[16], zone[4];
	struct tm tm = { 0 };
	int n = 0;

	if (s.len >= sizeof buf)
		return false;
	memcpy(buf, s.p, s.len);
	buf[s.len] = '\0';
	/* Sun, 06 Nov 1994 08:49:37 GMT */
	if (sscanf(buf, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &tm.tm_mday, mon, &tm.tm_year,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone, &n) == 8 && !buf[n]) {
		tm.tm_year -= 1900;
	/* Sunday, 06-Nov-94 08:49:37 GMT */
	} else if (sscanf(buf, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d %3s%n", wday, &tm.tm_mday,
			  mon, &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone, &n) == 8 &&
		   !buf[n]) {
		if (tm.tm_year < 70)
			tm.tm_year += 100;
	/* Sun Nov  6 08:49:37 1994 */
	} else if (sscanf(buf, "%3s %3s %2d %2d:%2d:%2d %4d%n", wday, mon, &tm.tm_mday,
			  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &tm.tm_year, &n) == 7 && !buf[n]) {
		tm.tm_year -= 1900;
		strcpy(zone, "GMT");
	} else {
		return false;
	}
	tm.tm_mon = month_of(mon);
	if (tm.tm_mon < 0 || strcmp(zone, "GMT") || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	*t = timegm(&tm);
	return *t != (time_t)-1;
}
