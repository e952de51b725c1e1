// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of expo.c: exact text 0.0.4 and OpenMetrics output, escaping,
 * refusals, negotiation, gzip, `promtool check metrics` when promtool is
 * installed, and the 10,000-histogram render time.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "expo.h"

static const double bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BOUNDS (sizeof(bounds) / sizeof(bounds[0]))

/* Renders a small exposition that uses every feature, in fmt. */
static void render_sample(struct buf *out, enum expo_format fmt)
{
	struct expo e;
	uint64_t counts[N_BOUNDS + 1] = { 1, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 3 };
	const struct expo_label lbl[] = { { "service", "api" }, { "route", "/users/:id" } };
	const struct expo_label tid[] = { { "trace_id", "4bf92f3577b34da6" } };
	const struct expo_exemplar ex2 = { tid, 1, 0.02, 1700000000.5 };
	const struct expo_exemplar *exs[N_BOUNDS + 1] = { [2] = &ex2 };

	expo_init(&e, out, fmt, NULL);
	CHECK_EQ_INT(expo_family(&e, "sba_observer_events_total", EXPO_COUNTER, "Records decoded."), 0);
	expo_counter(&e, NULL, 0, 42);
	CHECK_EQ_INT(expo_family(&e, "sba_observer_dropped_events", EXPO_COUNTER, "Drops."), 0);
	expo_counter(&e, (struct expo_label[]){ { "reason", "ringbuf_full" } }, 1, 0);
	expo_counter(&e, (struct expo_label[]){ { "reason", "copy_fault" } }, 1, 7);
	CHECK_EQ_INT(expo_family(&e, "sba_observer_resident_memory_bytes", EXPO_GAUGE, "RSS."), 0);
	expo_gauge(&e, NULL, 0, 1048576);
	CHECK_EQ_INT(expo_family(&e, "sba_http_server_request_duration_seconds", EXPO_HISTOGRAM,
				 "Latency."), 0);
	expo_histogram(&e, lbl, 2,
		       &(struct expo_hist){ bounds, N_BOUNDS, counts, false, 1.234567891, exs });
	CHECK_EQ_INT(expo_finish(&e), 0);
	CHECK_EQ_INT(e.series, 5);
	CHECK_EQ_INT(e.skipped, 0);
}

static const char *const hist_lines =
	"sba_http_server_request_duration_seconds_bucket{service=\"api\",route=\"/users/:id\",le=\"%s\"} %s\n";

static void expect_hist(struct buf *want, bool om)
{
	static const char *const le_text[] = { "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
					       "0.5", "1", "2.5", "5", "10", "+Inf" };
	static const char *const le_om[] = { "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
					     "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf" };
	static const char *const cum[] = { "1", "1", "3", "3", "3", "3", "3", "4", "4", "4", "4", "7" };

	for (int i = 0; i < 12; i++) {
		char c[80];

		snprintf(c, sizeof(c), "%s%s", cum[i],
			 om && i == 2 ? " # {trace_id=\"4bf92f3577b34da6\"} 0.02 1700000000.5" : "");
		buf_printf(want, hist_lines, om ? le_om[i] : le_text[i], c);
	}
	buf_puts(want, "sba_http_server_request_duration_seconds_sum{service=\"api\",route=\"/users/:id\"} 1.234567891\n"
		       "sba_http_server_request_duration_seconds_count{service=\"api\",route=\"/users/:id\"} 7\n");
}

static void test_text_format_exact(void)
{
	struct buf out, want;

	buf_init(&out, 0);
	buf_init(&want, 0);
	render_sample(&out, EXPO_FMT_TEXT);
	buf_puts(&want, "# HELP sba_observer_events_total Records decoded.\n"
			"# TYPE sba_observer_events_total counter\n"
			"sba_observer_events_total 42\n"
			"# HELP sba_observer_dropped_events_total Drops.\n"
			"# TYPE sba_observer_dropped_events_total counter\n"
			"sba_observer_dropped_events_total{reason=\"ringbuf_full\"} 0\n"
			"sba_observer_dropped_events_total{reason=\"copy_fault\"} 7\n"
			"# HELP sba_observer_resident_memory_bytes RSS.\n"
			"# TYPE sba_observer_resident_memory_bytes gauge\n"
			"sba_observer_resident_memory_bytes 1048576\n"
			"# HELP sba_http_server_request_duration_seconds Latency.\n"
			"# TYPE sba_http_server_request_duration_seconds histogram\n");
	expect_hist(&want, false);
	CHECK_EQ_STR(buf_cstr(&out), buf_cstr(&want));
	buf_free(&out);
	buf_free(&want);
}

