#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

static _Atomic int log_level = RH_LOG_INFO;
static bool log_journal;

static const char *const level_names[] = {
	[RH_LOG_ERR] = "error",     [RH_LOG_WARNING] = "warning", [RH_LOG_NOTICE] = "notice",
	[RH_LOG_INFO] = "info",     [RH_LOG_DEBUG] = "debug",
};

/* JOURNAL_STREAM holds "device:inode" of the stream systemd connected to
 * stderr; it only counts if stderr is still that stream. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(2, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void rh_log_init(void)
{
	log_journal = stderr_is_journal();
}

void rh_log_set_level(enum rh_log_level level)
{
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

bool rh_log_enabled(enum rh_log_level level)
{
	return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

int rh_log_level_parse(const char *name)
{
	for (int l = RH_LOG_ERR; l <= RH_LOG_DEBUG; l++)
		if (strcmp(name, level_names[l]) == 0)
			return l;
	return -1;
}

static void emit(enum rh_log_level level, const char *file, int line, const char *func,
		 const struct rh_log_request *rq, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof msg, fmt, ap);
	while (!strncmp(file, "../", 3)) /* an out-of-tree build names "../src/x.c" */
		file += 3;
	if (log_journal && rq) {
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", (int)level,
				"CODE_FILE=%s", file, "CODE_LINE=%d", line, "CODE_FUNC=%s", func,
				"SYSLOG_IDENTIFIER=ringhttpd", "REMOTE_ADDR=%s", rq->remote_addr,
				"REQUEST_METHOD=%s", rq->method, "REQUEST_PATH=%.*s", rq->path_len,
				rq->path, "STATUS=%d", rq->status, NULL);
	} else if (log_journal) {
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", (int)level,
				"CODE_FILE=%s", file, "CODE_LINE=%d", line, "CODE_FUNC=%s", func,
				"SYSLOG_IDENTIFIER=ringhttpd", NULL);
	} else if (rq) {
		fprintf(stderr, "%s: %s (%s \"%s %.*s\" %d)\n", level_names[level], msg,
			rq->remote_addr, rq->method, rq->path_len, rq->path, rq->status);
	} else {
		/* one write per line so that lines of different threads never mix */
		fprintf(stderr, "%s: %s\n", level_names[level], msg);
	}
}

void rh_log_at(enum rh_log_level level, const char *file, int line, const char *func,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, file, line, func, NULL, fmt, ap);
	va_end(ap);
}

void rh_log_request_at(enum rh_log_level level, const char *file, int line, const char *func,
		       const struct rh_log_request *rq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, file, line, func, rq, fmt, ap);
	va_end(ap);
}
