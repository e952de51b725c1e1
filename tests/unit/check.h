/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check.h - the smallest test harness that does the job.
 *
 * A test file defines functions named test_<what>() and lists them in main()
 * with RUN(test_<what>). CHECK() records a failure with file:line and goes on,
 * so one run shows every broken case. The last line printed is
 * "N passed, N failed", counted per test function; main returns non-zero on
 * any failure. SKIP() ends a test as skipped (e.g. no CAP_BPF).
 */
#ifndef SBA_CHECK_H
#define SBA_CHECK_H

#include <stdio.h>
#include <string.h>

static int check__failed_in_test;
static int check__skipped_in_test;
static int check__passed, check__failed, check__skipped;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
				#cond);                                                  \
			check__failed_in_test++;                                         \
		}                                                                        \
	} while (0)

#define CHECK_MSG(cond, ...)                                                              \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__,  \
				#cond);                                                   \
			fprintf(stderr, __VA_ARGS__);                                     \
			fputc('\n', stderr);                                              \
			check__failed_in_test++;                                          \
		}                                                                         \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                              \
	do {                                                                            \
		long long check__a = (long long)(a), check__b = (long long)(b);         \
		CHECK_MSG(check__a == check__b, "%s = %lld, %s = %lld", #a, check__a,   \
			  #b, check__b);                                                \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                              \
	do {                                                                            \
		const char *check__a = (a), *check__b = (b);                            \
		CHECK_MSG(check__a && check__b && strcmp(check__a, check__b) == 0,      \
			  "%s = \"%s\", expected \"%s\"", #a,                           \
			  check__a ? check__a : "(null)", check__b ? check__b : "(null)"); \
	} while (0)

#define SKIP(why)                                                      \
	do {                                                           \
		fprintf(stderr, "  skipped: %s\n", why);               \
		check__skipped_in_test = 1;                            \
		return;                                                \
	} while (0)

#define RUN(fn)                                                                      \
	do {                                                                         \
		check__failed_in_test = 0;                                           \
		check__skipped_in_test = 0;                                          \
		fn();                                                                \
		if (check__skipped_in_test && !check__failed_in_test) {              \
			check__skipped++;                                            \
			printf("skip %s\n", #fn);                                    \
		} else if (check__failed_in_test) {                                  \
			check__failed++;                                             \
			printf("FAIL %s\n", #fn);                                    \
		} else {                                                             \
			check__passed++;                                             \
			printf("ok   %s\n", #fn);                                    \
		}                                                                    \
		fflush(stdout);                                                      \
	} while (0)

static inline int check_summary(void)
{
	if (check__skipped)
		printf("%d passed, %d failed, %d skipped\n", check__passed, check__failed,
		       check__skipped);
	else
		printf("%d passed, %d failed\n", check__passed, check__failed);
	return check__failed ? 1 : 0;
}

#endif /* SBA_CHECK_H */
