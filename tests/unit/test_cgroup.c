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

static void test_mount_line(void)
{
	char root[4096], mnt[4096];

	CHECK(cgroup2_mount_line("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
				 root, mnt));
	CHECK(!strcmp(root, "/") && !strcmp(mnt, "/sys/fs/cgroup/unified"));
	/* another namespace's view, optional fields before the dash */
	CHECK(cgroup2_mount_line("7 1 0:26 /../.. /sys/fs/cgroup rw shared:4 - cgroup2 none rw\n",
				 root, mnt));
	CHECK(!strcmp(root, "/../..") && !strcmp(mnt, "/sys/fs/cgroup"));
	CHECK(!cgroup2_mount_line("30 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
				  root, mnt));
	CHECK(!cgroup2_mount_line("22 1 0:5 / /dev rw - devtmpfs udev rw\n", root, mnt));
	CHECK(!cgroup2_mount_line("garbage without a dash\n", root, mnt));
	CHECK(!cgroup2_mount_line("1 - cgroup2\n", root, mnt));
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
	RUN(test_mount_line);
	RUN(test_of_pid);
	return check_summary();
}
