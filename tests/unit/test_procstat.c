// SPDX-License-Identifier: Apache-2.0
/* Unit tests of procstat.c on a fake /proc and cgroup tree. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "procstat.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd))
		return;
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_cpu_rss_and_v2_limit_of_an_ancestor(void)
{
	char proc[128], cg[128];
	struct procstat st;
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);

	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	/* comm with a space and a parenthesis, utime 150, stime 50 ticks */
	put("proc/7/stat", "7 (node (x) y) S 1 7 7 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 11 0 100 0 0");
	put("proc/7/statm", "250000 12800 3000 10 0 40000 0\n");
	put("proc/7/cgroup", "0::/kubepods/pod1/ctr\n");
	put("cg/kubepods/pod1/ctr/memory.max", "max\n");
	put("cg/kubepods/pod1/memory.max", "536870912\n");
	put("cg/kubepods/memory.max", "8589934592\n");
	CHECK_EQ_INT(procstat_read(proc, cg, 7, &st), 0);
	CHECK_EQ_INT(st.cpu_ns, 200ULL * (1000000000ULL / (unsigned long long)tick));
	CHECK_EQ_INT(st.rss_bytes, 12800ULL * (unsigned long long)page);
	CHECK_EQ_INT(st.mem_limit, 536870912);
}

static void test_v1_memory_controller_and_no_limit(void)
{
	char proc[128], cg[128];
	struct procstat st;

	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	put("proc/8/stat", "8 (node) S 1 8 8 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 0 0");
	put("proc/8/statm", "1 2 3 4 5 6 7\n");
	put("proc/8/cgroup", "4:memory:/sba-test\n1:name=systemd:/x\n0::/x\n");
	put("cg/memory/sba-test/memory.limit_in_bytes", "268435456\n");
	put("cg/memory/memory.limit_in_bytes", "9223372036854771712\n");
	CHECK_EQ_INT(procstat_read(proc, cg, 8, &st), 0);
	CHECK_EQ_INT(st.mem_limit, 268435456);

	put("proc/9/stat", "9 (node) S 1 9 9 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 0 0");
	put("proc/9/cgroup", "0::/free\n");
	CHECK_EQ_INT(procstat_read(proc, cg, 9, &st), 0);
	CHECK_EQ_INT(st.mem_limit, 0);
	CHECK_EQ_INT(procstat_read(proc, cg, 12345, &st), -ESRCH);
}

int main(void)
{
	char cmd[128];
	int rc;

	snprintf(root, sizeof(root), "/tmp/sba-procstat-XXXXXX");
	if (!mkdtemp(root))
		return 1;
	RUN(test_cpu_rss_and_v2_limit_of_an_ancestor);
	RUN(test_v1_memory_controller_and_no_limit);
	rc = check_summary();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) ? 1 : rc;
}
