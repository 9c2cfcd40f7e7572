/* journald's native protocol: one datagram per entry, sent to
 * /run/systemd/journal/socket without ever waiting. An entry journald
 * cannot take at once is dropped and counted. */
#ifndef RH_JOURNAL_H
#define RH_JOURNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RH_JOURNAL_SOCKET "/run/systemd/journal/socket"
#define RH_JOURNAL_MAX 8192 /* bytes of one entry; a longer one is dropped */

struct rh_journal_entry {
	size_t len;
	bool overflow;
	char data[RH_JOURNAL_MAX];
};

/* Opens the socket; called once, before any thread starts. */
void rh_journal_init(void);

void rh_journal_begin(struct rh_journal_entry *e);
/* NAME=VALUE (LEN bytes, any bytes: a value with a newline goes in the
 * protocol's length-prefixed form). */
void rh_journal_add(struct rh_journal_entry *e, const char *name, const char *value, size_t len);
void rh_journal_addf(struct rh_journal_entry *e, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void rh_journal_vaddf(struct rh_journal_entry *e, const char *name, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Sends E; 0, or -errno when it was dropped (and counted). */
int rh_journal_send(const struct rh_journal_entry *e);

/* Entries dropped since start-up, and the error of the last one. */
uint64_t rh_journal_dropped(int *last_error);

#endif
