// SPDX-License-Identifier: Apache-2.0
/* Unit tests of cgroup.c's pure parts: /proc/PID/cgroup texts and subtrees. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "check.h"

static void test_parse_proc(void)
{
	char out[64];

	/* cgroup v2 only */
	CHECK(cgroup_parse_proc("0::/kubepods/pod1/ctr\n", out, sizeof(out)) == 0);
	CHECK(!strcmp(out, "/kubepods/pod1/ctr"));
	/* hybrid: the v2 line after the v1 controllers, without a newline */
	CHECK(cgroup_parse_proc("9:name=systemd:/\n4:memory:/x\n0::/a/b", out, sizeof(out)) == 0);
	CHECK(!strcmp(out, "/a/b"));
	CHECK(cgroup_parse_proc("0::/\n", out, sizeof(out)) == 0);
	CHECK(!strcmp(out, "/"));
	/* outside our cgroup namespace's root: named as it is */
	CHECK(cgroup_parse_proc("0::/../other\n", out, sizeof(out)) == 0);
	CHECK(!strcmp(out, "/../other"));
	/* v1 only, no v2 line, a v2 line that is not a path, one too long */
	CHECK(cgroup_parse_proc("4:memory:/x\n1:cpu:/\n", out, sizeof(out)) == -ENOENT);
	CHECK(cgroup_parse_proc("", out, sizeof(out)) == -ENOENT);
	CHECK(cgroup_parse_proc("0::\n", out, sizeof(out)) == -ENOENT);
	CHECK(cgroup_parse_proc("0::/abcdefgh\n", out, 9) == -ENOENT);
	CHECK(cgroup_parse_proc("0::/abcdefg\n", out, 9) == 0);
	/* "10::" is not the v2 line */
	CHECK(cgroup_parse_proc("10::/x\n", out, sizeof(out)) == -ENOENT);
}

static void test_is_under(void)
{
	CHECK(cgroup_is_under("/a/b", "/"));
	CHECK(cgroup_is_under("/", "/"));
	CHECK(cgroup_is_under("/a/b", "/a"));
	CHECK(cgroup_is_under("/a", "/a"));
	CHECK(!cgroup_is_under("/ab", "/a"));
	CHECK(!cgroup_is_under("/a", "/a/b"));
	CHECK(!cgroup_is_under("/", "/a"));
}

static void test_of_pid(void)
{
	char rel[4096];

	/* ourselves, on a host with cgroup v2: whatever our cgroup is, a path */
	if (cgroup_of_pid(getpid(), rel, sizeof(rel)) == 0)
		CHECK(rel[0] == '/');
	CHECK(cgroup_of_pid(-1, rel, sizeof(rel)) == -ENOENT);
}

int main(void)
{
	RUN(test_parse_proc);
	RUN(test_is_under);
	RUN(test_of_pid);
	return check_summary();
}
