// SPDX-License-Identifier: Apache-2.0
/*
 * config.c - the command line. One table says, for each option, its name,
 * whether it takes a value and what it does; --help is printed from it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "tenant.h"

enum opt_id {
	OPT_TRACE = 256, OPT_STATS, OPT_HOOKS, OPT_SKB_SCOPE, OPT_PID, OPT_EXE, OPT_EXE_NAME, OPT_CGROUP,
	OPT_CAP_HEAD, OPT_CAP_BODY, OPT_CAP_TAIL, OPT_RINGBUF, OPT_POLL_MS, OPT_MAX_CONNS, OPT_MAX_TARGETS,
	OPT_BTF, OPT_PIN, OPT_LISTEN, OPT_TOKEN_FILE, OPT_TOKEN_OUT, OPT_RL_WINDOW, OPT_RL_MAX,
	OPT_TLS_CERT, OPT_TLS_KEY, OPT_NO_AUTH, OPT_ROUTES, OPT_TENANT_HEADER, OPT_MAX_TENANTS,
	OPT_MAX_ROUTES, OPT_REDIS_PORT, OPT_SERVICE, OPT_VERBOSE, OPT_HELP, OPT_VERSION,
};

struct opt_doc {
	struct option opt;
	const char *arg;
	const char *help;
};

static const struct opt_doc opts[] = {
	{ { "trace", optional_argument, NULL, OPT_TRACE }, "KINDS",
	  "print events as JSON lines on stdout (docs/TRACE.md); KINDS, comma-separated:"
	  " proc, conn, data, http, job (default: all)" },
	{ { "stats", no_argument, NULL, OPT_STATS }, NULL,
	  "print capture and drop counters as JSON on stdout at exit (and on SIGUSR1)" },
	{ { "hooks", required_argument, NULL, OPT_HOOKS }, "raw|tp|skb",
	  "capture hooks: syscall tracepoints (raw or tp, default tp) or the packet layer"
	  " (skb; see docs/ARCHITECTURE.md)" },
	{ { "skb-scope", required_argument, NULL, OPT_SKB_SCOPE }, "targets|root",
	  "--hooks skb: attach the packet programs to each target's cgroup v2 directory"
	  " (default: other processes' packets never run them) or to the root (or --cgroup)" },
	{ { "pid", required_argument, NULL, OPT_PID }, "PID",
	  "target this process and the processes it forks (repeatable)" },
	{ { "exe", required_argument, NULL, OPT_EXE }, "PATH",
	  "target processes running this executable file, by inode (repeatable, max 4)" },
	{ { "exe-name", required_argument, NULL, OPT_EXE_NAME }, "NAME",
	  "target processes whose executable file is named NAME (repeatable, max 4;"
	  " default: node and nodejs)" },
	{ { "cgroup", required_argument, NULL, OPT_CGROUP }, "PATH",
	  "only target processes under this cgroup v2 directory" },
	{ { "capture-head", required_argument, NULL, OPT_CAP_HEAD }, "BYTES",
	  "bytes copied after each change of direction of a connection (default 4096)" },
	{ { "capture-body", required_argument, NULL, OPT_CAP_BODY }, "BYTES",
	  "bytes copied from each further syscall in the same direction (default 1024)" },
	{ { "capture-tail", required_argument, NULL, OPT_CAP_TAIL }, "BYTES",
	  "also copy the last BYTES of writes to Redis (--redis-port) that are longer than"
	  " their capture, e.g. the keys after a script (default 16384, 0: off)" },
	{ { "ringbuf-size", required_argument, NULL, OPT_RINGBUF }, "BYTES",
	  "size of the kernel->user ring buffer, a power of two (default 8388608)" },
	{ { "poll-ms", required_argument, NULL, OPT_POLL_MS }, "MS",
	  "how often the ring buffer is drained when nobody asks: a scrape drains it first"
	  " (default 1000; 100 with --trace)" },
	{ { "max-conns", required_argument, NULL, OPT_MAX_CONNS }, "N",
	  "connections of target processes tracked at once, in the kernel and by the observer"
	  " (default 65536)" },
	{ { "max-targets", required_argument, NULL, OPT_MAX_TARGETS }, "N",
	  "target processes tracked at once (default 32768)" },
	{ { "btf", required_argument, NULL, OPT_BTF }, "FILE",
	  "kernel BTF to use when /sys/kernel/btf/vmlinux is missing" },
	{ { "pin-maps", required_argument, NULL, OPT_PIN }, "DIR",
	  "pin the counters map under DIR on bpffs (mounted if missing)" },
	{ { "listen", required_argument, NULL, OPT_LISTEN }, "HOST:PORT",
	  "metrics endpoint address, numeric ([::]:PORT for IPv6), or none"
	  " (default " HTTPD_DEFAULT_LISTEN ")" },
	{ { "token-file", required_argument, NULL, OPT_TOKEN_FILE }, "PATH",
	  "admin token(s) for the endpoint, one per line, re-read when the file changes"
	  " (else env SBA_ADMIN_TOKEN, else a generated token)" },
	{ { "token-out", required_argument, NULL, OPT_TOKEN_OUT }, "PATH",
	  "where a generated admin token is written, mode 0600"
	  " (default " AUTH_DEFAULT_TOKEN_OUT ")" },
	{ { "rate-limit-window", required_argument, NULL, OPT_RL_WINDOW }, "SEC",
	  "window for counting failed token checks per client address"
	  " (default 60; env RATE_LIMIT_WINDOW)" },
	{ { "rate-limit-max", required_argument, NULL, OPT_RL_MAX }, "N",
	  "failed token checks per window before 429 (default 10; env RATE_LIMIT_MAX)" },
	{ { "tls-cert", required_argument, NULL, OPT_TLS_CERT }, "FILE",
	  "serve HTTPS (TLS 1.2+) with this PEM certificate chain, re-read when it changes" },
	{ { "tls-key", required_argument, NULL, OPT_TLS_KEY }, "FILE",
	  "the PEM private key of --tls-cert" },
	{ { "no-auth", no_argument, NULL, OPT_NO_AUTH }, NULL,
	  "serve the endpoint without a token (refused unless --listen is a loopback address)" },
	{ { "routes", required_argument, NULL, OPT_ROUTES }, "FILE",
	  "route templates, one Express-style pattern per line (/users/:id), tried before"
	  " the id heuristic" },
	{ { "tenant-header", required_argument, NULL, OPT_TENANT_HEADER }, "NAME",
	  "request header that names the tenant (default x-tenant-id)" },
	{ { "max-tenants", required_argument, NULL, OPT_MAX_TENANTS }, "N",
	  "tenants with a label of their own, the busiest ones (default 50; the rest: other)" },
	{ { "max-routes", required_argument, NULL, OPT_MAX_ROUTES }, "N",
	  "route templates per service (default 100; the rest: other)" },
	{ { "redis-port", required_argument, NULL, OPT_REDIS_PORT }, "PORT",
	  "a Redis server port (repeatable, up to 8; default 6379)" },
	{ { "service", required_argument, NULL, OPT_SERVICE }, "MATCH=NAME",
	  "service name for processes whose script, npm package or title is MATCH (repeatable)" },
	{ { "verbose", no_argument, NULL, OPT_VERBOSE }, NULL, "more messages (twice: libbpf's too)" },
	{ { "help", no_argument, NULL, OPT_HELP }, NULL, "this text" },
	{ { "version", no_argument, NULL, OPT_VERSION }, NULL, "print the version" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

/* "http,job" -> SBA_TRACE_HTTP | SBA_TRACE_JOB; NULL (bare --trace) -> all. */
static int parse_trace_kinds(const char *arg, uint32_t *out)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} kinds[] = { { "proc", SBA_TRACE_PROC }, { "conn", SBA_TRACE_CONN },
		      { "data", SBA_TRACE_DATA }, { "http", SBA_TRACE_HTTP },
		      { "job", SBA_TRACE_JOB },   { "all", SBA_TRACE_ALL } };
	uint32_t bits = 0;

	if (!arg) {
		*out = SBA_TRACE_ALL;
		return 0;
	}
	for (const char *p = arg; *p;) {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strlen(kinds[i].name) == n && !strncmp(p, kinds[i].name, n))
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0])) {
			pr_err("--trace: '%.*s' is not one of proc, conn, data, http, job, all\n",
			       (int)n, p);
			return -EINVAL;
		}
		bits |= kinds[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!bits) {
		pr_err("--trace=: name at least one of proc, conn, data, http, job, all\n");
		return -EINVAL;
	}
	*out = bits;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: sba-observer [OPTIONS]\n"
		   "Observes the HTTP and Redis traffic of Node.js processes from the kernel.\n\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		char left[64];

		bool optional = opts[i].opt.has_arg == optional_argument;

		snprintf(left, sizeof(left), "--%s%s%s%s", opts[i].opt.name,
			 !opts[i].arg ? "" : optional ? "[=" : " ", opts[i].arg ? opts[i].arg : "",
			 opts[i].arg && optional ? "]" : "");
		fprintf(f, "  %-26s %s\n", left, opts[i].help);
	}
}