static void test_openmetrics_exact(void)
{
	struct buf out, want;

	buf_init(&out, 0);
	buf_init(&want, 0);
	render_sample(&out, EXPO_FMT_OPENMETRICS);
	/* The family is named without _total; samples carry it; exemplars on
	 * buckets; le canonical ("1.0"); # EOF last. */
	buf_puts(&want, "# HELP sba_observer_events Records decoded.\n"
			"# TYPE sba_observer_events counter\n"
			"sba_observer_events_total 42\n"
			"# HELP sba_observer_dropped_events Drops.\n"
			"# TYPE sba_observer_dropped_events counter\n"
			"sba_observer_dropped_events_total{reason=\"ringbuf_full\"} 0\n"
			"sba_observer_dropped_events_total{reason=\"copy_fault\"} 7\n"
			"# HELP sba_observer_resident_memory_bytes RSS.\n"
			"# TYPE sba_observer_resident_memory_bytes gauge\n"
			"sba_observer_resident_memory_bytes 1048576\n"
			"# HELP sba_http_server_request_duration_seconds Latency.\n"
			"# TYPE sba_http_server_request_duration_seconds histogram\n");
	expect_hist(&want, true);
	buf_puts(&want, "# EOF\n");
	CHECK_EQ_STR(buf_cstr(&out), buf_cstr(&want));
	buf_free(&out);
	buf_free(&want);
}

static void test_label_value_escaping(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain", "plain" },
		{ "a\\b", "a\\\\b" },
		{ "say \"hi\"", "say \\\"hi\\\"" },
		{ "two\nlines", "two\\nlines" },
		{ "\\\"\n", "\\\\\\\"\\n" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },			/* valid UTF-8 kept */
		{ "\xe2\x82\xac 5", "\xe2\x82\xac 5" },			/* euro sign */
		{ "bad\xff", "bad\xef\xbf\xbd" },			/* invalid byte -> U+FFFD */
		{ "cut\xe2\x82", "cut\xef\xbf\xbd\xef\xbf\xbd" },	/* truncated sequence */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },		/* overlong */
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf out, want;
		struct expo e;

		buf_init(&out, 0);
		buf_init(&want, 0);
		expo_init(&e, &out, EXPO_FMT_TEXT, NULL);
		expo_family(&e, "m", EXPO_GAUGE, NULL);
		expo_gauge(&e, (struct expo_label[]){ { "v", cases[i].in } }, 1, 1);
		CHECK_EQ_INT(expo_finish(&e), 0);
		buf_printf(&want, "# HELP m \n# TYPE m gauge\nm{v=\"%s\"} 1\n", cases[i].want);
		CHECK_MSG(!strcmp(buf_cstr(&out), buf_cstr(&want)), "case %zu: got %s", i,
			  buf_cstr(&out));
		buf_free(&out);
		buf_free(&want);
	}
}

static void test_help_escaping(void)
{
	struct buf out;
	struct expo e;

	buf_init(&out, 0);
	expo_init(&e, &out, EXPO_FMT_TEXT, NULL);
	expo_family(&e, "m", EXPO_GAUGE, "back\\slash \"q\"\nnext");
	expo_finish(&e);
	/* 0.0.4: \\ and \n escaped in HELP, quotes left alone */
	CHECK_EQ_STR(buf_cstr(&out), "# HELP m back\\\\slash \"q\"\\nnext\n# TYPE m gauge\n");
	buf_reset(&out);
	expo_init(&e, &out, EXPO_FMT_OPENMETRICS, NULL);
	expo_family(&e, "m", EXPO_GAUGE, "back\\slash \"q\"\nnext");
	expo_finish(&e);
	/* OpenMetrics escapes quotes too */
	CHECK_EQ_STR(buf_cstr(&out),
		     "# HELP m back\\\\slash \\\"q\\\"\\nnext\n# TYPE m gauge\n# EOF\n");
	buf_free(&out);
}

