#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "peer_limit.h"

static struct rh_peer v6(const char *hex16)
{
	struct rh_peer p = { .family = AF_INET6 };

	for (int i = 0; i < 16; i++) {
		unsigned b;
		sscanf(hex16 + 2 * i, "%2x", &b);
		p.addr[i] = b;
	}
	return p;
}

/* PER_IP 2: the third take from one counted network is refused. */
static void check_grouped(unsigned prefix, const char *a, const char *b, bool same)
{
	struct rh_peer_limit l;
	struct rh_peer pa = v6(a), pb = v6(b);

	CHECK_INT(rh_peer_limit_init(&l, 64, 2, prefix), 0);
	CHECK(rh_peer_limit_take(&l, &pa));
	CHECK(rh_peer_limit_take(&l, &pa));
	CHECK(rh_peer_limit_take(&l, &pb) == !same);
	if (!same)
		rh_peer_limit_put(&l, &pb);
	/* what was counted is given back: the network has room again */
	rh_peer_limit_put(&l, &pa);
	CHECK(rh_peer_limit_take(&l, &pb));
	rh_peer_limit_put(&l, &pb);
	rh_peer_limit_put(&l, &pa);
	rh_peer_limit_destroy(&l);
}

int main(void)
{
	struct rh_peer_limit l;
	struct rh_peer a = { .family = AF_INET, .addr = { 192, 0, 2, 1 } };
	struct rh_peer b = { .family = AF_INET, .addr = { 192, 0, 2, 2 } };

	check_grouped(64, "20010db8000000010000000000000001", "20010db800000001ffffffffffffffff", true);
	check_grouped(64, "20010db8000000010000000000000001", "20010db8000000020000000000000001", false);
	check_grouped(56, "20010db8000001000000000000000001", "20010db8000001ff0000000000000001", true);
	check_grouped(56, "20010db8000001000000000000000001", "20010db8000002000000000000000001", false);
	check_grouped(57, "20010db8000001000000000000000001", "20010db800000180ffffffffffffffff", false);
	check_grouped(57, "20010db8000001000000000000000001", "20010db80000017fffffffffffffffff", true);
	check_grouped(128, "20010db8000000010000000000000001", "20010db8000000010000000000000002", false);
	check_grouped(1, "00000000000000000000000000000001", "7fffffffffffffffffffffffffffffff", true);
	check_grouped(1, "00000000000000000000000000000001", "80000000000000000000000000000000", false);

	/* IPv4: each address alone, whatever the IPv6 prefix */
	CHECK_INT(rh_peer_limit_init(&l, 16, 1, 1), 0);
	CHECK(rh_peer_limit_take(&l, &a));
	CHECK(!rh_peer_limit_take(&l, &a));
	CHECK(rh_peer_limit_take(&l, &b));
	rh_peer_limit_put(&l, &a);
	CHECK(rh_peer_limit_take(&l, &a));
	rh_peer_limit_destroy(&l);

	/* no limit: nothing is counted */
	CHECK_INT(rh_peer_limit_init(&l, 16, 0, 64), 0);
	for (int i = 0; i < 100; i++)
		CHECK(rh_peer_limit_take(&l, &a));
	rh_peer_limit_destroy(&l);
	return check_done("test_peer_limit");
}
