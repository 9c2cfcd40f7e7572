/* Diagnostics: journal entries with structured fields when stderr is the
 * journal (sent without waiting, see journal.h), plain "LEVEL: message"
 * lines on stderr otherwise. */
#ifndef RH_LOG_H
#define RH_LOG_H

#include <stdbool.h>
#include <stddef.h>

struct rh_journal_entry;

/* syslog priorities, as journald expects in PRIORITY= */
enum rh_log_level {
	RH_LOG_ERR = 3,
	RH_LOG_WARNING = 4,
	RH_LOG_NOTICE = 5,
	RH_LOG_INFO = 6,
	RH_LOG_DEBUG = 7,
};

/* Request bytes in a log (access log lines, journal fields), escaped as
 * nginx does it: '"', '\\', control bytes and bytes >= 0x7f become \xHH,
 * so a value is printable ASCII and cannot end a quoted CLF field. Writes
 * at most ROOM bytes of SRC[0..LEN) escaped into DST (no NUL) and returns
 * how many; never splits an escape. */
size_t rh_log_escape(char *dst, size_t room, const char *src, size_t len);
/* NAME=VALUE in E, VALUE[0..LEN) escaped so; one too long for an entry
 * makes the entry overflow, as rh_journal_add does. */
void rh_log_add_escaped(struct rh_journal_entry *e, const char *name, const char *value,
			size_t len);

void rh_log_init(void);
void rh_log_set_level(enum rh_log_level level);
bool rh_log_enabled(enum rh_log_level level);
/* "info" -> RH_LOG_INFO; -1 when unknown */
int rh_log_level_parse(const char *name);

void rh_log_at(enum rh_log_level level, const char *file, int line, const char *func,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* What a request-related message is about: journal fields REMOTE_ADDR,
 * REQUEST_METHOD, REQUEST_PATH and STATUS. */
struct rh_log_request {
	const char *remote_addr;
	const char *method;
	const char *path;
	int path_len;
	int status;
};

void rh_log_request_at(enum rh_log_level level, const char *file, int line, const char *func,
		       const struct rh_log_request *rq, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* One extra journal field of an event. */
struct rh_log_field {
	const char *name;
	const char *value;
};

/* An event a person looks up: MESSAGE_ID=ID and the N FIELDS go to the
 * journal with the message; stderr gets the message alone. */
void rh_log_event_at(enum rh_log_level level, const char *file, int line, const char *func,
		     const char *id, const struct rh_log_field *fields, size_t n,
		     const char *fmt, ...) __attribute__((format(printf, 8, 9)));

#define rh_log_event(level, id, fields, n, ...) \
	do { \
		if (rh_log_enabled(level)) \
			rh_log_event_at(level, __FILE__, __LINE__, __func__, id, fields, n, \
					__VA_ARGS__); \
	} while (0)

#define rh_log_req(level, rq, ...) \
	do { \
		if (rh_log_enabled(level)) \
			rh_log_request_at(level, __FILE__, __LINE__, __func__, rq, __VA_ARGS__); \
	} while (0)

#define rh_log(level, ...) \
	do { \
		if (rh_log_enabled(level)) \
			rh_log_at(level, __FILE__, __LINE__, __func__, __VA_ARGS__); \
	} while (0)
#define rh_err(...) rh_log(RH_LOG_ERR, __VA_ARGS__)
#define rh_warn(...) rh_log(RH_LOG_WARNING, __VA_ARGS__)
#define rh_notice(...) rh_log(RH_LOG_NOTICE, __VA_ARGS__)
#define rh_info(...) rh_log(RH_LOG_INFO, __VA_ARGS__)
#define rh_debug(...) rh_log(RH_LOG_DEBUG, __VA_ARGS__)

#endif
