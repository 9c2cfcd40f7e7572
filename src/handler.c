#include "handler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "listing_cache.h"
#include "metrics.h"
#include "negotiate.h"
#include "path.h"
#include "site.h"

/* What the handler works on for one request. */
struct job {
	const struct rh_handler_env *env;
	const struct rh_request *req;
	const struct rh_site_conf *sc;
	unsigned idx; /* of sc in the configuration's sites */
	const char *path; /* normalized */
	size_t len;
	unsigned max_ranges;
	struct rh_plan *plan;
};

static void plan_error(struct rh_plan *plan, int status)
{
	plan->resp.status = status;
	plan->error = true;
}

/* The media type with the site's charset, kept in the plan. */
static const char *content_type(const struct job *j, const char *type)
{
	size_t n = rh_content_type(j->plan->content_type, sizeof j->plan->content_type, type,
				   j->sc->charset);

	return n < sizeof j->plan->content_type ? j->plan->content_type : type;
}

/* The representation's bytes [FIRST, FIRST + LEN) as the body. */
static void plan_body(struct rh_plan *plan, struct rh_file *f, uint64_t first, uint64_t len,
		      bool head_only)
{
	plan->file = f;
	plan->body_off = first;
	plan->body_len = head_only ? 0 : len;
	plan->resp.content_length = len;
}

/* 206 multipart/byteranges: the parts, each with the file's type TYPE. */
static void plan_multipart(const struct job *j, struct rh_file *f, const char *type)
{
	struct rh_plan *plan = j->plan;
	struct rh_str boundary, part_type;

	/* TYPE may be plan->content_type, which the multipart type replaces */
	snprintf(plan->part_type, sizeof plan->part_type, "%s", type);
	part_type = (struct rh_str){ plan->part_type, strlen(plan->part_type) };
	boundary.len = rh_multipart_boundary(j->env->random, plan->boundary);
	boundary.p = plan->boundary;
	snprintf(plan->content_type, sizeof plan->content_type, "multipart/byteranges; boundary=%s",
		 plan->boundary);
	plan->resp.status = 206;
	plan->resp.content_type = plan->content_type;
	plan->file = f;
	plan->resp.content_length = rh_multipart_length(&plan->parts, boundary, part_type, f->size);
	plan->body_len = plan->resp.content_length;
}

/* Preconditions, then Range, for the representation with validators
 * ETAG and MTIME: false when they decided the answer (304, 412). */
static bool preconditions_pass(const struct job *j, struct rh_str etag, time_t mtime)
{
	struct rh_plan *plan = j->plan;

	switch (rh_preconditions(j->req, etag, mtime, j->env->wall)) {
	case RH_PRECOND_NOT_MODIFIED:
		plan->resp.status = 304;
		plan->resp.content_type = NULL;
		return false;
	case RH_PRECOND_FAILED:
		plan->resp.etag = (struct rh_str){ 0 };
		plan->resp.accept_ranges = false;
		plan->resp.last_modified = NULL;
		plan_error(plan, 412);
		return false;
	default:
		return true;
	}
}

/* F (the file, or the sidecar chosen for it) with the type TYPE. */
static void plan_file(const struct job *j, struct rh_file *f, const char *type)
{
	struct rh_plan *plan = j->plan;
	struct rh_resp *resp = &plan->resp;
	const struct rh_request *req = j->req;
	struct rh_str etag = { f->etag, f->etag_len };

	resp->status = 200;
	resp->etag = etag;
	/* never later than the response's Date (RFC 9110 8.8.2.1) */
	resp->last_modified = f->mtime > j->env->wall ? j->env->date : f->last_modified;
	resp->accept_ranges = true;
	resp->content_type = type;
	if (!preconditions_pass(j, etag, f->mtime)) {
		if (resp->status == 304)
			plan_body(plan, f, 0, f->size, true);
		else
			rh_file_put(f);
		return;
	}
	/* GET only: RFC 9110 14.2 defines ranges for no other method */
	if (req->range.p && req->method == RH_METHOD_GET && rh_if_range_holds(req, etag, f->mtime)) {
		switch (rh_ranges_parse(req->range, f->size, j->max_ranges, &plan->parts)) {
		case RH_RANGE_PARTIAL:
			if (plan->parts.n > 1) {
				plan_multipart(j, f, type);
				return;
			}
			resp->status = 206;
			resp->ranged = true;
			resp->first = plan->parts.r[0].first;
			resp->last = plan->parts.r[0].last;
			resp->size = f->size;
			plan->parts.n = 0;
			plan_body(plan, f, resp->first, resp->last - resp->first + 1, false);
			return;
		case RH_RANGE_UNSATISFIABLE:
			rh_file_put(f);
			resp->etag = (struct rh_str){ 0 };
			resp->accept_ranges = false;
			resp->last_modified = NULL;
			resp->size = f->size;
			plan->parts.n = 0;
			plan_error(plan, 416);
			return;
		case RH_RANGE_WHOLE:
			plan->parts.n = 0;
			break;
		}
	}
	plan_body(plan, f, 0, f->size, req->method == RH_METHOD_HEAD);
}