static void test_refusals(void)
{
	const double bad_bounds[] = { 1, 1 }, inf_bounds[] = { 1, INFINITY };
	uint64_t c[3] = { 1, 2, 3 };
	struct buf out;
	struct expo e;

	buf_init(&out, 0);
	expo_init(&e, &out, EXPO_FMT_TEXT, NULL);
	CHECK_EQ_INT(expo_family(&e, "9starts_with_digit", EXPO_GAUGE, NULL), -EINVAL);
	CHECK_EQ_INT(expo_family(&e, "has-dash", EXPO_GAUGE, NULL), -EINVAL);
	CHECK_EQ_INT(expo_family(&e, "", EXPO_GAUGE, NULL), -EINVAL);
	expo_gauge(&e, NULL, 0, 1);	/* no family: ignored */
	CHECK_EQ_INT(expo_family(&e, "ok_total", EXPO_COUNTER, NULL), 0);
	expo_counter(&e, (struct expo_label[]){ { "__reserved", "x" } }, 1, 1);
	expo_counter(&e, (struct expo_label[]){ { "bad-name", "x" } }, 1, 1);
	expo_counter(&e, (struct expo_label[]){ { "v", NULL } }, 1, 1);
	expo_gauge(&e, NULL, 0, 1);	/* wrong type for the family: ignored */
	CHECK_EQ_INT(expo_family(&e, "ok", EXPO_COUNTER, NULL), -EEXIST);	/* same family */
	expo_counter(&e, NULL, 0, 5);	/* ignored: the family was refused */
	CHECK_EQ_INT(expo_family(&e, "h", EXPO_HISTOGRAM, NULL), 0);
	expo_histogram(&e, (struct expo_label[]){ { "le", "1" } }, 1,
		       &(struct expo_hist){ bounds, 1, c, false, 0, NULL });
	expo_histogram(&e, NULL, 0, &(struct expo_hist){ bad_bounds, 2, c, false, 0, NULL });
	expo_histogram(&e, NULL, 0, &(struct expo_hist){ inf_bounds, 2, c, false, 0, NULL });
	expo_histogram(&e, NULL, 0, &(struct expo_hist){ bounds, 1, NULL, false, 0, NULL });
	expo_histogram(&e, NULL, 0, &(struct expo_hist){ bounds, EXPO_MAX_BUCKETS + 1, c, false, 0, NULL });
	expo_histogram(&e, NULL, 0, NULL);
	/* cumulative counts that decrease are not a histogram */
	expo_histogram(&e, NULL, 0, &(struct expo_hist){ bounds, 2, (uint64_t[]){ 2, 1, 3 }, true, 0, NULL });
	CHECK_EQ_INT(expo_finish(&e), 0);
	CHECK_EQ_INT(e.series, 0);
	CHECK_EQ_INT(e.skipped, 3 + 3 + 1 + 7);
	CHECK_EQ_STR(buf_cstr(&out), "# HELP ok_total \n# TYPE ok_total counter\n"
				     "# HELP h \n# TYPE h histogram\n");
	buf_free(&out);
}

static void test_prefix_filter_and_empty_histogram(void)
{
	uint64_t c[1] = { 2 };
	struct buf out;
	struct expo e;

	buf_init(&out, 0);
	expo_init(&e, &out, EXPO_FMT_OPENMETRICS, "sba_worker_");
	CHECK_EQ_INT(expo_family(&e, "sba_observer_x", EXPO_GAUGE, "no"), 1);
	expo_gauge(&e, NULL, 0, 1);
	CHECK_EQ_INT(expo_family(&e, "sba_worker_jobs", EXPO_HISTOGRAM, "yes"), 0);
	expo_histogram(&e, NULL, 0, &(struct expo_hist){ NULL, 0, c, false, 0.5, NULL }); /* +Inf only */
	CHECK_EQ_INT(expo_finish(&e), 0);
	CHECK_EQ_STR(buf_cstr(&out), "# HELP sba_worker_jobs yes\n# TYPE sba_worker_jobs histogram\n"
				     "sba_worker_jobs_bucket{le=\"+Inf\"} 2\n"
				     "sba_worker_jobs_sum 0.5\nsba_worker_jobs_count 2\n# EOF\n");
	buf_free(&out);
}

static void test_exemplar_too_long_is_dropped(void)
{
	char big[140];
	uint64_t c[2] = { 1, 0 };
	const double b[] = { 1 };
	struct buf out;
	struct expo e;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	const struct expo_label l[] = { { "trace_id", big } };
	const struct expo_exemplar x = { l, 1, 0.5, 0 };
	const struct expo_exemplar *xs[2] = { &x, NULL };

	buf_init(&out, 0);
	expo_init(&e, &out, EXPO_FMT_OPENMETRICS, NULL);
	expo_family(&e, "h", EXPO_HISTOGRAM, NULL);
	expo_histogram(&e, NULL, 0, &(struct expo_hist){ b, 1, c, false, 0.5, xs });
	expo_finish(&e);
	CHECK(!strstr(buf_cstr(&out), "trace_id"));
	CHECK(strstr(buf_cstr(&out), "h_bucket{le=\"1.0\"} 1\n") != NULL);
	buf_free(&out);
}

