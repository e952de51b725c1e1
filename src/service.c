// SPDX-License-Identifier: Apache-2.0
/*
 * service.c - service name and Kubernetes placement of a process, from its
 * /proc entries (see service.h for the rules). Reads are bounded: the
 * environment and command line are read up to 64 KiB, and only the few
 * variables we look for are ever copied out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service.h"

#define READ_MAX (64 * 1024)

/* Reads at most READ_MAX bytes of path into a NUL-terminated heap buffer. */
static char *read_small(const char *path, size_t *len)
{
	char *buf = malloc(READ_MAX + 1);
	size_t n = 0;
	ssize_t r;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	while (n < READ_MAX && (r = read(fd, buf + n, READ_MAX - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* Copies src into a label-safe dst: bounded, other characters become '_'. */
static void label_copy(char *dst, const char *src, size_t len)
{
	size_t i;

	if (len >= SERVICE_NAME_MAX)
		len = SERVICE_NAME_MAX - 1;
	for (i = 0; i < len && src[i]; i++) {
		char ch = src[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || strchr("_.:/-", ch);

		dst[i] = ok ? ch : '_';
	}
	dst[i] = 0;
}

/* The value of NAME in a NUL-separated environment block, or NULL. */
static const char *env_get(const char *env, size_t len, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < len;) {
		const char *var = env + i;
		size_t vlen = strnlen(var, len - i);

		if (vlen > nlen && var[nlen] == '=' && !strncmp(var, name, nlen))
			return var + nlen + 1;
		i += vlen + 1;
	}
	return NULL;
}

/* The script of a node command line: first argument after argv[0] that is
 * not an option (and not the value of -r/--require); basename, no extension. */
static bool script_of(const char *cmd, size_t len, char *out)
{
	const char *arg = cmd, *end = cmd + len;
	bool skip_next = false;
	const char *base, *dot;

	if (len == 0)
		return false;
	arg += strnlen(arg, (size_t)(end - arg)) + 1; /* argv[0] */
	for (; arg < end; arg += strnlen(arg, (size_t)(end - arg)) + 1) {
		if (skip_next) {
			skip_next = false;
			continue;
		}
		/* node -e/-p CODE runs no script: nothing to name it by. */
		if (!strcmp(arg, "-e") || !strcmp(arg, "--eval") || !strcmp(arg, "-p") ||
		    !strcmp(arg, "--print"))
			return false;
		if (arg[0] == '-') {
			skip_next = !strcmp(arg, "-r") || !strcmp(arg, "--require") ||
				    !strcmp(arg, "--import") || !strcmp(arg, "--loader");
			continue;
		}
		if (!arg[0])
			continue;
		base = strrchr(arg, '/');
		base = base ? base + 1 : arg;
		/* `node index.js` names nothing: use the directory above. */
		if (!strncmp(base, "index.", 6) && base > arg + 1) {
			const char *p = base - 1;

			while (p > arg && p[-1] != '/')
				p--;
			label_copy(out, p, (size_t)(base - 1 - p));
			return out[0] != 0;
		}
		dot = strrchr(base, '.');
		label_copy(out, base, dot && dot > base ? (size_t)(dot - base) : strlen(base));
		return out[0] != 0;
	}
	return false;
}

/* A process that set process.title rewrote its argv[0] ("next-server (v14.2.3)"). */
static bool title_of(const char *cmd, size_t len, char *out)
{
	size_t n = strnlen(cmd, len);
	const char *base = memrchr(cmd, '/', n);
	const char *sp;

	base = base ? base + 1 : cmd;
	if (!strcmp(base, "node") || !strcmp(base, "nodejs") || !*base)
		return false;
	sp = strchr(base, ' ');
	label_copy(out, base, sp ? (size_t)(sp - base) : strlen(base));
	return out[0] != 0;
}

static const char *rule_for(const struct service_rules *r, const char *key)
{
	for (int i = 0; r && key && key[0] && i < r->n; i++)
		if (!strcmp(r->rule[i].match, key))
			return r->rule[i].name;
	return NULL;
}

int service_rules_add(struct service_rules *r, const char *spec)
{
	const char *eq = strchr(spec, '=');

	if (!eq || eq == spec || !eq[1] || (size_t)(eq - spec) >= SERVICE_NAME_MAX ||
	    strlen(eq + 1) >= SERVICE_NAME_MAX)
		return -EINVAL;
	if (r->n == SERVICE_MAX_RULES)
		return -ENOSPC;
	memcpy(r->rule[r->n].match, spec, (size_t)(eq - spec));
	r->rule[r->n].match[eq - spec] = 0;
	label_copy(r->rule[r->n].name, eq + 1, strlen(eq + 1));
	r->n++;
	return 0;
}

/* Kubernetes: the pod's cgroup says "kubepods"; pod and namespace from the
 * environment or the service-account file of the container. */
static void k8s_of(const char *proc_root, pid_t pid, const char *env, size_t env_len,
		   struct service_id *out)
{
	char path[256];
	size_t len;
	char *cg, *ns;
	const char *v;

	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, pid);
	cg = read_small(path, &len);
	if (!cg)
		return;
	if (!strstr(cg, "kubepods")) {
		free(cg);
		return;
	}
	free(cg);
	v = env ? env_get(env, env_len, "HOSTNAME") : NULL;
	if (v)
		label_copy(out->pod, v, strlen(v));
	v = env ? env_get(env, env_len, "POD_NAMESPACE") : NULL;
	if (v) {
		label_copy(out->namespace_, v, strlen(v));
		return;
	}
	snprintf(path, sizeof(path),
		 "%s/%d/root/var/run/secrets/kubernetes.io/serviceaccount/namespace", proc_root,
		 pid);
	ns = read_small(path, &len);
	if (ns) {
		label_copy(out->namespace_, ns, strcspn(ns, "\n"));
		free(ns);
	}
}

int service_identify(const char *proc_root, pid_t pid, const struct service_rules *rules,
		     struct service_id *out)
{
	char path[256], script[SERVICE_NAME_MAX] = "", title[SERVICE_NAME_MAX] = "";
	size_t env_len = 0, cmd_len = 0;
	char *env, *cmd;
	const char *v, *npm = NULL;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/%d/cmdline", proc_root, pid);
	cmd = read_small(path, &cmd_len);
	if (!cmd) {
		snprintf(out->name, sizeof(out->name), "unknown");
		out->source = SERVICE_FROM_NONE;
		return -ESRCH;
	}
	snprintf(path, sizeof(path), "%s/%d/environ", proc_root, pid);
	env = read_small(path, &env_len);
	if (env)
		npm = env_get(env, env_len, "npm_package_name");
	if (!title_of(cmd, cmd_len, title))
		script_of(cmd, cmd_len, script);

	if ((v = rule_for(rules, script)) || (v = rule_for(rules, title)) ||
	    (v = rule_for(rules, npm))) {
		label_copy(out->name, v, strlen(v));
		out->source = SERVICE_FROM_RULE;
	} else if (env && (v = env_get(env, env_len, "OTEL_SERVICE_NAME")) && *v) {
		label_copy(out->name, v, strlen(v));
		out->source = SERVICE_FROM_OTEL;
	} else if (env && (v = env_get(env, env_len, "SERVICE_NAME")) && *v) {
		label_copy(out->name, v, strlen(v));
		out->source = SERVICE_FROM_ENV;
	} else if (npm && *npm) {
		label_copy(out->name, npm, strlen(npm));
		out->source = SERVICE_FROM_NPM;
	} else if (title[0]) {
		memcpy(out->name, title, sizeof(out->name));
		out->source = SERVICE_FROM_TITLE;
	} else if (script[0]) {
		memcpy(out->name, script, sizeof(out->name));
		out->source = SERVICE_FROM_SCRIPT;
	} else {
		snprintf(out->name, sizeof(out->name), "unknown");
		out->source = SERVICE_FROM_NONE;
	}
	k8s_of(proc_root, pid, env, env_len, out);
	free(env);
	free(cmd);
	return 0;
}