/* The sidecar of F with SUFFIX, in site j->idx: beside the file actually
 * served (an index file, the fallback), whatever the request's path. */
static enum rh_lookup get_sidecar(const struct job *j, const struct rh_file *f,
				  const char *suffix, struct rh_file **out)
{
	char path[RH_MAX_REQUEST_LINE + 256];
	size_t n = strlen(suffix);

	if (f->served_len + n >= sizeof path)
		return RH_LOOKUP_MISSING;
	memcpy(path, f->served, f->served_len);
	memcpy(path + f->served_len, suffix, n + 1);
	return rh_file_get(j->env->files, j->env->site, j->idx, path, f->served_len + n,
			   j->env->now, j->env->may_block, out);
}

static bool fresh_sidecar(const struct rh_file *file, const struct rh_file *sidecar)
{
	return sidecar->mtime > file->mtime ||
	       (sidecar->mtime == file->mtime && sidecar->mtime_nsec >= file->mtime_nsec);
}

/* Which of the site's precompressed sidecars lie beside F and are not
 * older than it: looked at once a second, with the file's own check. */
static void check_sidecars(const struct job *j, struct rh_file *f)
{
	unsigned found = 0;

	if (f->sidecars_checked == j->env->now)
		return;
	for (size_t i = 0; i < j->sc->n_precompressed; i++) {
		enum rh_coding c = j->sc->precompressed[i];
		struct rh_file *side;
		enum rh_lookup side_found = get_sidecar(j, f, rh_coding_suffix(c), &side);

		if (side_found == RH_LOOKUP_COLD) {
			j->plan->cold = true;
			return;
		}
		if (side_found != RH_LOOKUP_FILE)
			continue;
		if (fresh_sidecar(f, side))
			found |= RH_CODING_BIT(c);
		rh_file_put(side);
	}
	f->sidecars = found;
	f->sidecars_checked = j->env->now;
}

/* F, or the precompressed sidecar the client prefers, under F's type. */
static void plan_representation(const struct job *j, struct rh_file *f)
{
	const char *type = content_type(j, f->mime);
	struct rh_file *side;
	enum rh_coding c;

	if (j->sc->n_precompressed) {
		check_sidecars(j, f);
		if (j->plan->cold) {
			rh_file_put(f);
			return;
		}
		if (f->sidecars) {
			/* every answer for this file depends on Accept-Encoding */
			j->plan->resp.vary = "Accept-Encoding";
			c = rh_negotiate_encoding(j->req->accept_encoding.p, j->req->accept_encoding.len,
						  j->sc->precompressed, j->sc->n_precompressed,
						  f->sidecars);
			if (c != RH_CODING_IDENTITY &&
			    get_sidecar(j, f, rh_coding_suffix(c), &side) == RH_LOOKUP_FILE) {
				j->plan->resp.content_encoding = rh_coding_name(c);
				rh_file_put(f);
				f = side;
			}
		}
	}
	plan_file(j, f, type);
}

static int status_of_listing_error(int err)
{
	switch (err) {
	case -EACCES:
	case -EPERM:
		return 403;
	case -ENOENT:
	case -ENOTDIR:
		return 404;
	case -EMFILE:
	case -ENFILE:
		return 503;
	default:
		return 500;
	}
}

/* A directory without an index, listed: HTML, or JSON when the client
 * prefers it. The page is built away from the ring (listing_cache.h) and
 * shared; until it is, nothing is planned and the request waits for it. */
