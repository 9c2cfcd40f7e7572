/* What a reload replaces: the configuration snapshot and what is derived
 * from it (media types, access log). Shared by the rings and freed when
 * the last of them lets go. */
#ifndef RH_SITE_H
#define RH_SITE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "mime.h"

struct rh_site_core;
struct rh_tls_contexts;

struct rh_site {
	atomic_uint refs;
	struct rh_config *cfg;
	struct rh_mime *mime;
	int access_fd; /* access_log file, or -1 */
	bool access_journal;
	const struct rh_tls_contexts *tls; /* NULL: no site has a certificate */
	struct rh_site_core *core; /* owns cfg, mime and tls */
};

/* Takes ownership of CFG (also on failure). NULL with a message in ERR. */
struct rh_site *rh_site_new(struct rh_config *cfg, char *err, size_t errlen);
/* The same site with its access log file opened anew (after a log
 * rotation): everything else is shared with OLD, nothing re-read. */
struct rh_site *rh_site_reopen(struct rh_site *old, char *err, size_t errlen);
struct rh_site *rh_site_get(struct rh_site *s);
void rh_site_put(struct rh_site *s);

#endif
