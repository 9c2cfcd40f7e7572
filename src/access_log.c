#include "access_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "site.h"

_Static_assert(sizeof(struct rh_access_rec) <= RH_ACCESS_REC_MAX, "access record too large");

/* A CLF line: address, date, and the request line escaped (4 bytes a byte
 * at worst), with room to spare. */
#define LINE_MAX_BYTES (4 * RH_ACCESS_REC_MAX + 256)

int rh_access_log_init(struct rh_access_log *log)
{
	memset(log, 0, sizeof *log);
	log->bufs[0] = malloc(RH_ACCESS_BUF);
	log->bufs[1] = malloc(RH_ACCESS_BUF);
	return log->bufs[0] && log->bufs[1] ? 0 : -ENOMEM;
}

void rh_access_log_destroy(struct rh_access_log *log)
{
	free(log->bufs[0]);
	free(log->bufs[1]);
	log->bufs[0] = log->bufs[1] = NULL;
	rh_site_put(log->writing);
	log->writing = NULL;
}

bool rh_access_log_enabled(const struct rh_site *site)
{
	return site->access_journal || site->access_fd >= 0;
}

/* Warnings that can repeat per request: one a second at most. */
static bool may_warn(struct rh_access_log *log)
{
	if (log->wall == log->last_warning)
		return false;
	log->last_warning = log->wall;
	return true;
}

/* Appends at most MAX bytes of S to REC's text; returns how many. */
static uint16_t add_text(struct rh_access_rec *rec, size_t *used, struct rh_str s, size_t max)
{
	size_t n = s.len < max ? s.len : max;

	if (n) /* s.p may be NULL when the header was absent */
		memcpy(rec->text + *used, s.p, n);
	*used += n;
	return n;
}

void rh_access_rec_fill(struct rh_access_rec *rec, const struct rh_request *req,
			uint64_t start_usec)
{
	size_t used = 0, room = sizeof rec->text;
	size_t agent = req->user_agent.len < RH_ACCESS_AGENT_MAX ? req->user_agent.len
								 : RH_ACCESS_AGENT_MAX;

	rec->start_usec = start_usec;
	rec->version = req->version;
	rec->site[0] = '\0';
	rec->method_len = add_text(rec, &used, req->method_name, RH_ACCESS_METHOD_MAX);
	rec->target_len = add_text(rec, &used, req->target, room - used - agent);
	rec->agent_len = add_text(rec, &used, req->user_agent, agent);
}

void rh_access_rec_target(struct rh_access_rec *rec, const char *target, size_t len)
{
	char agent[RH_ACCESS_AGENT_MAX];
	size_t agent_len = rec->agent_len;
	size_t room = sizeof rec->text - rec->method_len - agent_len;

	memcpy(agent, rec->text + rec->method_len + rec->target_len, agent_len);
	rec->target_len = len < room ? len : room;
	memcpy(rec->text + rec->method_len, target, rec->target_len);
	memcpy(rec->text + rec->method_len + rec->target_len, agent, agent_len);
}

void rh_access_rec_site(struct rh_access_rec *rec, const char *name)
{
	snprintf(rec->site, sizeof rec->site, "%s", name);
}

/* "GET /x HTTP/1.1", escaped, into DST of ROOM (> 32) bytes, NUL-terminated;
 * the version always fits. */
static void request_line(char *dst, size_t room, const struct rh_access_rec *rec)
{
	const char *method = rec->text, *target = method + rec->method_len;
	size_t n = rh_log_escape(dst, room - 17, method, rec->method_len);

	dst[n++] = ' ';
	n += rh_log_escape(dst + n, room - 16 - n, target, rec->target_len);
	snprintf(dst + n, room - n, " HTTP/%d.%d", rec->version / 10, rec->version % 10);
}

