#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "journal.h"

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
	rh_journal_init();
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

size_t rh_log_escape(char *dst, size_t room, const char *src, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = src[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			if (n + 1 > room)
				break;
			dst[n++] = c;
		} else {
			if (n + 4 > room)
				break;
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 15];
		}
	}
	return n;
}

void rh_log_add_escaped(struct rh_journal_entry *e, const char *name, const char *value,
			size_t len)
{
	/* one byte more than an entry holds: a value cut here overflows it */
	char buf[RH_JOURNAL_MAX + 1];

	rh_journal_add(e, name, buf, rh_log_escape(buf, sizeof buf, value, len));
}

struct event {
	const char *id;
	const struct rh_log_field *fields;
	size_t n;
};

static void to_journal(enum rh_log_level level, const char *file, int line, const char *func,
		       const struct rh_log_request *rq, const struct event *ev, const char *msg)
{
	struct rh_journal_entry e;

	rh_journal_begin(&e);
	rh_journal_add(&e, "MESSAGE", msg, strlen(msg));
	rh_journal_addf(&e, "PRIORITY", "%d", (int)level);
	rh_journal_add(&e, "SYSLOG_IDENTIFIER", "ringhttpd", 9);
	rh_journal_add(&e, "CODE_FILE", file, strlen(file));
	rh_journal_addf(&e, "CODE_LINE", "%d", line);
	rh_journal_add(&e, "CODE_FUNC", func, strlen(func));
	if (rq) {
		rh_journal_add(&e, "REMOTE_ADDR", rq->remote_addr, strlen(rq->remote_addr));
		rh_log_add_escaped(&e, "REQUEST_METHOD", rq->method, strlen(rq->method));
		rh_log_add_escaped(&e, "REQUEST_PATH", rq->path, rq->path_len);
		rh_journal_addf(&e, "STATUS", "%d", rq->status);
	}
	if (ev) {
		rh_journal_add(&e, "MESSAGE_ID", ev->id, strlen(ev->id));
		for (size_t i = 0; i < ev->n; i++)
			rh_journal_add(&e, ev->fields[i].name, ev->fields[i].value,
				       strlen(ev->fields[i].value));
	}
	rh_journal_send(&e);
}

static void emit(enum rh_log_level level, const char *file, int line, const char *func,
		 const struct rh_log_request *rq, const struct event *ev, const char *fmt,
		 va_list ap)
{
	char msg[1024];

	const char *src;

	vsnprintf(msg, sizeof msg, fmt, ap);
	/* an out-of-tree build names "../src/x.c" or "/abs/path/src/x.c" */
	for (src = strstr(file, "src/"); src; src = strstr(src + 1, "src/"))
		if (src == file || src[-1] == '/')
			file = src;
	if (log_journal) {
		to_journal(level, file, line, func, rq, ev, msg);
	} else if (rq) {
		char path[4 * 1024];
		size_t n = rh_log_escape(path, sizeof path, rq->path, rq->path_len);

		fprintf(stderr, "%s: %s (%s \"%s %.*s\" %d)\n", level_names[level], msg,
			rq->remote_addr, rq->method, (int)n, path, rq->status);
	} else { /* one write per line so that lines of different threads never mix */
		fprintf(stderr, "%s: %s\n", level_names[level], msg);
	}
}

void rh_log_at(enum rh_log_level level, const char *file, int line, const char *func,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, file, line, func, NULL, NULL, fmt, ap);
	va_end(ap);
}

void rh_log_request_at(enum rh_log_level level, const char *file, int line, const char *func,
		       const struct rh_log_request *rq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, file, line, func, rq, NULL, fmt, ap);
	va_end(ap);
}

void rh_log_event_at(enum rh_log_level level, const char *file, int line, const char *func,
		     const char *id, const struct rh_log_field *fields, size_t n,
		     const char *fmt, ...)
{
	struct event ev = { id, fields, n };
	va_list ap;

	va_start(ap, fmt);
	emit(level, file, line, func, NULL, &ev, fmt, ap);
	va_end(ap);
}