static void plan_listing(const struct job *j)
{
	const struct rh_handler_env *env = j->env;
	struct rh_plan *plan = j->plan;
	struct rh_listing_want want = {
		.path = j->path, .path_len = j->len,
		.format = rh_accept_prefers_json(j->req->accept.p, j->req->accept.len)
				  ? RH_LISTING_JSON : RH_LISTING_HTML,
		.hide_dotfiles = j->sc->dotfiles == RH_DOTFILES_DENY,
		.max_entries = env->site->cfg->listing_max_entries,
	};
	struct rh_listing_page *page;
	struct stat st;
	struct rh_str etag;

	want.dir_fd = rh_file_open_dir(env->files, env->site, j->idx, j->path, env->may_block,
				       &want.root_fd, &st);
	if (want.dir_fd == -EAGAIN) {
		plan->cold = true;
		return;
	}
	if (want.dir_fd < 0) {
		plan_error(plan, 404);
		return;
	}
	want.dir_st = &st;
	page = rh_listings_get(env->listings, &want, env->listing_since, env->wake, env->wake_ctx,
			       env->token);
	close(want.dir_fd);
	close(want.root_fd);
	if (!page) {
		plan->listing_wait = true;
		return;
	}
	if (page->error) {
		plan->problem = page->error == -ENOENT ? NULL : "cannot list the directory";
		plan_error(plan, status_of_listing_error(page->error));
		rh_listing_page_put(page);
		return;
	}
	etag = (struct rh_str){ page->etag, page->etag_len };
	plan->resp.status = 200;
	plan->resp.vary = "Accept";
	plan->resp.etag = etag;
	plan->resp.last_modified = page->mtime > env->wall ? env->date : page->last_modified;
	plan->resp.content_type = want.format == RH_LISTING_JSON ? RH_LISTING_JSON_TYPE
								 : RH_LISTING_HTML_TYPE;
	plan->page = page;
	if (!preconditions_pass(j, etag, page->mtime))
		return;
	plan->resp.content_length = page->len;
	plan->body_len = j->req->method == RH_METHOD_HEAD ? 0 : page->len;
}

/* 301 to the directory's path with a '/': percent-encoded from the
 * normalized path, so it never begins with "//", and with the query. */
static void plan_slash_redirect(const struct job *j)
{
	struct rh_plan *plan = j->plan;
	size_t n = rh_path_encode(j->path, j->len, plan->location, sizeof plan->location);

	plan->resp.status = 301;
	plan->resp.location = (struct rh_str){ plan->location, n };
	plan->resp.location_slash = true;
	plan->resp.location_query = j->req->query;
	plan->resp.location_has_query = j->req->has_query;
}

/* One of the site's `redirects`, matched on the decoded, normalized path:
 * for a prefix, the rest of that path after `from` is cut there and only
 * then percent-encoded, so that an escape is never split. */
static void plan_site_redirect(const struct job *j, const struct rh_redirect *rd)
{
	struct rh_plan *plan = j->plan;
	char rest[3 * RH_MAX_REQUEST_LINE + 1];
	size_t n = rd->prefix ? rh_path_encode(j->path + rd->from_len, j->len - rd->from_len, rest,
					       sizeof rest)
			      : 0;
	const struct rh_str *q = &j->req->query;

	n = rh_redirect_location(rd, rest, n, q->p, q->len, j->req->has_query, plan->location,
				 sizeof plan->location);
	if (n >= sizeof plan->location) {
		plan_error(plan, 414);
		return;
	}
	plan->resp.status = rd->status;
	plan->resp.location = (struct rh_str){ plan->location, n };
}

/* https_redirect: the same URL with https (RFC 9110 15.4.2 and 15.4.9:
 * 308 keeps the method, so 301 is for GET and HEAD alone). */
static void plan_https_redirect(const struct job *j)
{
	const struct rh_request *req = j->req;
	struct rh_plan *plan = j->plan;
	size_t cap = sizeof plan->location, n;
	char port[12] = "";

	if (j->env->https_port && j->env->https_port != 443)
		snprintf(port, sizeof port, ":%u", j->env->https_port);
	n = snprintf(plan->location, cap, "https://%.*s%s", (int)req->host.len, req->host.p, port);
	if (n < cap)
		n += rh_path_encode(j->path, j->len, plan->location + n, cap - n);
	if (n < cap && req->has_query)
		n += snprintf(plan->location + n, cap - n, "?%.*s", (int)req->query.len, req->query.p);
	if (n >= cap) {
		plan_error(plan, 414);
		return;
	}
	plan->resp.status =
		req->method == RH_METHOD_GET || req->method == RH_METHOD_HEAD ? 301 : 308;
	plan->resp.location = (struct rh_str){ plan->location, n };
}