static void log_to_journal(const char *peer, const struct rh_access_rec *rec, int status,
			   uint64_t bytes_sent, uint64_t duration)
{
	const char *method = rec->text, *target = method + rec->method_len;
	const char *agent = target + rec->target_len;
	struct rh_journal_entry e;
	char line[LINE_MAX_BYTES];

	request_line(line, sizeof line, rec);
	rh_journal_begin(&e);
	rh_journal_addf(&e, "MESSAGE", "%s \"%s\" %d %llu", peer, line, status,
			(unsigned long long)bytes_sent);
	rh_journal_addf(&e, "PRIORITY", "%d", RH_LOG_INFO);
	rh_journal_add(&e, "SYSLOG_IDENTIFIER", "ringhttpd", 9);
	rh_journal_add(&e, "REMOTE_ADDR", peer, strlen(peer));
	rh_log_add_escaped(&e, "REQUEST_METHOD", method, rec->method_len);
	rh_log_add_escaped(&e, "REQUEST_PATH", target, rec->target_len);
	rh_journal_addf(&e, "STATUS", "%d", status);
	rh_journal_addf(&e, "BYTES_SENT", "%llu", (unsigned long long)bytes_sent);
	rh_journal_addf(&e, "DURATION_USEC", "%llu", (unsigned long long)duration);
	rh_log_add_escaped(&e, "USER_AGENT", agent, rec->agent_len);
	if (rec->site[0])
		rh_log_add_escaped(&e, "SITE", rec->site, strlen(rec->site));
	/* a drop is counted; main.c reports the count */
	rh_journal_send(&e);
}

/* 127.0.0.1 - - [24/Nov/2026:03:45:53 +0000] "GET / HTTP/1.1" 200 6, and
 * for a named site ' "example.org"' after it */
static void log_to_buffer(struct rh_access_log *log, const char *peer,
			  const struct rh_access_rec *rec, int status, uint64_t body_bytes)
{
	char when[32], line[LINE_MAX_BYTES], site[3 * RH_ACCESS_SITE_MAX + 4] = "";
	size_t room = RH_ACCESS_BUF - log->len[log->active];
	struct tm tm;
	int n;

	gmtime_r(&log->wall, &tm);
	strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
	request_line(line, sizeof line, rec);
	if (rec->site[0]) {
		size_t k = rh_log_escape(site + 2, sizeof site - 4, rec->site, strlen(rec->site));
		site[0] = ' ';
		site[1] = site[k + 2] = '"';
		site[k + 3] = '\0';
	}
	n = snprintf(log->bufs[log->active] + log->len[log->active], room,
		     "%s - - [%s] \"%s\" %d %llu%s\n", peer, when, line, status,
		     (unsigned long long)body_bytes, site);
	if (n < 0 || (size_t)n >= room) {
		log->dropped++;
		if (may_warn(log))
			rh_warn("access_log: writes fall behind; %llu lines dropped so far",
				(unsigned long long)log->dropped);
		return;
	}
	log->len[log->active] += n;
}

void rh_access_log_request(struct rh_access_log *log, const struct rh_site *site, time_t wall,
			   const char *peer, const struct rh_access_rec *rec, int status,
			   uint64_t bytes_sent, uint64_t body_bytes, uint64_t now_usec)
{
	log->wall = wall;
	if (site->access_journal)
		log_to_journal(peer, rec, status, bytes_sent, now_usec - rec->start_usec);
	else if (site->access_fd >= 0)
		log_to_buffer(log, peer, rec, status, body_bytes);
}

void rh_access_log_tick(struct rh_access_log *log)
{
	log->due = log->len[log->active] > 0;
}

bool rh_access_log_next_write(struct rh_access_log *log, struct rh_site *site,
			      const char **buf, size_t *len)
{
	int full = log->active;

	if (log->writing || log->len[full] == 0 || site->access_fd < 0)
		return false;
	if (!log->due && log->len[full] < RH_ACCESS_BUF / 2)
		return false;
	*buf = log->bufs[full];
	*len = log->len[full];
	log->writing = rh_site_get(site);
	log->active = !full;
	log->due = false;
	return true;
}

void rh_access_log_written(struct rh_access_log *log, int res)
{
	int done = !log->active;

	if (res < 0 && may_warn(log))
		rh_warn("access_log %s: %s", log->writing->cfg->access_log, strerror(-res));
	else if (res >= 0 && (size_t)res < log->len[done] && may_warn(log))
		rh_warn("access_log %s: short write", log->writing->cfg->access_log);
	log->len[done] = 0;
	rh_site_put(log->writing);
	log->writing = NULL;
}

void rh_access_log_final_flush(struct rh_access_log *log, const struct rh_site *site)
{
	size_t len = log->len[log->active];

	if (len && site->access_fd >= 0 && write(site->access_fd, log->bufs[log->active], len) < 0)
		rh_warn("access_log %s: %s", site->cfg->access_log, strerror(errno));
	log->len[log->active] = 0;
}