static int parse_u64(const char *name, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		pr_err("--%s: '%s' is not a number between %llu and %llu\n", name, s,
			(unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* A number from the environment, checked like an option. Absent: 0, *out kept. */
static int parse_env_u64(const char *env, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = getenv(env);
	char *end;
	unsigned long long v;

	if (!s)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		pr_err("%s: '%s' is not a number between %llu and %llu\n", env, s,
			(unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

#define RL_WINDOW_MAX 86400
#define RL_MAX_MAX 1000000

int config_parse(struct sba_config *cfg, int argc, char **argv)
{
	struct option long_opts[N_OPTS + 1];
	int verbose = 0, c, err;
	uint64_t v;

	memset(cfg, 0, sizeof(*cfg));
	pipeline_config_init(&cfg->pipe);
	cfg->hooks = SBA_HOOKS_TP;
	cfg->cap_head = SBA_CAP_HEAD_DEFAULT;
	cfg->cap_body = SBA_CAP_BODY_DEFAULT;
	cfg->cap_tail = SBA_CAP_TAIL_DEFAULT;
	cfg->ringbuf_bytes = 8 << 20;
	cfg->poll_ms = 0;	/* not set: see the end */
	cfg->max_conns = 65536;
	cfg->max_targets = 32768;
	httpd_config_defaults(&cfg->http);
	cfg->http.auth.env_token = getenv("SBA_ADMIN_TOKEN");
	v = cfg->http.auth.rl_window_s;
	if (parse_env_u64("RATE_LIMIT_WINDOW", 1, RL_WINDOW_MAX, &v))
		return -EINVAL;
	cfg->http.auth.rl_window_s = (uint32_t)v;
	v = cfg->http.auth.rl_max;
	if (parse_env_u64("RATE_LIMIT_MAX", 1, RL_MAX_MAX, &v))
		return -EINVAL;
	cfg->http.auth.rl_max = (uint32_t)v;

	for (size_t i = 0; i < N_OPTS; i++)
		long_opts[i] = opts[i].opt;
	memset(&long_opts[N_OPTS], 0, sizeof(long_opts[N_OPTS]));

	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		err = 0;
		switch (c) {
		case OPT_TRACE:
			err = parse_trace_kinds(optarg, &cfg->trace);
			break;
		case OPT_STATS: cfg->stats = true; break;
		case OPT_HOOKS:
			if (!strcmp(optarg, "raw")) {
				cfg->hooks = SBA_HOOKS_RAW;
			} else if (!strcmp(optarg, "tp")) {
				cfg->hooks = SBA_HOOKS_TP;
			} else if (!strcmp(optarg, "skb")) {
				cfg->hooks = SBA_HOOKS_SKB;
			} else {
				pr_err("--hooks: '%s' is not raw, tp or skb\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_SKB_SCOPE:
			if (!strcmp(optarg, "targets") || !strcmp(optarg, "root")) {
				cfg->skb_scope_root = !strcmp(optarg, "root");
			} else {
				pr_err("--skb-scope: '%s' is not targets or root\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_PID:
			if (cfg->n_pids == SBA_MAX_PIDS) {
				pr_err("--pid: at most %d pids\n", SBA_MAX_PIDS);
				return -EINVAL;
			}
			err = parse_u64("pid", optarg, 1, INT_MAX, &v);
			cfg->pids[cfg->n_pids++] = (pid_t)v;
			break;
		case OPT_EXE:
			if (cfg->n_exe_paths == SBA_MAX_EXE_INODES) {
				pr_err("--exe: at most %d executables\n", SBA_MAX_EXE_INODES);
				return -EINVAL;
			}
			cfg->exe_paths[cfg->n_exe_paths++] = optarg;
			break;
		case OPT_EXE_NAME:
			if (cfg->n_exe_names == SBA_MAX_EXE_NAMES ||
			    strlen(optarg) >= SBA_EXE_NAME_LEN || !*optarg) {
				pr_err("--exe-name: at most %d names of 1 to %d characters\n",
					SBA_MAX_EXE_NAMES, SBA_EXE_NAME_LEN - 1);
				return -EINVAL;
			}
			cfg->exe_names[cfg->n_exe_names++] = optarg;
			break;
		case OPT_CGROUP: cfg->cgroup_path = optarg; break;
		case OPT_CAP_HEAD:
			err = parse_u64("capture-head", optarg, 0, SBA_CAP_MAX, &v);
			cfg->cap_head = (uint32_t)v;
			break;
		case OPT_CAP_BODY:
			err = parse_u64("capture-body", optarg, 0, SBA_CAP_MAX, &v);
			cfg->cap_body = (uint32_t)v;
			break;
		case OPT_CAP_TAIL:
			err = parse_u64("capture-tail", optarg, 0, SBA_CAP_MAX, &v);
			cfg->cap_tail = (uint32_t)v;
			break;
		case OPT_RINGBUF:
			err = parse_u64("ringbuf-size", optarg, 1 << 16, 1ULL << 30, &v);
			if (!err && (v & (v - 1))) {
				pr_err("--ringbuf-size: %s is not a power of two\n", optarg);
				err = -EINVAL;
			}
			cfg->ringbuf_bytes = v;
			break;
		case OPT_POLL_MS:
			err = parse_u64("poll-ms", optarg, 1, 1000, &v);
			cfg->poll_ms = (uint32_t)v;
			break;
		case OPT_MAX_CONNS:
			err = parse_u64("max-conns", optarg, 64, 1 << 22, &v);
			cfg->max_conns = (uint32_t)v;
			break;
		case OPT_MAX_TARGETS:
			err = parse_u64("max-targets", optarg, 16, 1 << 22, &v);
			cfg->max_targets = (uint32_t)v;
			break;
		case OPT_BTF: cfg->btf_path = optarg; break;
		case OPT_PIN: cfg->pin_dir = optarg; break;
		case OPT_LISTEN: {
			struct sockaddr_storage ss;
			socklen_t sl;

			if (strcmp(optarg, "none") && httpd_parse_listen(optarg, &ss, &sl)) {
				pr_err("--listen: '%s' is not HOST:PORT with a numeric address (or "
				       "none)\n", optarg);
				return -EINVAL;
			}
			cfg->http.listen = optarg;
			break;
		}
		case OPT_TOKEN_FILE: cfg->http.auth.token_file = optarg; break;
		case OPT_TOKEN_OUT: cfg->http.auth.token_out = optarg; break;
		case OPT_RL_WINDOW:
			err = parse_u64("rate-limit-window", optarg, 1, RL_WINDOW_MAX, &v);
			cfg->http.auth.rl_window_s = (uint32_t)v;
			break;
		case OPT_RL_MAX:
			err = parse_u64("rate-limit-max", optarg, 1, RL_MAX_MAX, &v);
			cfg->http.auth.rl_max = (uint32_t)v;
			break;
		case OPT_TLS_CERT: cfg->http.tls_cert = optarg; break;
		case OPT_TLS_KEY: cfg->http.tls_key = optarg; break;
		case OPT_NO_AUTH: cfg->http.no_auth = true; break;
		case OPT_ROUTES: cfg->pipe.routes_file = optarg; break;
		case OPT_TENANT_HEADER: cfg->pipe.tenant_header = optarg; break;
		case OPT_MAX_TENANTS:
			err = parse_u64("max-tenants", optarg, 1, TENANT_MAX_TENANTS_LIMIT, &v);
			cfg->pipe.max_tenants = (uint32_t)v;
			break;
		case OPT_MAX_ROUTES:
			err = parse_u64("max-routes", optarg, 1, 100000, &v);
			cfg->pipe.max_routes = (uint32_t)v;
			break;
		case OPT_REDIS_PORT:
			if (cfg->pipe.n_redis_ports == CONNTAB_MAX_REDIS_PORTS) {
				pr_err("--redis-port: at most %d ports\n", CONNTAB_MAX_REDIS_PORTS);
				return -EINVAL;
			}
			err = parse_u64("redis-port", optarg, 1, 65535, &v);
			cfg->pipe.redis_ports[cfg->pipe.n_redis_ports++] = (uint16_t)v;
			break;
		case OPT_SERVICE:
			err = service_rules_add(&cfg->pipe.services, optarg);
			if (err)
				pr_err("--service: '%s' is not MATCH=NAME (up to %d rules of up to %d "
				       "characters)\n", optarg, SERVICE_MAX_RULES, SERVICE_NAME_MAX - 1);
			break;
		case 'v':
		case OPT_VERBOSE: verbose++; break;
		case 'h':
		case OPT_HELP: usage(stdout); return 1;
		case OPT_VERSION: printf("sba-observer %s\n", SBA_VERSION); return 1;
		default: usage(stderr); return -EINVAL;
		}
		if (err)
			return err;
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->n_pids && !cfg->n_exe_paths && !cfg->n_exe_names) {
		cfg->exe_names[cfg->n_exe_names++] = "node";
		cfg->exe_names[cfg->n_exe_names++] = "nodejs";
	}
	if (cfg->n_pids && (cfg->n_exe_paths || cfg->n_exe_names)) {
		pr_err("--pid cannot be combined with --exe or --exe-name\n");
		return -EINVAL;
	}
	if (!cfg->http.tls_cert != !cfg->http.tls_key) {
		pr_err("--tls-cert and --tls-key go together\n");
		return -EINVAL;
	}
	if (cfg->http.no_auth && !httpd_is_disabled(&cfg->http)) {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (httpd_parse_listen(cfg->http.listen, &ss, &sl) ||
		    !httpd_is_loopback((struct sockaddr *)&ss)) {
			pr_err("--no-auth is refused on %s: without a token the endpoint may only "
			       "listen on a loopback address (--listen 127.0.0.1:PORT)\n",
			       cfg->http.listen);
			return -EINVAL;
		}
	}
	/* Scrapes ask for a drain (drainreq.h), so metrics are never a poll
	 * behind; trace lines have no one to ask, and a person reads them. */
	if (!cfg->poll_ms)
		cfg->poll_ms = cfg->trace ? SBA_POLL_MS_TRACE : SBA_POLL_MS_DEFAULT;
	/* the observer parses as many connections as the kernel tracks */
	cfg->pipe.max_conns = cfg->max_conns;
	log_set_level(verbose >= 2 ? LOG_DEBUG + 1 : verbose ? LOG_DEBUG : LOG_INFO);
	return 0;
}

const char *sba_hooks_name(enum sba_hooks h)
{
	return h == SBA_HOOKS_RAW ? "raw" : h == SBA_HOOKS_SKB ? "skb" : "tp";
}
