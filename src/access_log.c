#include "access_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "log.h"
#include "site.h"

int rh_access_log_init(struct rh_access_log *log)
{
	memset(log, 0, sizeof *log);
	log->bufs[0] = malloc(RH_ACCESS_BUF);
	log->bufs[1] = malloc(RH_ACCESS_BUF);
	return log->bufs[0] && log->bufs[1] ? 0 : -1;
}

void rh_access_log_destroy(struct rh_access_log *log)
{
	free(log->bufs[0]);
	free(log->bufs[1]);
	rh_site_put(log->writing);
	log->writing = NULL;
}

bool rh_access_log_enabled(const struct rh_site *site)
{
	return site->access_journal || site->access_fd >= 0;
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

static bool may_warn(struct rh_access_log *log, time_t wall)
{
	if (log->last_warning == wall)
		return false;
	log->last_warning = wall;
	return true;
}

void rh_access_rec_fill(struct rh_access_rec *rec, const struct rh_request *req,
			uint64_t start_usec)
{
	size_t used = 0, room = RH_ACCESS_REC_MAX - sizeof *rec;

	rec->start_usec = start_usec;
	rec->version = req->version;
	rec->method_len = add_text(rec, &used, req->method_name, 16);
	rec->target_len = add_text(rec, &used, req->target, room - used - 256);
	rec->agent_len = add_text(rec, &used, req->user_agent, room - used);
}

static void log_to_journal(const char *peer, const struct rh_access_rec *rec, int status,
			   uint64_t bytes_sent, uint64_t duration)
{
	const char *method = rec->text, *target = method + rec->method_len;
	const char *agent = target + rec->target_len;

	sd_journal_send("MESSAGE=%s \"%.*s %.*s\" %d %llu", peer, rec->method_len, method,
			rec->target_len, target, status, (unsigned long long)bytes_sent,
			"PRIORITY=%d", RH_LOG_INFO, "SYSLOG_IDENTIFIER=ringhttpd",
			"REMOTE_ADDR=%s", peer, "REQUEST_METHOD=%.*s", rec->method_len, method,
			"REQUEST_PATH=%.*s", rec->target_len, target, "STATUS=%d", status,
			"BYTES_SENT=%llu", (unsigned long long)bytes_sent,
			"DURATION_USEC=%llu", (unsigned long long)duration,
			"USER_AGENT=%.*s", rec->agent_len, agent, NULL);
}

bool rh_access_log_next_write(struct rh_access_log *log, struct rh_site *site, const char **buf,
			      size_t *len)
{
	int full = log->active;

	if (log->writing || log->len[full] == 0 || site->access_fd < 0)
		return false;
	*buf = log->bufs[full];
	*len = log->len[full];
	log->writing = rh_site_get(site);
	log->active = !full;
	return true;
}

void rh_access_log_written(struct rh_access_log *log, int res)
{
	int done = !log->active;
	time_t now = time(NULL);

	if (res < 0 && may_warn(log, now))
		rh_warn("access_log %s: %s", log->writing->cfg->access_log, strerror(-res));
	else if (res >= 0 && (size_t)res < log->len[done] && may_warn(log, now))
		rh_warn("access_log %s: short write", log->writing->cfg->access_log);
	log->len[done] = 0;
	rh_site_put(log->writing);
	log->writing = NULL;
}

/* 127.0.0.1 - - [24/Nov/2026:03:45:53 +0000] "GET / HTTP/1.1" 200 6 */
static void log_to_buffer(struct rh_access_log *log, time_t now, const char *peer,
			  const struct rh_access_rec *rec, int status, uint64_t body_bytes)
{
	char when[32], *line = log->bufs[log->active] + log->len[log->active];
	size_t room = RH_ACCESS_BUF - log->len[log->active];
	const char *method = rec->text, *target = method + rec->method_len;
	struct tm tm;
	int n;

	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
	n = snprintf(line, room, "%s - - [%s] \"%.*s %.*s HTTP/1.%d\" %d %llu\n", peer, when,
		     rec->method_len, method, rec->target_len, target, rec->version % 10, status,
		     (unsigned long long)body_bytes);
	if (n < 0 || (size_t)n >= room) {
		log->dropped++;
		if (may_warn(log, now))
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
	if (site->access_journal)
		log_to_journal(peer, rec, status, bytes_sent, now_usec - rec->start_usec);
	else if (site->access_fd >= 0)
		log_to_buffer(log, wall, peer, rec, status, body_bytes);
}

void rh_access_log_final_flush(struct rh_access_log *log, const struct rh_site *site)
{
	size_t len = log->len[log->active];

	if (len && site->access_fd >= 0 && write(site->access_fd, log->bufs[log->active], len) < 0)
		rh_warn("access_log %s: %s", site->cfg->access_log, strerror(errno));
	log->len[log->active] = 0;
}