/* Whether a plain request goes to https: not for the ACME http-01
 * challenge, which must be answered where it is asked (RFC 8555 8.3). */
static bool goes_to_https(const struct job *j)
{
	static const char acme[] = "/.well-known/acme-challenge/";

	return !j->env->tls && j->sc->https_redirect && j->req->host.len &&
	       strncmp(j->path, acme, sizeof acme - 1);
}

/* The status endpoint: Prometheus text for the allowed peers, 404 for the
 * others. */
static void plan_metrics(const struct job *j)
{
	const struct rh_sites_conf *sites = j->env->site->cfg->sites;
	struct rh_plan *plan = j->plan;
	size_t len;

	if (!rh_status_allowed(sites->status_allow, sites->n_status_allow, j->env->peer)) {
		plan_error(plan, 404);
		return;
	}
	plan->owned = j->env->metrics(j->env->ctx, &len);
	if (!plan->owned) {
		plan->problem = "out of memory";
		plan_error(plan, 503);
		return;
	}
	plan->resp.status = 200;
	plan->resp.content_type = RH_METRICS_CONTENT_TYPE;
	plan->resp.content_length = len;
	plan->body_len = j->req->method == RH_METHOD_HEAD ? 0 : len;
}

/* An error answered with the site's page for it: the page's bytes with
 * the original status. Without one (or when it cannot be opened, which
 * the start-up check reported), the built-in body stays. */
static void plan_error_page(const struct job *j)
{
	struct rh_plan *plan = j->plan;
	const char *page = rh_site_error_page(j->sc, plan->resp.status);
	struct rh_file *f;
	bool head_only = j->req && j->req->method == RH_METHOD_HEAD;

	if (!page)
		return;
	switch (rh_file_get(j->env->files, j->env->site, j->idx, page, strlen(page), j->env->now,
			    j->env->may_block, &f)) {
	case RH_LOOKUP_FILE:
		break;
	case RH_LOOKUP_COLD:
		plan->cold = true;
		return;
	default:
		return;
	}
	plan->error = false;
	plan->resp.content_type = content_type(j, f->mime);
	plan->resp.allow = plan->resp.status == 405;
	plan->resp.unsatisfiable = plan->resp.status == 416;
	plan_body(plan, f, 0, f->size, head_only);
}

/* The site's header rules that apply: all of them to a success (so an
 * OPTIONS preflight on a path with CORS rules gets its 204 with them),
 * only the `always` ones to anything else. */
static void apply_headers(const struct job *j)
{
	struct rh_plan *plan = j->plan;
	int status = plan->resp.status;
	bool success = status == 200 || status == 204 || status == 206 || status == 304;
	bool cors = false;

	plan->resp.n_extra = rh_rules_headers(j->sc->headers, j->sc->n_headers, j->path, j->len,
					      success ? 0 : RH_RULES_ERROR, plan->extra,
					      RH_SITE_HEADER_LINES_MAX, &cors);
	plan->resp.extra = plan->extra;
}

/* The file system's answer for the path, and what the site makes of it. */
static void plan_path(const struct job *j)
{
	const struct rh_request *req = j->req;
	const struct rh_site_conf *sc = j->sc;
	struct rh_plan *plan = j->plan;
	bool get = req->method == RH_METHOD_GET || req->method == RH_METHOD_HEAD;
	struct rh_file *f;
	enum rh_lookup found = rh_file_get(j->env->files, j->env->site, j->idx, j->path, j->len,
					   j->env->now, j->env->may_block, &f);
	int status;

	if (found == RH_LOOKUP_MISSING && get && sc->fallback[0] &&
	    rh_rules_fallback_applies(j->path, j->len))
		found = rh_file_get(j->env->files, j->env->site, j->idx, sc->fallback,
				    strlen(sc->fallback), j->env->now, j->env->may_block, &f);
	switch (found) {
	case RH_LOOKUP_FILE:
		plan_representation(j, f);
		return;
	case RH_LOOKUP_DIRECTORY:
		plan_slash_redirect(j);
		return;
	case RH_LOOKUP_NO_INDEX:
		if (sc->directory_listing) {
			plan_listing(j);
			return;
		}
		status = 403;
		break;
	case RH_LOOKUP_COLD:
		plan->cold = true;
		return;
	case RH_LOOKUP_MISSING:
		status = 404;
		break;
	case RH_LOOKUP_FORBIDDEN:
		status = 403;
		break;
	case RH_LOOKUP_NO_FDS:
		plan->problem = "out of file descriptors";
		status = 503;
		break;
	default:
		plan->problem = "cannot open";
		status = 500;
		break;
	}
	plan_error(plan, status);
}

