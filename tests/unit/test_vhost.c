#include <string.h>

#include "check.h"
#include "vhost.h"

#define SEL(v, h) rh_vhost_select((v), (h), strlen(h))

int main(void)
{
	char *n0[] = { "default.test" };
	char *n1[] = { "example.org", "*.example.org" };
	char *n2[] = { "*.b.example.org", "static.example.org" };
	char *n3[] = { "*.org" };
	char *n4[] = { "localhost", "127.0.0.1" };
	struct rh_site_conf sites[6] = {
		{ .server_name = NULL, .n_server_name = 0 },
		{ .server_name = n1, .n_server_name = 2 },
		{ .server_name = n2, .n_server_name = 2 },
		{ .server_name = n3, .n_server_name = 1 },
		{ .server_name = n4, .n_server_name = 2 },
		{ .server_name = n0, .n_server_name = 1 },
	};
	struct rh_vhost *v = rh_vhost_new(sites, 6, NULL), *none;

	CHECK(v != NULL);
	CHECK_INT(SEL(v, "example.org"), 1);
	CHECK_INT(SEL(v, "EXAMPLE.Org"), 1);
	CHECK_INT(SEL(v, "example.org:8080"), 1);
	CHECK_INT(SEL(v, "example.org."), 1);
	CHECK_INT(SEL(v, "example.org.:80"), 1);
	/* wildcards: any depth, longest suffix first, exact names before */
	CHECK_INT(SEL(v, "www.example.org"), 1);
	CHECK_INT(SEL(v, "a.c.b.example.org"), 2);
	CHECK_INT(SEL(v, "a.b.c.example.org"), 1);
	CHECK_INT(SEL(v, "x.b.example.org"), 2);
	CHECK_INT(SEL(v, "b.example.org"), 1);
	CHECK_INT(SEL(v, "static.example.org"), 2);
	CHECK_INT(SEL(v, "Static.Example.Org:443"), 2);
	CHECK_INT(SEL(v, "other.org"), 3);
	CHECK_INT(SEL(v, "org"), 0);
	CHECK_INT(SEL(v, ".org"), 0);
	CHECK_INT(SEL(v, "example.org.evil"), 0);
	CHECK_INT(SEL(v, "notexample.org"), 3);
	CHECK_INT(SEL(v, "localhost"), 4);
	CHECK_INT(SEL(v, "127.0.0.1:8080"), 4);
	CHECK_INT(SEL(v, "default.test"), 5);
	/* unknown, empty, absent, IP literals: the default site */
	CHECK_INT(SEL(v, "unknown.test"), 0);
	CHECK_INT(SEL(v, ""), 0);
	CHECK_INT(SEL(v, ":80"), 0);
	CHECK_INT(SEL(v, "."), 0);
	CHECK_INT(rh_vhost_select(v, NULL, 0), 0);
	CHECK_INT(SEL(v, "[::1]:8080"), 0);
	CHECK_INT(SEL(v, "[::1]"), 0);
	/* the length bounds the host, not a NUL */
	CHECK_INT(rh_vhost_select(v, "example.org.uk", 11), 1);
	rh_vhost_free(v);

	none = rh_vhost_new(sites, 1, NULL);
	CHECK(none != NULL);
	CHECK_INT(SEL(none, "example.org"), 0);
	rh_vhost_free(none);
	return check_done("test_vhost");
}
