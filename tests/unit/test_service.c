// SPDX-License-Identifier: Apache-2.0
/* Unit tests of service.c against a fake /proc tree built in a temp dir. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "service.h"

static char root[64];

/* Writes a NUL-separated block (args separated by '|') to root/pid/file. */
static void put(int pid, const char *file, const char *pipe_sep)
{
	char path[256], dir[128];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/%d", root, pid);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	for (const char *p = pipe_sep; *p; p++)
		fputc(*p == '|' ? 0 : *p, f);
	if (*pipe_sep)
		fputc(0, f);
	fclose(f);
}

static struct service_id id_of(int pid, const struct service_rules *r)
{
	struct service_id id;

	CHECK_EQ_INT(service_identify(root, pid, r, &id), 0);
	return id;
}

static void test_name_sources_in_order(void)
{
	struct service_id id;

	put(1, "cmdline", "node|dist/main.js");
	put(1, "environ", "npm_package_name=api|OTEL_SERVICE_NAME=checkout|SERVICE_NAME=x");
	id = id_of(1, NULL);
	CHECK_EQ_STR(id.name, "checkout");
	CHECK_EQ_INT(id.source, SERVICE_FROM_OTEL);

	put(2, "cmdline", "node|dist/main.js");
	put(2, "environ", "PATH=/bin|SERVICE_NAME=billing");
	CHECK_EQ_STR(id_of(2, NULL).name, "billing");

	put(3, "cmdline", "/usr/bin/node|server.js");
	put(3, "environ", "npm_package_name=@acme/web");
	id = id_of(3, NULL);
	CHECK_EQ_STR(id.name, "_acme/web");
	CHECK_EQ_INT(id.source, SERVICE_FROM_NPM);
}

static void test_script_and_title(void)
{
	struct service_id id;

	put(10, "cmdline", "node|--max-old-space-size=4096|-r|dotenv/config|dist/main.js|--port|3000");
	put(10, "environ", "");
	id = id_of(10, NULL);
	CHECK_EQ_STR(id.name, "main");
	CHECK_EQ_INT(id.source, SERVICE_FROM_SCRIPT);

	put(11, "cmdline", "node|/srv/app/worker/index.js");
	put(11, "environ", "");
	CHECK_EQ_STR(id_of(11, NULL).name, "worker");

	/* process.title = 'next-server (v14.2.3)' rewrites argv[0] */
	put(12, "cmdline", "next-server (v14.2.3)");
	put(12, "environ", "");
	id = id_of(12, NULL);
	CHECK_EQ_STR(id.name, "next-server");
	CHECK_EQ_INT(id.source, SERVICE_FROM_TITLE);

	put(14, "cmdline", "node|-e|require('http').get('x')");
	put(14, "environ", "");
	CHECK_EQ_STR(id_of(14, NULL).name, "unknown");

	put(13, "cmdline", "node");
	put(13, "environ", "");
	id = id_of(13, NULL);
	CHECK_EQ_STR(id.name, "unknown");
	CHECK_EQ_INT(id.source, SERVICE_FROM_NONE);
}

static void test_rules_first_and_labels_sanitized(void)
{
	struct service_rules r = { 0 };
	struct service_id id;

	CHECK_EQ_INT(service_rules_add(&r, "main=billing-api"), 0);
	CHECK_EQ_INT(service_rules_add(&r, "noequals"), -EINVAL);
	CHECK_EQ_INT(service_rules_add(&r, "=x"), -EINVAL);
	put(20, "cmdline", "node|dist/main.js");
	put(20, "environ", "OTEL_SERVICE_NAME=ignored");
	id = id_of(20, &r);
	CHECK_EQ_STR(id.name, "billing-api");
	CHECK_EQ_INT(id.source, SERVICE_FROM_RULE);

	put(21, "cmdline", "node|a.js");
	put(21, "environ", "OTEL_SERVICE_NAME=a b\"c{}\\n");
	CHECK_EQ_STR(id_of(21, NULL).name, "a_b_c___n");
}

static void test_kubernetes_placement(void)
{
	char dir[256], path[300];
	struct service_id id;
	FILE *f;

	put(30, "cmdline", "node|main.js");
	put(30, "environ", "HOSTNAME=api-7f9c4-xk2lp|KUBERNETES_SERVICE_HOST=10.0.0.1");
	put(30, "cgroup", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-pod1234.slice/cri-x");
	snprintf(dir, sizeof(dir), "%s/30/root/var/run/secrets/kubernetes.io/serviceaccount", root);
	snprintf(path, sizeof(path), "mkdir -p %s", dir);
	CHECK(system(path) == 0);
	snprintf(path, sizeof(path), "%s/namespace", dir);
	f = fopen(path, "w");
	fputs("prod\n", f);
	fclose(f);
	id = id_of(30, NULL);
	CHECK_EQ_STR(id.pod, "api-7f9c4-xk2lp");
	CHECK_EQ_STR(id.namespace_, "prod");

	/* Outside Kubernetes: nothing, even with HOSTNAME set. */
	put(31, "cmdline", "node|main.js");
	put(31, "environ", "HOSTNAME=laptop");
	put(31, "cgroup", "0::/user.slice/session-1.scope");
	id = id_of(31, NULL);
	CHECK_EQ_STR(id.pod, "");
	CHECK_EQ_STR(id.namespace_, "");
}

static void test_gone_process(void)
{
	struct service_id id;

	CHECK_EQ_INT(service_identify(root, 99999, NULL, &id), -ESRCH);
	CHECK_EQ_STR(id.name, "unknown");
}

int main(void)
{
	char cmd[128];
	int rc;

	snprintf(root, sizeof(root), "/tmp/sba-proc-XXXXXX");
	if (!mkdtemp(root))
		return 1;
	RUN(test_name_sources_in_order);
	RUN(test_script_and_title);
	RUN(test_rules_first_and_labels_sanitized);
	RUN(test_kubernetes_placement);
	RUN(test_gone_process);
	rc = check_summary();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		return 1;
	return rc;
}
