#include "site.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "site_conf.h"

struct rh_site *rh_site_new(struct rh_config *cfg, char *err, size_t errlen)
{
	struct rh_site *s = calloc(1, sizeof *s);

	if (!s) {
		snprintf(err, errlen, "out of memory");
		rh_config_free(cfg);
		return NULL;
	}
	atomic_init(&s->refs, 1);
	s->cfg = cfg;
	s->access_fd = -1;
	s->root_fds = malloc(cfg->sites->n_site * sizeof *s->root_fds);
	if (!s->root_fds) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < cfg->sites->n_site; i++)
		s->root_fds[i] = -1;
	for (size_t i = 0; i < cfg->sites->n_site; i++) {
		const char *root = cfg->sites->site[i].document_root;
		s->root_fds[i] = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (s->root_fds[i] < 0) {
			snprintf(err, errlen, "document_root %s: %s", root, strerror(errno));
			goto fail;
		}
	}
	s->mime = rh_mime_new(RH_MIME_TYPES_FILE, cfg->types, cfg->n_types);
	if (!s->mime) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->access_journal = !strcmp(cfg->access_log, "journal");
	if (cfg->access_log[0] == '/') {
		s->access_fd = open(cfg->access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (s->access_fd < 0) {
			snprintf(err, errlen, "access_log %s: %s", cfg->access_log, strerror(errno));
			goto fail;
		}
	}
	return s;
fail:
	rh_site_put(s);
	return NULL;
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
	for (size_t i = 0; s->root_fds && i < s->cfg->sites->n_site; i++)
		if (s->root_fds[i] >= 0)
			close(s->root_fds[i]);
	free(s->root_fds);
	if (s->access_fd >= 0)
		close(s->access_fd);
	rh_mime_free(s->mime);
	rh_config_free(s->cfg);
	free(s);
}