static void test_format_double(void)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 0, "0" },	     { 1, "1" },	   { -3, "-3" },
		{ 0.5, "0.5" },	     { 0.005, "0.005" },   { 1.234567891, "1.234567891" },
		{ -0.25, "-0.25" },  { 1e20, "1e+20" },	   { 0.1 + 0.2, "0.30000000000000004" },
		{ 1e-12, "1e-12" },  { 123456.000001, "123456.000001" },
	};
	char s[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = expo_format_double(s, cases[i].v);

		s[n] = 0;
		CHECK_MSG(!strcmp(s, cases[i].want), "%zu: got %s, want %s", i, s, cases[i].want);
		CHECK_MSG(strtod(s, NULL) == cases[i].v, "%zu: %s does not read back", i, s);
	}
	s[expo_format_double(s, INFINITY)] = 0;
	CHECK_EQ_STR(s, "+Inf");
	s[expo_format_double(s, -INFINITY)] = 0;
	CHECK_EQ_STR(s, "-Inf");
	s[expo_format_double(s, NAN)] = 0;
	CHECK_EQ_STR(s, "NaN");
}

static void test_negotiate(void)
{
	/* What Prometheus 2.42 sends. */
	CHECK_EQ_INT(expo_negotiate("application/openmetrics-text;version=1.0.0,application/"
				    "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
				    "q=0.5,*/*;q=0.1"),
		     EXPO_FMT_OPENMETRICS);
	CHECK_EQ_INT(expo_negotiate(NULL), EXPO_FMT_TEXT);
	CHECK_EQ_INT(expo_negotiate("*/*"), EXPO_FMT_TEXT);
	CHECK_EQ_INT(expo_negotiate("text/plain"), EXPO_FMT_TEXT);
	CHECK_EQ_INT(expo_negotiate("application/openmetrics-text"), EXPO_FMT_OPENMETRICS);
	CHECK_EQ_INT(expo_negotiate("application/openmetrics-text; version=\"1.0.0\"; q=0.9"),
		     EXPO_FMT_OPENMETRICS);
	CHECK_EQ_INT(expo_negotiate("application/openmetrics-text;version=1.0.0;q=0,text/plain"),
		     EXPO_FMT_TEXT);
	CHECK_EQ_INT(expo_negotiate("application/openmetrics-text;version=0.0.1"), EXPO_FMT_TEXT);
	CHECK_EQ_INT(expo_negotiate("text/plain;q=1, application/openmetrics-text;q=0.5"),
		     EXPO_FMT_TEXT);
	CHECK_EQ_INT(expo_negotiate("application/openmetrics-text;q=abc"), EXPO_FMT_TEXT);
	CHECK_EQ_STR(expo_content_type(EXPO_FMT_TEXT), "text/plain; version=0.0.4; charset=utf-8");
	CHECK_EQ_STR(expo_content_type(EXPO_FMT_OPENMETRICS),
		     "application/openmetrics-text; version=1.0.0; charset=utf-8");

	CHECK(expo_accepts_gzip("gzip"));
	CHECK(expo_accepts_gzip("deflate, gzip;q=0.5"));
	CHECK(expo_accepts_gzip("identity, x-gzip"));
	CHECK(expo_accepts_gzip("GZIP"));
	CHECK(!expo_accepts_gzip("gzip;q=0"));
	CHECK(!expo_accepts_gzip("identity"));
	CHECK(!expo_accepts_gzip("gzipx"));
	CHECK(!expo_accepts_gzip(""));
	CHECK(!expo_accepts_gzip(NULL));
}

