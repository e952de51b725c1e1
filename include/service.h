/* SPDX-License-Identifier: Apache-2.0 */
/*
 * service.h - which service a process is, for the `service` label, and
 * where it runs (Kubernetes namespace and pod), read from /proc only.
 *
 * Name, first match wins:
 *   1. a name configured for the process's script, package or title;
 *   2. OTEL_SERVICE_NAME, then SERVICE_NAME, from the process environment;
 *   3. npm_package_name (set by `npm start` / `npm run`);
 *   4. the script: first non-option argument of node, without directory and
 *      extension (`node dist/main.js` -> `main`), or the process title when
 *      it renamed itself (`next-server`);
 *   5. `unknown`.
 * Kubernetes, when the process runs in a pod: the pod from HOSTNAME, the
 * namespace from POD_NAMESPACE or the service-account file in the
 * container's root, the pod uid from its cgroup path. No API server.
 * Every value is bounded and reduced to [A-Za-z0-9_.:/-] so it is safe as a
 * label; nothing else from the environment is kept.
 */
#ifndef SBA_SERVICE_H
#define SBA_SERVICE_H

#include <stdbool.h>
#include <sys/types.h>

#define SERVICE_NAME_MAX 64
#define SERVICE_MAX_RULES 32

struct service_rule {
	char match[SERVICE_NAME_MAX];	/* script name, npm package name or title */
	char name[SERVICE_NAME_MAX];
};

struct service_rules {
	int n;
	struct service_rule rule[SERVICE_MAX_RULES];
};

enum service_source {
	SERVICE_FROM_RULE = 1,
	SERVICE_FROM_OTEL = 2,
	SERVICE_FROM_ENV = 3,		/* SERVICE_NAME */
	SERVICE_FROM_NPM = 4,
	SERVICE_FROM_SCRIPT = 5,
	SERVICE_FROM_TITLE = 6,
	SERVICE_FROM_NONE = 7,
};

struct service_id {
	char name[SERVICE_NAME_MAX];
	char namespace_[SERVICE_NAME_MAX];	/* "" outside Kubernetes */
	char pod[SERVICE_NAME_MAX];		/* "" outside Kubernetes */
	enum service_source source;
};

/* Parses "MATCH=NAME" into rules. Returns 0 or -EINVAL (-ENOSPC when full). */
int service_rules_add(struct service_rules *r, const char *spec);

/*
 * Identifies process pid under proc_root (normally "/proc"). rules may be
 * NULL. Returns 0, or -errno when the process is gone (out is then
 * "unknown").
 */
int service_identify(const char *proc_root, pid_t pid, const struct service_rules *rules,
		     struct service_id *out);

#endif /* SBA_SERVICE_H */
