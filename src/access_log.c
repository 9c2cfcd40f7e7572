#include "access_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "listen.h"
#include "log.h"
#include "ring.h"
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

void rh_access_rec_fill(struct rh_access_rec *rec, const struct rh_request *req)
{
	size_t used = 0, room = RH_ACCESS_REC_MAX - sizeof *rec;

	rec->start_usec = rh_ring_usec();
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

void rh_access_log_flush(struct rh_ring *r)
{
	struct rh_access_log *log = &r->access;
	int full = log->active;
	struct io_uring_sqe *sqe;

	if (log->writing || log->len[full] == 0 || r->site->access_fd < 0)
		return;
	sqe = rh_ring_sqe(r, 1);
	/* the file is O_APPEND: offset -1 writes at its end */
	io_uring_prep_write(sqe, r->site->access_fd, log->bufs[full], log->len[full], -1);
	io_uring_sqe_set_data64(sqe, rh_ud(RH_OP_LOG_WRITE, 0, 0));
	log->writing = rh_site_get(r->site);
	log->active = !full;
}

void rh_access_log_written(struct rh_ring *r, int res)
{
	struct rh_access_log *log = &r->access;
	int done = !log->active;

	if (res < 0 && rh_ring_may_warn(r))
		rh_warn("access_log %s: %s", log->writing->cfg->access_log, strerror(-res));
	else if (res >= 0 && (size_t)res < log->len[done] && rh_ring_may_warn(r))
		rh_warn("access_log %s: short write", log->writing->cfg->access_log);
	log->len[done] = 0;
	rh_site_put(log->writing);
	log->writing = NULL;
	if (log->len[log->active] >= RH_ACCESS_BUF / 2)
		rh_access_log_flush(r);
}

/* 127.0.0.1 - - [24/Nov/2026:03:45:53 +0000] "GET / HTTP/1.1" 200 6 */
static void log_to_buffer(struct rh_ring *r, const char *peer, const struct rh_access_rec *rec,
			  int status, uint64_t body_bytes)
{
	struct rh_access_log *log = &r->access;
	char when[32], *line = log->bufs[log->active] + log->len[log->active];
	size_t room = RH_ACCESS_BUF - log->len[log->active];
	const char *method = rec->text, *target = method + rec->method_len;
	struct tm tm;
	time_t now = r->wall;
	int n;

	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
	n = snprintf(line, room, "%s - - [%s] \"%.*s %.*s HTTP/1.%d\" %d %llu\n", peer, when,
		     rec->method_len, method, rec->target_len, target, rec->version % 10, status,
		     (unsigned long long)body_bytes);
	if (n < 0 || (size_t)n >= room) {
		log->dropped++;
		if (rh_ring_may_warn(r))
			rh_warn("access_log: writes fall behind; %llu lines dropped so far",
				(unsigned long long)log->dropped);
		return;
	}
	log->len[log->active] += n;
	if (log->len[log->active] >= RH_ACCESS_BUF / 2)
		rh_access_log_flush(r);
}

void rh_access_log_request(struct rh_ring *r, int fd, const struct rh_access_rec *rec,
			   int status, uint64_t bytes_sent, uint64_t body_bytes)
{
	char peer[64];

	rh_peer_addr(fd, peer, sizeof peer);
	if (r->site->access_journal)
		log_to_journal(peer, rec, status, bytes_sent, rh_ring_usec() - rec->start_usec);
	else if (r->site->access_fd >= 0)
		log_to_buffer(r, peer, rec, status, body_bytes);
}

void rh_access_log_final_flush(struct rh_ring *r)
{
	struct rh_access_log *log = &r->access;
	size_t len = log->len[log->active];

	if (len && r->site->access_fd >= 0 && write(r->site->access_fd, log->bufs[log->active], len) < 0)
		rh_warn("access_log %s: %s", r->site->cfg->access_log, strerror(errno));
	log->len[log->active] = 0;
}