static void test_gzip_round_trip(void)
{
	struct buf in, gz;
	unsigned char *back;
	uLongf back_len;
	z_stream zs;

	buf_init(&in, 0);
	buf_init(&gz, 0);
	render_sample(&in, EXPO_FMT_TEXT);
	for (int i = 0; i < 2000; i++)	/* bigger than one 64 KiB output chunk */
		buf_printf(&in, "line_%d %d\n", i, rand());
	CHECK_EQ_INT(expo_gzip(in.data, in.len, &gz), 0);
	CHECK(gz.len > 18 && (unsigned char)gz.data[0] == 0x1f && (unsigned char)gz.data[1] == 0x8b);
	back_len = in.len + 16;
	back = malloc(back_len);
	memset(&zs, 0, sizeof(zs));
	CHECK(inflateInit2(&zs, 15 + 16) == Z_OK);
	zs.next_in = (unsigned char *)gz.data;
	zs.avail_in = (uInt)gz.len;
	zs.next_out = back;
	zs.avail_out = (uInt)back_len;
	CHECK_EQ_INT(inflate(&zs, Z_FINISH), Z_STREAM_END);
	CHECK_EQ_INT(zs.total_out, in.len);
	CHECK(memcmp(back, in.data, in.len) == 0);
	inflateEnd(&zs);
	free(back);
	/* empty input is still a valid gzip stream */
	buf_reset(&gz);
	CHECK_EQ_INT(expo_gzip("", 0, &gz), 0);
	CHECK(gz.len >= 20);
	buf_free(&in);
	buf_free(&gz);
}

static void test_oom_is_reported(void)
{
	struct buf out;
	struct expo e;

	buf_init(&out, 64);
	expo_init(&e, &out, EXPO_FMT_TEXT, NULL);
	expo_family(&e, "a_long_enough_family_name", EXPO_GAUGE, "help that does not fit in 64");
	expo_gauge(&e, NULL, 0, 1);
	CHECK_EQ_INT(expo_finish(&e), -ENOMEM);
	buf_free(&out);
}

