/* Site selection by the request's Host, compiled at load: no allocation
 * and no copy per request. */
#ifndef RH_VHOST_H
#define RH_VHOST_H

#include <stddef.h>

#include "site_conf.h"

struct rh_vhost;

/* A server name given twice: SITES[SITE].server_name[NAME] repeats a name
 * of SITES[FIRST]. */
struct rh_vhost_dup {
	size_t site, name, first;
};

/* Indexes the server names of SITES[0..N) (lower case, without a
 * trailing dot: as rh_sites_conf_parse leaves them), in time linear in
 * their number. NULL when out of memory (DUP->site is SIZE_MAX) or when
 * a name repeats (then *DUP says where). */
struct rh_vhost *rh_vhost_new(const struct rh_site_conf *sites, size_t n,
			      struct rh_vhost_dup *dup);
void rh_vhost_free(struct rh_vhost *v);

/* The index of the site for HOST[0..LEN) (a Host field value or the
 * authority of an absolute-form target; NULL or empty when there is
 * none), 0 (the default site) when no name matches.
 *
 * A port is ignored, as is one trailing dot, and names compare
 * case-insensitively. An exact name wins; otherwise the longest matching
 * wildcard: "*.example.org" matches "a.example.org" and
 * "a.b.example.org" (any depth), not "example.org" itself. An IP literal
 * ("[::1]:8080") matches no name. One hash look-up for the host and one
 * per dot in it, whatever the number of names. */
size_t rh_vhost_select(const struct rh_vhost *v, const char *host, size_t len);

#endif
