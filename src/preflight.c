#include "preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "tls_context.h"
#include "uring_check.h"

#define MAX_GROUPS 256

/* The user the checks run as, for the messages. */
static const char *checked_as = "";

static int failed(char *err, size_t errlen, const struct rh_config *cfg, enum rh_config_key key,
		  const char *path, int e)
{
	char where[256];

	rh_config_where(cfg, key, where, sizeof where);
	snprintf(err, errlen, "%s: %s: %s%s%s%s", where, path, strerror(e),
		 checked_as[0] ? " (as user " : "", checked_as, checked_as[0] ? ")" : "");
	return -e;
}

int rh_check_document_root(const struct rh_config *cfg, char *err, size_t errlen)
{
	/* AT_EACCESS: the effective ids, which serve */
	if (faccessat(AT_FDCWD, cfg->document_root, R_OK | X_OK, AT_EACCESS) < 0)
		return failed(err, errlen, cfg, RH_KEY_DOCUMENT_ROOT, cfg->document_root, errno);
	return 0;
}

int rh_check_access_log(const struct rh_config *cfg, char *err, size_t errlen)
{
	const char *path = cfg->access_log;
	char *copy, *dir;
	int ret = 0;

	if (path[0] != '/')
		return 0; /* "off" or "journal" */
	if (faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) == 0) {
		if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) < 0)
			return failed(err, errlen, cfg, RH_KEY_ACCESS_LOG, path, errno);
		return 0;
	}
	if (errno != ENOENT)
		return failed(err, errlen, cfg, RH_KEY_ACCESS_LOG, path, errno);
	copy = strdup(path);
	if (!copy)
		return failed(err, errlen, cfg, RH_KEY_ACCESS_LOG, path, ENOMEM);
	dir = dirname(copy);
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0)
		ret = failed(err, errlen, cfg, RH_KEY_ACCESS_LOG, dir, errno);
	free(copy);
	return ret;
}

struct saved_ids {
	gid_t groups[MAX_GROUPS];
	int n_groups;
};

/* Takes on PW's effective ids and groups, as start-up switches for good. */
static int become(const struct passwd *pw, struct saved_ids *saved)
{
	saved->n_groups = getgroups(MAX_GROUPS, saved->groups);
	if (saved->n_groups < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setegid(pw->pw_gid) < 0 || seteuid(pw->pw_uid) < 0)
		return -errno;
	checked_as = pw->pw_name;
	return 0;
}

static int unbecome(const struct saved_ids *saved)
{
	checked_as = "";
	if (seteuid(0) < 0 || setegid(getgid()) < 0 ||
	    setgroups(saved->n_groups, saved->groups) < 0)
		return -errno;
	return 0;
}

static int checks(const struct rh_config *cfg, size_t fixed_bytes, char *err, size_t errlen)
{
	int ret = rh_check_document_root(cfg, err, errlen);

	if (ret == 0)
		ret = rh_check_access_log(cfg, err, errlen);
	if (ret == 0) {
		struct rh_tls_contexts *tls = rh_tls_contexts_new(cfg, true, err, errlen);

		if (!tls && err[0])
			ret = -EINVAL;
		rh_tls_contexts_free(tls);
	}
	if (ret == 0)
		ret = rh_uring_probe(cfg, fixed_bytes, err, errlen);
	return ret;
}

int rh_preflight(const struct rh_config *cfg, size_t fixed_bytes, char *err, size_t errlen)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct passwd *pw = NULL;
	struct saved_ids saved;
	char where[256];
	int ret;

	if (cfg->user[0]) {
		errno = 0;
		pw = getpwnam(cfg->user);
		if (!pw) {
			rh_config_where(cfg, RH_KEY_USER, where, sizeof where);
			snprintf(err, errlen, "%s: %s: %s", where, cfg->user,
				 errno ? strerror(errno) : "no such user");
			return errno ? -errno : -ENOENT;
		}
	}
	if (!pw || geteuid() != 0)
		return checks(cfg, fixed_bytes, err, errlen);
	/* as start-up does before it switches */
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	ret = become(pw, &saved);
	if (ret < 0) {
		rh_config_where(cfg, RH_KEY_USER, where, sizeof where);
		snprintf(err, errlen, "%s: %s: cannot switch: %s", where, cfg->user, strerror(-ret));
	} else {
		ret = checks(cfg, fixed_bytes, err, errlen);
	}
	if (unbecome(&saved) < 0 && ret == 0) {
		snprintf(err, errlen, "cannot return to root after the checks: %s", strerror(errno));
		ret = -errno;
	}
	return ret;
}