/* promtool exits 0 and prints nothing for a clean exposition. */
static int promtool_check(const struct buf *b, char *msg, size_t msgsz)
{
	char path[] = "/tmp/test_expo_XXXXXX", cmd[128];
	FILE *f, *p;
	size_t n;
	int fd, rc;

	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	fwrite(b->data, 1, b->len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	p = popen(cmd, "r");
	n = p ? fread(msg, 1, msgsz - 1, p) : 0;
	msg[n] = 0;
	rc = p ? pclose(p) : -1;
	unlink(path);
	return rc;
}

static void test_promtool_accepts_output(void)
{
	uint64_t counts[N_BOUNDS + 1] = { 0 };
	struct buf out;
	struct expo e;
	char msg[4096];

	if (system("command -v promtool >/dev/null 2>&1") != 0)
		SKIP("promtool not installed (apt-get install prometheus)");
	buf_init(&out, 0);
	render_sample(&out, EXPO_FMT_TEXT);
	/* plus escaping and invalid UTF-8, which promtool would reject raw */
	expo_init(&e, &out, EXPO_FMT_TEXT, NULL);
	expo_family(&e, "sba_http_server_requests", EXPO_COUNTER, "Requests \"served\".\nSecond line.");
	expo_counter(&e, (struct expo_label[]){ { "route", "/a\\b\"c\nd\xff" } }, 1, 3);
	expo_family(&e, "sba_worker_job_duration_seconds", EXPO_HISTOGRAM, "Job durations.");
	expo_histogram(&e, (struct expo_label[]){ { "queue", "emails" } }, 1,
		       &(struct expo_hist){ bounds, N_BOUNDS, counts, false, 0, NULL });
	CHECK_EQ_INT(expo_finish(&e), 0);
	CHECK_MSG(promtool_check(&out, msg, sizeof(msg)) == 0 && !msg[0], "promtool: %s", msg);

	/* and the check itself can fail: a duplicate HELP line is an error */
	buf_puts(&out, "# HELP sba_http_server_requests_total again\n");
	CHECK(promtool_check(&out, msg, sizeof(msg)) != 0);
	buf_free(&out);
}

static void test_cumulative_counts(void)
{
	const double b[] = { 0.1, 1 };
	struct buf x, y;
	struct expo e;

	buf_init(&x, 0);
	buf_init(&y, 0);
	expo_init(&e, &x, EXPO_FMT_TEXT, NULL);
	expo_family(&e, "h", EXPO_HISTOGRAM, NULL);
	expo_histogram(&e, NULL, 0, &(struct expo_hist){ b, 2, (uint64_t[]){ 1, 2, 4 }, false, 1, NULL });
	expo_finish(&e);
	expo_init(&e, &y, EXPO_FMT_TEXT, NULL);
	expo_family(&e, "h", EXPO_HISTOGRAM, NULL);
	expo_histogram(&e, NULL, 0, &(struct expo_hist){ b, 2, (uint64_t[]){ 1, 3, 7 }, true, 1, NULL });
	expo_finish(&e);
	CHECK_EQ_STR(buf_cstr(&x), buf_cstr(&y));
	CHECK(strstr(buf_cstr(&x), "h_bucket{le=\"+Inf\"} 7\nh_sum 1\nh_count 7\n") != NULL);
	buf_free(&x);
	buf_free(&y);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The default layout of hist.h (19 bounds, 21 lines per series). */
static const double hist_default[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075,
				       0.1,   0.15,	0.2,   0.25, 0.3,   0.4,  0.5,
				       0.75,  1,	2.5,   5,    10 };
#define N_DEFAULT (sizeof(hist_default) / sizeof(hist_default[0]))

/* Best of 5 renders of 10,000 series into a reused buffer, in ms. */
static double render_10k(enum expo_format fmt, bool whole_ns, size_t *bytes)
{
	static char routes[10000][32];
	struct expo_label lbl[3] = { { "service", "checkout" }, { "route", NULL }, { "method", "GET" } };
	uint64_t counts[N_DEFAULT + 1];
	double best = 1e9;
	struct buf out;

	for (int i = 0; i < 10000; i++)
		snprintf(routes[i], sizeof(routes[i]), "/api/v1/items/%d/:id", i);
	buf_init(&out, 0);
	for (int round = 0; round < 5; round++) {
		struct expo e;
		double t0, dt;

		buf_reset(&out);
		t0 = now_ms();
		expo_init(&e, &out, fmt, NULL);
		expo_family(&e, "sba_http_server_request_duration_seconds", EXPO_HISTOGRAM,
			    "Duration of HTTP requests served, from the first byte read to the "
			    "last byte written.");
		for (int i = 0; i < 10000; i++) {
			/* sums as hist.h keeps them: whole nanoseconds, or any double */
			double sum = whole_ns ? (double)((uint64_t)i * 1234567891ULL) / 1e9
					      : i * 0.001234 + 1e-10 * i;

			for (unsigned int b = 0; b <= N_DEFAULT; b++)
				counts[b] = (uint64_t)(i * 7 + b * 13);
			lbl[1].value = routes[i];
			expo_histogram(&e, lbl, 3,
				       &(struct expo_hist){ hist_default, N_DEFAULT, counts, false, sum, NULL });
		}
		CHECK_EQ_INT(expo_finish(&e), 0);
		CHECK_EQ_INT(e.series, 10000);
		dt = now_ms() - t0;
		if (dt < best)
			best = dt;
		*bytes = out.len;
	}
	buf_free(&out);
	return best;
}

/* The budget: 10,000 series in 10 ms (50 ms under ASan). */
static void test_render_10k_histograms_fast(void)
{
	double limit = 10, t, t_any, t_om;
	size_t bytes, b2;

#if defined(__SANITIZE_ADDRESS__)
	limit = 50;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	limit = 50;
#endif
#endif
	t = render_10k(EXPO_FMT_TEXT, true, &bytes);
	t_om = render_10k(EXPO_FMT_OPENMETRICS, true, &b2);
	t_any = render_10k(EXPO_FMT_TEXT, false, &b2);
	printf("     render 10000 histogram series (%u buckets, %zu bytes): %.2f ms text, "
	       "%.2f ms openmetrics, %.2f ms with sums not whole ns (limit %.0f ms)\n",
	       (unsigned)N_DEFAULT + 1, bytes, t, t_om, t_any, limit);
	CHECK_MSG(t <= limit, "%.2f ms > %.0f ms", t, limit);
	CHECK_MSG(t_om <= limit, "%.2f ms > %.0f ms", t_om, limit);
}

int main(void)
{
	RUN(test_text_format_exact);
	RUN(test_openmetrics_exact);
	RUN(test_label_value_escaping);
	RUN(test_help_escaping);
	RUN(test_refusals);
	RUN(test_prefix_filter_and_empty_histogram);
	RUN(test_exemplar_too_long_is_dropped);
	RUN(test_format_double);
	RUN(test_negotiate);
	RUN(test_gzip_round_trip);
	RUN(test_oom_is_reported);
	RUN(test_promtool_accepts_output);
	RUN(test_cumulative_counts);
	RUN(test_render_10k_histograms_fast);
	return check_summary();
}
