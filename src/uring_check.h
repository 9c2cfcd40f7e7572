/* Whether io_uring can be set up as the rings will set it up, and, when
 * the kernel refuses it, why and what to do about it. */
#ifndef RH_URING_CHECK_H
#define RH_URING_CHECK_H

#include <stddef.h>

struct rh_config;

/* The cause of io_uring_setup's ERR (negative errno) and its remedy, in one
 * line: kernel.io_uring_disabled, a seccomp filter, a kernel without it. */
void rh_uring_explain(int err, char *buf, size_t len);

/* Whether this process may set up an io_uring at all (a plain ring, made
 * and closed at once). 0, or -errno with rh_uring_explain()'s text in ERR. */
int rh_uring_available(char *err, size_t errlen);

/* Sets up a ring with CFG's flags (SQPOLL), a provided-buffer ring, and,
 * if FIXED_BYTES and register_buffers, registers that much as fixed
 * buffers; over RLIMIT_MEMLOCK that is the documented fallback, logged as
 * a warning. Returns 0 or -errno with the message in ERR. */
int rh_uring_probe(const struct rh_config *cfg, size_t fixed_bytes, char *err, size_t errlen);

#endif
