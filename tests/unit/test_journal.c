/* The native journal protocol's encoding, the access record's bounds and
 * Common Log Format escaping. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "access_log.h"
#include "check.h"
#include "journal.h"
#include "log.h"

static void test_entry(void)
{
	static const char want[] = "MESSAGE=hello\n"
				   "EMPTY=\n"
				   "MULTI\n\x07\0\0\0\0\0\0\0two\nand\n"
				   "N=42\n";
	struct rh_journal_entry e;

	rh_journal_begin(&e);
	rh_journal_add(&e, "MESSAGE", "hello", 5);
	rh_journal_add(&e, "EMPTY", NULL, 0);
	rh_journal_add(&e, "MULTI", "two\nand", 7);
	rh_journal_addf(&e, "N", "%d", 42);
	CHECK(!e.overflow);
	CHECK_INT(e.len, sizeof want - 1);
	CHECK(memcmp(e.data, want, sizeof want - 1) == 0);
}

static void test_overflow(void)
{
	static char big[RH_JOURNAL_MAX];
	struct rh_journal_entry e;

	memset(big, 'x', sizeof big);
	rh_journal_begin(&e);
	rh_journal_add(&e, "BIG", big, sizeof big);
	CHECK(e.overflow);
	/* an oversized entry is dropped and counted, never sent in part */
	uint64_t before = rh_journal_dropped(NULL);
	int err = 0;
	CHECK(rh_journal_send(&e) < 0);
	CHECK_INT(rh_journal_dropped(&err), before + 1);
	CHECK_INT(err, EMSGSIZE);
}

static void test_escape(void)
{
	char buf[64], *out = buf;
	size_t n = rh_log_escape(out, sizeof buf, "/a\"b\\c\x01\x7f\xe9 ok", 12);

	CHECK_MEM(out, n, "/a\\x22b\\x5Cc\\x01\\x7F\\xE9 ok");
	/* room for "/a" and not for a whole escape: the escape is left out */
	n = rh_log_escape(out, 5, "/a\"b", 4);
	CHECK_MEM(out, n, "/a");
}

/* Journal fields of requests are escaped as CLF is: the exact bytes. */
static void test_escaped_fields(void)
{
	static const char want[] = "USER_AGENT=ua\\xFF\\x09\\x22q\\x22\\x5C/1\n"
				   "REQUEST_PATH=/\\xC3\\xA4?x=\\x22\n"
				   "EMPTY=\n";
	static char big[RH_JOURNAL_MAX / 4];
	struct rh_journal_entry e;

	rh_journal_begin(&e);
	rh_log_add_escaped(&e, "USER_AGENT", "ua\xff\t\"q\"\\/1", 10);
	rh_log_add_escaped(&e, "REQUEST_PATH", "/\xc3\xa4?x=\"", 7);
	rh_log_add_escaped(&e, "EMPTY", NULL, 0);
	CHECK(!e.overflow);
	CHECK_MEM(e.data, e.len, want);
	/* escaped, a value grows fourfold: past the entry's size, it overflows */
	memset(big, 0xff, sizeof big);
	rh_journal_begin(&e);
	rh_log_add_escaped(&e, "BIG", big, sizeof big);
	CHECK(e.overflow);
}

static void test_record_bounds(void)
{
	static char target[4000], agent[1000];
	struct rh_request req = { 0 };
	struct rh_access_rec rec;

	memset(target, 't', sizeof target);
	memset(agent, 'u', sizeof agent);
	req.method_name = (struct rh_str){ "VERYLONGMETHODNAMEXYZ", 21 };
	req.target = (struct rh_str){ target, sizeof target };
	req.user_agent = (struct rh_str){ agent, sizeof agent };
	req.version = 11;
	rh_access_rec_fill(&rec, &req, 7);
	CHECK_INT(sizeof rec, RH_ACCESS_REC_MAX);
	CHECK_INT(rec.method_len, RH_ACCESS_METHOD_MAX);
	CHECK_INT(rec.agent_len, RH_ACCESS_AGENT_MAX);
	CHECK_INT(rec.method_len + rec.target_len + rec.agent_len, sizeof rec.text);
	CHECK(memcmp(rec.text, "VERYLONGMETHODNA", 16) == 0);
	CHECK_INT(rec.start_usec, 7);
	/* a short target leaves the rest to the agent, up to its cap */
	req.target = (struct rh_str){ "/", 1 };
	rh_access_rec_fill(&rec, &req, 0);
	CHECK_INT(rec.target_len, 1);
	CHECK_INT(rec.agent_len, RH_ACCESS_AGENT_MAX);
}

int main(void)
{
	test_entry();
	test_overflow();
	test_escape();
	test_escaped_fields();
	test_record_bounds();
	return check_done("journal");
}
