#include "handler.h"

#include <string.h>

#include "file.h"
#include "http_cond.h"
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

static void plan_file(const struct rh_request *req, struct rh_file *f, struct rh_plan *plan)
{
	struct rh_resp *resp = &plan->resp;
	bool head_only = req->method == RH_METHOD_HEAD;
	struct rh_str etag = { f->etag, f->etag_len };
	uint64_t first, last;

	resp->status = 200;
	resp->etag = etag;
	resp->last_modified = f->last_modified;
	resp->content_type = f->mime;
	if (rh_not_modified(req, etag, f->mtime)) {
		resp->status = 304;
		resp->content_type = NULL;
		plan_body(plan, f, 0, f->size, true);
		return;
	}
	/* GET only: RFC 9110 14.2 defines ranges for no other method */
	if (req->range.p && req->method == RH_METHOD_GET && rh_if_range_holds(req, etag, f->mtime)) {
		switch (rh_range_parse(req->range, f->size, &first, &last)) {
		case RH_RANGE_PARTIAL:
			resp->status = 206;
			resp->ranged = true;
			resp->first = first;
			resp->last = last;
			resp->size = f->size;
			plan_body(plan, f, first, last - first + 1, false);
			return;
		case RH_RANGE_UNSATISFIABLE:
			rh_file_put(f);
			resp->etag = (struct rh_str){ 0 };
			resp->last_modified = NULL;
			resp->size = f->size;
			plan_error(plan, 416);
			return;
		case RH_RANGE_WHOLE:
			break;
		}
	}
	plan_body(plan, f, 0, f->size, head_only);
}

void rh_handle(const struct rh_handler_env *env, const struct rh_request *req, int parse_status,
	       bool keep_alive, struct rh_plan *plan)
{
	char path[RH_MAX_REQUEST_LINE + 1];
	struct rh_file *f;
	ssize_t plen;
	int status;

	memset(plan, 0, sizeof *plan);
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
	plen = rh_path_decode(req->path.p, req->path.len, path, sizeof path);
	if (plen <= 0 || path[0] != '/') {
		plan->close = true;
		plan->resp.keep_alive = false;
		plan_error(plan, 400);
		return;
	}
	status = rh_file_get(env->files, env->site, path, plen, env->now, &f);
	switch (status) {
	case 200:
		plan_file(req, f, plan);
		return;
	case 301:
		plan->resp.status = 301;
		plan->resp.location = req->path;
		plan->resp.location_query = req->query;
		plan->resp.location_has_query = req->has_query;
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
