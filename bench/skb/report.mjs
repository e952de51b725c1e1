// SPDX-License-Identifier: Apache-2.0
// node bench/skb/report.mjs RUN_DIR: what bench/lib/summarize.js does not
// print for the cgroup_skb comparison: wrk's CPU per request (from the
// "wrk_cpu_us" line bench/skb/bin/wrk appends to each report), where the added
// CPU lands (app, wrk, whole machine), per-program BPF time, and the checks
// on the captured bytes. Paired = on minus off of the same round; medians,
// [min, max] of the pairs.
import { readFileSync, existsSync } from 'node:fs';

const dir = process.argv[2];
const phases = readFileSync(`${dir}/phases.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const median = (a) => {
	const s = a.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
	if (!s.length) return NaN;
	const m = s.length >> 1;
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const range = (a) => `[${Math.min(...a).toFixed(2)}, ${Math.max(...a).toFixed(2)}]`;

for (const p of phases) {
	const f = `${dir}/logs/${p.workload}.r${p.round}.${p.cond}.wrk`;
	const txt = existsSync(f) ? readFileSync(f, 'utf8') : '';
	const cpu = /^wrk_cpu_us (\d+)/m.exec(txt);
	const req = /(\d+) requests in/.exec(txt);
	const ksi = /^ksoftirqd_us (\d+)/m.exec(txt);
	p.wrk_us_per_req = cpu && req ? Number(cpu[1]) / Number(req[1]) : NaN;
	p.ksoftirqd_us_per_req = ksi && req ? Number(ksi[1]) / Number(req[1]) : NaN;
	p.app_us = p.app_sched_us_per_req;
	p.sum_us = p.app_us + p.wrk_us_per_req + (p.obs_sched_us_per_req || 0) + p.ksoftirqd_us_per_req;
	p.rest_us = p.machine_busy_us_per_req - p.sum_us;
}
const conds = [...new Set(phases.map((p) => p.cond))];
const by = (c) => phases.filter((p) => p.cond === c);
const off = new Map(by('off').map((p) => [p.round, p]));
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

console.log(`run ${dir}: ${phases.length} phases, conditions ${conds.join(', ')}`);
const rows = [
	['req/s', (p) => p.rps, 0],
	['app CPU µs/req (schedstat, CPU0)', (p) => p.app_us, 2],
	['wrk CPU µs/req (CPU1)', (p) => p.wrk_us_per_req, 2],
	['observer CPU µs/req (CPU1)', (p) => p.obs_sched_us_per_req ?? 0, 2],
	['ksoftirqd CPU µs/req', (p) => p.ksoftirqd_us_per_req, 2],
	['app + wrk + observer + ksoftirqd µs/req', (p) => p.sum_us, 2],
	['machine busy µs/req (all CPUs)', (p) => p.machine_busy_us_per_req, 2],
	['  rest (machine - the above: other users)', (p) => p.rest_us, 2],
];
console.log(['metric (median)', ...conds].join(' | '));
for (const [name, fn, d] of rows) console.log([name, ...conds.map((c) => fmt(median(by(c).map(fn)), d))].join(' | '));

const paired = [
	['req/s ratio on/off', (p, o) => p.rps / o.rps, 3],
	['added app µs/req', (p, o) => p.app_us - o.app_us, 2],
	['added wrk µs/req', (p, o) => p.wrk_us_per_req - o.wrk_us_per_req, 2],
	['observer µs/req', (p) => p.obs_sched_us_per_req ?? 0, 2],
	['added ksoftirqd µs/req', (p, o) => p.ksoftirqd_us_per_req - o.ksoftirqd_us_per_req, 2],
	['added app+wrk+observer+ksoftirqd µs/req', (p, o) => p.sum_us - o.sum_us, 2],
	['added machine µs/req', (p, o) => p.machine_busy_us_per_req - o.machine_busy_us_per_req, 2],
];
console.log('\npaired with the off phase of the same round: median [min, max]');
for (const c of conds.filter((c) => c !== 'off')) {
	const ps = by(c).filter((p) => off.has(p.round));
	for (const [name, fn, d] of paired) {
		const v = ps.map((p) => fn(p, off.get(p.round)));
		console.log(`${c} ${name}: ${fmt(median(v), d)} ${range(v)} (n=${v.length})`);
	}
	// per program: ns per run, runs per request, over all phases of c
	const progs = {};
	let reqs = 0;
	for (const p of ps) {
		reqs += p.requests;
		for (const pr of p.bpf_progs || []) {
			const x = (progs[pr.name] ||= { ns: 0, runs: 0 });
			x.ns += pr.run_time_ns;
			x.runs += pr.run_cnt;
		}
	}
	let tot = 0;
	for (const [n, x] of Object.entries(progs)) {
		tot += x.ns / reqs;
		console.log(`${c} ${n}: ${fmt(x.ns / x.runs, 0)} ns/run x ${fmt(x.runs / reqs, 2)} runs/req = ${fmt(x.ns / reqs, 0)} ns/req`);
	}
	console.log(`${c} BPF total: ${fmt(tot, 0)} ns/req`);
	const ring = ps.map((p) => p.ring_bytes_per_req), ev = ps.map((p) => p.data_events_per_req);
	const drops = ps.reduce((a, p) => a + (p.drops_total || 0), 0);
	console.log(`${c} records/req ${fmt(median(ev))}, ring bytes/req ${fmt(median(ring), 0)}, drops ${drops}, foreign BPF phases ${ps.filter((p) => p.foreign_bpf_progs > 0).length}`);
	const s = ps.map((p) => p.observer_stats?.stats).filter((x) => x && 'get' in x);
	if (s.length) {
		const sum = (k) => s.reduce((a, x) => a + x[k], 0);
		console.log(`${c} checks (observer lifetime, all phases): ingress records ${sum('records_ingress')}, ` +
			`"GET /" ${sum('get')}; egress ${sum('records_egress')}, "HTTP/1.1 200" ${sum('http200')}; ` +
			`other ${sum('other')}; seq in order ${sum('in_order')}, seq gaps ${sum('seq_gap')}; ` +
			`target sockets ${sum('socks')}, first seen while node was current ${sum('socks_first_seen_in_node')}; ` +
			`records made on CPU0 (app's) / CPU1 (wrk's): ingress ${sum('ingress_cpu0')} / ${sum('ingress_cpu_other')}, ` +
			`egress ${sum('egress_cpu0')} / ${sum('egress_cpu_other')}`);
	}
}
