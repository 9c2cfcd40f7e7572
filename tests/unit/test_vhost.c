#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vhost.h"

#define SEL(v, h) rh_vhost_select((v), (h), strlen(h))

/* Many sites, through the hash: each `*.wN.example.org` and `wN.example.org`
 * found, exact before wildcard, the longest wildcard first at any depth. */
static void test_many(void)
{
	enum { N = 20000 };
	struct rh_site_conf *sites = calloc(N + 3, sizeof *sites);
	char **names = calloc(2 * N + 4, sizeof *names);
	struct rh_vhost *v;
	struct rh_vhost_dup dup;
	char host[128];

	for (size_t i = 1; i <= N; i++) {
		char **n = &names[2 * i];
		if (asprintf(&n[0], "*.w%zu.example.org", i) < 0 ||
		    asprintf(&n[1], "w%zu.example.org", i) < 0)
			return;
		sites[i] = (struct rh_site_conf){ .server_name = n, .n_server_name = 2 };
	}
	/* a shorter wildcard above them all, and a deeper one below w7 */
	names[2 * N + 2] = "*.example.org";
	names[2 * N + 3] = "*.deep.w7.example.org";
	sites[N + 1] = (struct rh_site_conf){ .server_name = &names[2 * N + 2], .n_server_name = 1 };
	sites[N + 2] = (struct rh_site_conf){ .server_name = &names[2 * N + 3], .n_server_name = 1 };
	v = rh_vhost_new(sites, N + 3, &dup);
	CHECK(v != NULL);
	if (!v)
		return;
	for (size_t i = 1; i <= N; i += 997) {
		snprintf(host, sizeof host, "w%zu.example.org", i);
		CHECK_INT(SEL(v, host), i);
		snprintf(host, sizeof host, "www.w%zu.example.org", i);
		CHECK_INT(SEL(v, host), i);
		snprintf(host, sizeof host, "a.b.c.W%zu.Example.ORG.:8080", i);
		CHECK_INT(SEL(v, host), i);
	}
	CHECK_INT(SEL(v, "x.deep.w7.example.org"), N + 2);
	CHECK_INT(SEL(v, "a.b.deep.w7.example.org"), N + 2);
	CHECK_INT(SEL(v, "deep.w7.example.org"), 7);
	CHECK_INT(SEL(v, "w0.example.org"), N + 1);
	CHECK_INT(SEL(v, "unknown.example.org"), N + 1);
	CHECK_INT(SEL(v, "example.org"), 0);
	CHECK_INT(SEL(v, "unknown.test"), 0);
	CHECK_INT(SEL(v, "a..w9.example.org"), 9);
	CHECK_INT(SEL(v, "..w9.example.org"), 9);
	CHECK_INT(SEL(v, ".w9.example.org"), N + 1);
	rh_vhost_free(v);

	/* a name twice, as a wildcard: the second place and the first site */
	names[2 * N + 3] = "*.w5.example.org";
	CHECK(rh_vhost_new(sites, N + 3, &dup) == NULL);
	CHECK_INT(dup.site, N + 2);
	CHECK_INT(dup.name, 0);
	CHECK_INT(dup.first, 5);
	/* an exact name and a wildcard of the same suffix are not the same */
	names[2 * N + 3] = "example.org";
	v = rh_vhost_new(sites, N + 3, &dup);
	CHECK(v != NULL);
	CHECK_INT(SEL(v, "example.org"), N + 2);
	rh_vhost_free(v);
	for (size_t i = 2; i < 2 * N + 2; i++)
		free(names[i]);
	free(names);
	free(sites);
}

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
	test_many();
	return check_done("test_vhost");
}
