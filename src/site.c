#include "site.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "preflight.h"
#include "site_conf.h"
#include "tls_context.h"

/* What sites made by rh_site_reopen() share. */
struct rh_site_core {
	atomic_uint refs;
	struct rh_config *cfg;
	struct rh_mime *mime;
	struct rh_tls_contexts *tls;
};

static void core_put(struct rh_site_core *c)
{
	if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return;
	rh_mime_free(c->mime);
	rh_tls_contexts_free(c->tls);
	rh_config_free(c->cfg);
	free(c);
}

/* An error page that cannot be read is answered with the built-in body;
 * said once, here, rather than at every error. */
static void warn_missing_pages(const struct rh_site_core *c)
{
	const struct rh_sites_conf *sites = c->cfg->sites;

	for (size_t i = 0; i < sites->n_site; i++) {
		const struct rh_site_conf *sc = &sites->site[i];

		for (size_t k = 0; k < sc->n_error_pages; k++) {
			char page[4096];

			snprintf(page, sizeof page, "%s%s", sc->document_root, sc->error_pages[k].page);
			if (access(page, R_OK) < 0)
				rh_warn("error_pages: %s: %s; status %u gets the built-in page", page,
					strerror(errno), sc->error_pages[k].status);
		}
	}
}

static struct rh_site_core *core_new(struct rh_config *cfg, char *err, size_t errlen)
{
	struct rh_site_core *c = calloc(1, sizeof *c);

	if (!c) {
		snprintf(err, errlen, "out of memory");
		rh_config_free(cfg);
		return NULL;
	}
	atomic_init(&c->refs, 1);
	c->cfg = cfg;
	/* the roots are opened by their paths at each look-up (file.c); that
	 * they exist is checked once, here */
	for (size_t i = 0; i < cfg->sites->n_site; i++) {
		const char *root = cfg->sites->site[i].document_root;
		struct stat st;
		int e = stat(root, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;

		if (e) {
			snprintf(err, errlen, "document_root %s: %s", root, strerror(e));
			goto fail;
		}
	}
	warn_missing_pages(c);
	/* O_PATH opens what cannot be read: every request would get 403 */
	if (rh_check_document_root(cfg, err, errlen) < 0)
		goto fail;
	c->mime = rh_mime_new(RH_MIME_TYPES_FILE, cfg->types, cfg->n_types);
	if (!c->mime) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* read here, as the server's user, at start and at each reload */
	c->tls = rh_tls_contexts_new(cfg, false, err, errlen);
	if (!c->tls && err[0])
		goto fail;
	return c;
fail:
	core_put(c);
	return NULL;
}

/* A site on CORE (whose reference it takes) with its own access log. */
static struct rh_site *site_on(struct rh_site_core *core, char *err, size_t errlen)
{
	const struct rh_config *cfg = core->cfg;
	struct rh_site *s = calloc(1, sizeof *s);

	if (!s) {
		snprintf(err, errlen, "out of memory");
		core_put(core);
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->core = core;
	s->cfg = core->cfg;
	s->mime = core->mime;
	s->tls = core->tls;
	s->access_fd = -1;
	s->access_journal = !strcmp(cfg->access_log, "journal");
	if (cfg->access_log[0] == '/') {
		s->access_fd = open(cfg->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (s->access_fd < 0) {
			snprintf(err, errlen, "access_log %s: %s", cfg->access_log, strerror(errno));
			rh_site_put(s);
			return NULL;
		}
	}
	return s;
}

struct rh_site *rh_site_new(struct rh_config *cfg, char *err, size_t errlen)
{
	struct rh_site_core *core = core_new(cfg, err, errlen);

	return core ? site_on(core, err, errlen) : NULL;
}

struct rh_site *rh_site_reopen(struct rh_site *old, char *err, size_t errlen)
{
	atomic_fetch_add_explicit(&old->core->refs, 1, memory_order_relaxed);
	return site_on(old->core, err, errlen);
}

struct rh_site *rh_site_get(struct rh_site *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void rh_site_put(struct rh_site *s)
{
	if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (s->access_fd >= 0)
		close(s->access_fd);
	core_put(s->core);
	free(s);
}
