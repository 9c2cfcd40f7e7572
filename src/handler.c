#include "handler.h"

#include <stdio.h>
#include <string.h>

#include "file.h"
#include "path.h"
#include "site.h"

static void plan_error(struct rh_plan *plan, int status)
{
	plan->resp.status = status;
	plan->error = true;
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

/* 206 multipart/byteranges: the parts, each with the file's type. */
static void plan_multipart(const struct rh_handler_env *env, struct rh_file *f,
			   struct rh_plan *plan)
{
	struct rh_str boundary, type = { f->mime, strlen(f->mime) };

	boundary.len = rh_multipart_boundary(env->random, plan->boundary);
	boundary.p = plan->boundary;
	snprintf(plan->content_type, sizeof plan->content_type, "multipart/byteranges; boundary=%s",
		 plan->boundary);
	plan->resp.status = 206;
	plan->resp.content_type = plan->content_type;
	plan->file = f;
	plan->resp.content_length = rh_multipart_length(&plan->parts, boundary, type, f->size);
	plan->body_len = plan->resp.content_length;
}

static void plan_file(const struct rh_handler_env *env, const struct rh_request *req,
		      struct rh_file *f, unsigned max_ranges, struct rh_plan *plan)
{
	struct rh_resp *resp = &plan->resp;
	bool head_only = req->method == RH_METHOD_HEAD;
	struct rh_str etag = { f->etag, f->etag_len };

	resp->status = 200;
	resp->etag = etag;
	resp->last_modified = f->last_modified;
	resp->content_type = f->mime;
	switch (rh_preconditions(req, etag, f->mtime, env->wall)) {
	case RH_PRECOND_NOT_MODIFIED:
		resp->status = 304;
		resp->content_type = NULL;
		plan_body(plan, f, 0, f->size, true);
		return;
	case RH_PRECOND_FAILED:
		rh_file_put(f);
		resp->etag = (struct rh_str){ 0 };
		resp->last_modified = NULL;
		plan_error(plan, 412);
		return;
	case RH_PRECOND_PROCEED:
		break;
	}
	/* GET only: RFC 9110 14.2 defines ranges for no other method */
	if (req->range.p && req->method == RH_METHOD_GET && rh_if_range_holds(req, etag, f->mtime)) {
		switch (rh_ranges_parse(req->range, f->size, max_ranges, &plan->parts)) {
		case RH_RANGE_PARTIAL:
			if (plan->parts.n > 1) {
				plan_multipart(env, f, plan);
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
	plan_body(plan, f, 0, f->size, head_only);
}

/* 301 to the directory's path with a '/': percent-encoded from the
 * normalized path, so it never begins with "//", and with the query. */
static void plan_redirect(const struct rh_request *req, const char *path, size_t len,
			  struct rh_plan *plan)
{
	size_t n = rh_path_encode(path, len, plan->location, sizeof plan->location);

	plan->resp.status = 301;
	plan->resp.location = (struct rh_str){ plan->location, n };
	plan->resp.location_query = req->query;
	plan->resp.location_has_query = req->has_query;
}

void rh_handle(const struct rh_handler_env *env, const struct rh_request *req, int parse_status,
	       bool keep_alive, unsigned max_ranges, struct rh_plan *plan)
{
	char path[RH_MAX_REQUEST_LINE + 1];
	struct rh_file *f;
	ssize_t plen;
	int status;

	memset(&plan->resp, 0, sizeof plan->resp);
	plan->error = plan->close = false;
	plan->file = NULL;
	plan->body_off = plan->body_len = 0;
	plan->parts.n = 0;
	plan->problem = NULL;
	plan->resp.date = env->date;
	plan->resp.keep_alive = keep_alive;
	if (parse_status) {
		plan->close = true;
		plan->resp.keep_alive = false;
		plan_error(plan, parse_status);
		return;
	}
	plan->resp.head_only = req->method == RH_METHOD_HEAD;
	if (req->method == RH_METHOD_OTHER) {
		plan_error(plan, 405);
		return;
	}
	if (req->method == RH_METHOD_OPTIONS) {
		plan->resp.status = 204;
		plan->resp.allow = true;
		return;
	}
	/* the normalized path is the one used everywhere: look-up, cache key,
	 * log and Location */
	plen = rh_path_normalize(req->path.p, req->path.len, path, sizeof path);
	if (plen < 0) {
		plan->close = true;
		plan->resp.keep_alive = false;
		plan_error(plan, -plen);
		return;
	}
	status = rh_file_get(env->files, env->site, 0, path, plen, env->now, &f);
	switch (status) {
	case 200:
		plan_file(env, req, f, max_ranges, plan);
		return;
	case 301:
		plan_redirect(req, path, plen, plan);
		return;
	case 503:
		plan->problem = "out of file descriptors";
		break;
	case 500:
		plan->problem = "cannot open";
		break;
	}
	plan_error(plan, status);
}
