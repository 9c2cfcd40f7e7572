/* What start-up needs of the system, checked without binding or serving
 * (ringhttpd -t): the user, the document root, the access log file, the
 * TLS certificates and keys, and io_uring, each as the server's user
 * will meet it. */
#ifndef RH_PREFLIGHT_H
#define RH_PREFLIGHT_H

#include <stddef.h>

struct rh_config;

/* The document root is a directory the current (effective) user can read
 * and search. 0 or -errno with a message naming the value's source. */
int rh_check_document_root(const struct rh_config *cfg, char *err, size_t errlen);
/* The access log file, if any, can be opened for appending by the current
 * user (it exists and is writable, or its directory is). */
int rh_check_access_log(const struct rh_config *cfg, char *err, size_t errlen);

/* Everything above as CFG's user (the process must be single-threaded:
 * when root it switches its effective ids for the checks and back), then
 * the io_uring probe with FIXED_BYTES of registered buffers per ring. */
int rh_preflight(const struct rh_config *cfg, size_t fixed_bytes, char *err, size_t errlen);

#endif
