/* A minimal assertion harness for the unit tests: every failed check is
 * printed with its line, and the exit status says whether any failed. */
#ifndef RH_CHECK_H
#define RH_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK(cond) \
	do { \
		check_count++; \
		if (!(cond)) { \
			check_failures++; \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		} \
	} while (0)

#define CHECK_INT(got, want) \
	do { \
		long long got_ = (long long)(got), want_ = (long long)(want); \
		check_count++; \
		if (got_ != want_) { \
			check_failures++; \
			fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, #got, \
				got_, want_); \
		} \
	} while (0)

#define CHECK_STR(got, want) \
	do { \
		const char *got_ = (got), *want_ = (want); \
		check_count++; \
		if (!got_ || strcmp(got_, want_)) { \
			check_failures++; \
			fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
				#got, got_ ? got_ : "(null)", want_); \
		} \
	} while (0)

/* Compares an rh_str-like (pointer, length) with a C string. */
#define CHECK_MEM(ptr, len, want) \
	do { \
		const char *want_ = (want), *ptr_ = (ptr); \
		check_count++; \
		if (!ptr_ || (len) != strlen(want_) || memcmp(ptr_, want_, (len))) { \
			check_failures++; \
			fprintf(stderr, "%s:%d: %s is \"%.*s\", expected \"%s\"\n", __FILE__, __LINE__, \
				#ptr, (int)(len), ptr_ ? ptr_ : "", want_); \
		} \
	} while (0)

static inline int check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