static void plan_request(struct job *j, char *path)
{
	const struct rh_request *req = j->req;
	const struct rh_sites_conf *sites = j->env->site->cfg->sites;
	struct rh_plan *plan = j->plan;
	const struct rh_redirect *rd;
	ssize_t plen;

	if (req->method == RH_METHOD_OPTIONS && req->path.len == 1 && req->path.p[0] == '*') {
		plan->resp.status = 204;
		plan->resp.allow = true;
		return;
	}
	/* the normalized path is the one used everywhere: look-up, cache key,
	 * rules, log and Location; a target that does not normalize is 400
	 * whatever the method */
	plen = rh_path_normalize(req->path.p, req->path.len, path, RH_MAX_REQUEST_LINE + 1);
	if (plen < 0) {
		plan->close = true;
		plan->resp.keep_alive = false;
		plan_error(plan, -plen);
		return;
	}
	j->path = plan->path = path;
	j->len = plan->path_len = plen;
	if (goes_to_https(j)) {
		plan_https_redirect(j);
		return;
	}
	if (req->method == RH_METHOD_OTHER) {
		plan_error(plan, 405);
		return;
	}
	if (req->method == RH_METHOD_OPTIONS) { /* a preflight, or a question about methods */
		plan->resp.status = 204;
		plan->resp.allow = true;
		return;
	}
	if (sites->status_path[0] && !strcmp(path, sites->status_path)) {
		plan_metrics(j);
		return;
	}
	rd = rh_redirect_find(j->sc->redirects, j->sc->n_redirects, path, plen);
	if (rd) {
		plan_site_redirect(j, rd);
		return;
	}
	if (j->sc->dotfiles == RH_DOTFILES_DENY && rh_rules_dotfile(path, plen)) {
		plan_error(plan, 404);
		return;
	}
	plan_path(j);
}

/* Over TLS, a Host whose site shows another certificate than the one SNI
 * chose: the client may not have checked that certificate for this host
 * (RFC 9110 15.5.20). */
static bool misdirected(const struct rh_handler_env *env, const struct rh_site_conf *sc)
{
	const struct rh_sites_conf *sites = env->site->cfg->sites;
	const struct rh_site_conf *by_sni;

	if (!env->tls || !env->server_name)
		return false;
	by_sni = rh_sites_select(sites, env->server_name, strlen(env->server_name));
	return by_sni != sc && by_sni->tls_id != sc->tls_id;
}

void rh_handle(const struct rh_handler_env *env, const struct rh_request *req, int parse_status,
	       bool keep_alive, unsigned max_ranges, struct rh_plan *plan)
{
	const struct rh_sites_conf *sites = env->site->cfg->sites;
	char *path = plan->normalized;
	struct job j = { env, req, &sites->site[0], 0, "/", 1, max_ranges, plan };

	memset(&plan->resp, 0, sizeof plan->resp);
	plan->error = plan->close = plan->cold = plan->listing_wait = false;
	plan->file = NULL;
	plan->page = NULL;
	plan->owned = NULL;
	plan->body_off = plan->body_len = 0;
	plan->parts.n = 0;
	plan->problem = NULL;
	plan->sc = NULL;
	plan->path = NULL;
	plan->path_len = 0;
	plan->resp.date = env->date;
	plan->resp.keep_alive = keep_alive;
	/* over TLS every answer carries the site's HSTS (RFC 6797 8.1) */
	if (env->tls && sites->site[0].hsts[0])
		plan->resp.hsts = sites->site[0].hsts;
	if (parse_status) {
		plan->close = true;
		plan->resp.keep_alive = false;
		plan_error(plan, parse_status);
		return;
	}
	plan->resp.head_only = req->method == RH_METHOD_HEAD;
	j.sc = rh_sites_select(sites, req->host.p, req->host.len);
	j.idx = j.sc - sites->site;
	plan->sc = j.sc;
	plan->resp.hsts = env->tls && j.sc->hsts[0] ? j.sc->hsts : NULL;
	if (misdirected(env, j.sc)) {
		plan_error(plan, 421);
		return;
	}
	plan_request(&j, path);
	if (plan->cold || plan->listing_wait)
		return;
	if (plan->error)
		plan_error_page(&j);
	apply_headers(&j);
}
