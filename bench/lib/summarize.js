// SPDX-License-Identifier: Apache-2.0
// Summarises one bench/run.sh run: node summarize.js RESULTS_DIR
// Reads meta.json and phases.jsonl, prints the table on stdout, and writes
// summary.json and phases.csv next to them. No dependencies beyond Node.
//
// Statistics: medians over phases; on/off comparisons are paired within a
// round (each on-X phase against the off phase of the same round), so slow
// drift of the machine cancels; "[a, b]" is a 95% bootstrap interval of the
// median of those paired values (seeded, reproducible).
'use strict';
const fs = require('fs');
const path = require('path');
const { num, median, bootCI, sum } = require('./stats');
const { loadRun } = require('./run');

const dir = process.argv[2];
const { meta, phases } = loadRun(dir, 'summarize.js');

// ------------------------------------------------------------------ format
const f = (x, d = 2) => (num(x) ? x.toFixed(d) : '-');
const fi = (x) => (num(x) ? Math.round(x).toString() : '-');
const fs2 = (x, d = 2) => (num(x) ? (x >= 0 ? '+' : '') + x.toFixed(d) : '-');
const fpct = (x) => (num(x) ? (x >= 0 ? '+' : '') + (100 * x).toFixed(1) + '%' : '-');
const ci = (c, d = 2, fn = fs2) => (c ? ` [${fn(c[0], d)},${fn(c[1], d)}]` : "");
const cipct = (c) => (c ? ` [${fpct(c[0])}, ${fpct(c[1])}]` : '');
const pad = (s, w) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s, w) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

// ------------------------------------------------------------------ summary
const out = [];
const summary = { run: meta.run, meta, workloads: {} };
const p = (s = '') => out.push(s);

p(`sba-observer overhead benchmark, run ${meta.run}`);
p(`  ${meta.rounds} rounds x ${meta.phase_seconds}s measured (+${meta.warmup_seconds}s warm-up), seed ${meta.seed}; ` +
  `kernel ${meta.kernel}, node ${meta.node}, ${meta.ncpu} CPU ${meta.cpu_model}; load avg at start ${meta.loadavg_start}`);
p(`  observer ${meta.observer} ${meta.observer_args ? meta.observer_args + ' ' : ''}(git ${meta.git}); ` +
  `targets: ${meta.target_pid ? '--pid <app>' : 'default (every node process)'}; bpf_stats ${meta.bpf_stats ? 'on' : 'OFF'}; ` +
  `observer stats: ${meta.stats_signal === 'USR1' ? 'measured window (SIGUSR1)' : 'observer lifetime / all its requests'}`);

const workloads = [...new Set(phases.map((x) => x.workload))];
for (const w of workloads) {
  const wm = (meta.workload_meta || {})[w] || {};
  const u = wm.unit || phases.find((x) => x.workload === w).unit || 'req';
  const ph = phases.filter((x) => x.workload === w);
  const conds = [...new Set(ph.map((x) => x.cond))].sort((a, b) => (a === 'off' ? -1 : b === 'off' ? 1 : a < b ? -1 : 1));
  const ons = conds.filter((c) => c !== 'off');
  const rounds = [...new Set(ph.map((x) => x.round))];
  const get = (c) => ph.filter((x) => x.cond === c);
  const offBy = Object.fromEntries(get('off').map((x) => [x.round, x]));
  const pairs = (c, fn) => get(c).filter((x) => offBy[x.round]).map((x) => fn(x, offBy[x.round]));

  const S = { desc: wm.desc, unit: u, rounds: rounds.length, conds: {} };
  for (const c of conds) {
    const g = get(c);
    const m = (k) => median(g.map((x) => x[k]));
    const s = {
      phases: g.length,
      requests: sum(g.map((x) => x.requests)),
      rps: m('rps'),
      app_cpu_us_per_req: m('app_cpu_us_per_req'),
      app_sched_us_per_req: m('app_sched_us_per_req'),
      machine_busy_us_per_req: m('machine_busy_us_per_req'),
      lat_p50_us: m('lat_p50_us'),
      lat_p99_us: m('lat_p99_us'),
    };
    if (c !== 'off') {
      Object.assign(s, {
        bpf_ns_per_req: m('bpf_ns_per_req'),
        bpf_runs_per_req: m('bpf_runs_per_req'),
        ring_bytes_per_req: m('ring_bytes_per_req'),
        data_events_per_req: m('data_events_per_req'),
        bytes_captured_per_req: m('bytes_captured_per_req'),
        obs_cpu_us_per_req: m('obs_cpu_us_per_req'),
        obs_sched_us_per_req: m('obs_sched_us_per_req'),
        obs_ready_ms: m('obs_ready_ms'),
        drops_total: g.some((x) => num(x.drops_total)) ? sum(g.map((x) => x.drops_total)) : null,
        drops: g.reduce((acc, x) => {
          for (const [k, v] of Object.entries(x.drops || {})) acc[k] = (acc[k] || 0) + v;
          return acc;
        }, {}),
        stats_missing: g.filter((x) => !x.observer_stats).length,
        stats_window: g[0] && g[0].stats_window,
      });
      const rr = pairs(c, (x, o) => x.rps / o.rps);
      const dd = pairs(c, (x, o) => x.app_cpu_us_per_req - o.app_cpu_us_per_req);
      const ds = pairs(c, (x, o) => x.app_sched_us_per_req - o.app_sched_us_per_req);
      const cr = pairs(c, (x, o) => x.app_cpu_us_per_req / o.app_cpu_us_per_req);
      const dm = pairs(c, (x, o) => x.machine_busy_us_per_req - o.machine_busy_us_per_req);
      const tot = pairs(c, (x, o) => (x.app_sched_us_per_req + (x.obs_sched_us_per_req || 0)) / o.app_sched_us_per_req);
      Object.assign(s, {
        pairs: rr.length,
        rps_ratio: median(rr), rps_ratio_ci: bootCI(rr),
        added_us: median(dd), added_us_ci: bootCI(dd),
        added_sched_us: median(ds), added_sched_us_ci: bootCI(ds),
        cpu_ratio: median(cr), cpu_ratio_ci: bootCI(cr),
        total_cpu_ratio: median(tot),
        added_machine_us: median(dm), added_machine_us_ci: bootCI(dm),
      });
      // per program: runs per request and ns per run over all phases
      const progs = {};
      for (const x of g) {
        for (const pr of x.bpf_progs || []) {
          const a = progs[pr.name] || (progs[pr.name] = { run_cnt: 0, run_time_ns: 0, requests: 0 });
          a.run_cnt += pr.run_cnt; a.run_time_ns += pr.run_time_ns; a.requests += x.requests;
        }
      }
      s.progs = Object.fromEntries(Object.entries(progs).map(([k, a]) => [k, {
        runs_per_req: a.requests ? a.run_cnt / a.requests : null,
        ns_per_run: a.run_cnt ? a.run_time_ns / a.run_cnt : null,
        ns_per_req: a.requests ? a.run_time_ns / a.requests : null,
      }]));
    }
    S.conds[c] = s;
  }
  summary.workloads[w] = S;

  // ---- table
  const C = S.conds;
  const W0 = 29, W = 23;
  const row = (label, fn) => p(pad(label, W0) + conds.map((c) => lpad(fn(C[c], c), W)).join(''));
  p('');
  p(`== ${w}: ${wm.desc || ''}`);
  p(`   ${rounds.length} rounds; medians over phases; "paired" = on/off within a round, [95% bootstrap CI]`);
  const foreign = ph.filter((x) => x.foreign_bpf_progs > 0).length;
  S.phases_with_foreign_bpf = foreign;
  if (foreign) {
    p(`   WARNING: ${foreign} of ${ph.length} phases ran while tracing BPF programs of someone else were attached` +
      ` (another observer?): "off" was not off, and the numbers are not clean`);
  }
  row('', (s, c) => c);
  row(`${u}/s`, (s) => fi(s.rps));
  row(`  ratio on/off (paired)`, (s, c) => (c === 'off' ? '' : f(s.rps_ratio, 3) + ci(s.rps_ratio_ci, 3, f)));
  row(`app CPU µs/${u} (/proc stat)`, (s) => f(s.app_cpu_us_per_req));
  row(`  added µs/${u} (paired)`, (s, c) => (c === 'off' ? '' : fs2(s.added_us) + ci(s.added_us_ci)));
  row(`  ratio on/off (paired)`, (s, c) => (c === 'off' ? '' : f(s.cpu_ratio, 3) + ci(s.cpu_ratio_ci, 3, f)));
  row(`app CPU µs/${u} (schedstat)`, (s) => f(s.app_sched_us_per_req));
  row(`  added µs/${u} (paired)`, (s, c) => (c === 'off' ? '' : fs2(s.added_sched_us) + ci(s.added_sched_us_ci)));
  row(`BPF ns/${u} (all processes)`, (s, c) => (c === 'off' ? '' : fi(s.bpf_ns_per_req)));
  row(`BPF runs/${u}`, (s, c) => (c === 'off' ? '' : f(s.bpf_runs_per_req)));
  row(`ring bytes/${u}`, (s, c) => (c === 'off' ? '' : f(s.ring_bytes_per_req, 1)));
  row(`data events/${u}`, (s, c) => (c === 'off' ? '' : f(s.data_events_per_req)));
  row(`drops (all phases)`, (s, c) => (c === 'off' ? '' : (num(s.drops_total) ? String(s.drops_total) : 'n/a')));
  row(`observer CPU µs/${u}`, (s, c) => (c === 'off' ? '' : f(s.obs_sched_us_per_req)));
  row(`(app+observer)/app_off CPU`, (s, c) => (c === 'off' ? '' : f(s.total_cpu_ratio, 3)));
  row(`machine CPU µs/${u} (all CPUs)`, (s) => f(s.machine_busy_us_per_req));
  row(`  added µs/${u} (paired)`, (s, c) => (c === 'off' ? '' : fs2(s.added_machine_us) + ci(s.added_machine_us_ci)));
  if (C.off && num(C.off.lat_p50_us)) {
    row(`latency p50 / p99 µs`, (s) => `${fi(s.lat_p50_us)} / ${fi(s.lat_p99_us)}`);
  }
  row(`observer ready ms`, (s, c) => (c === 'off' ? '' : fi(s.obs_ready_ms)));
  // workloads that count what the observer captured (express50*): summed
  // over the on phases, exact (captured, sent = the app's own count)
  for (const c of ons) {
    const g = get(c).filter((x) => num(x.sent));
    if (!g.length) continue;
    const t = (k) => g.reduce((a, x) => a + (x[k] || 0), 0);
    const cap = t('captured'), sent = t('sent');
    const worst = Math.min(...g.map((x) => (x.sent ? x.captured / x.sent : 1)));
    C[c].captured = { captured: cap, sent, ratio: sent ? cap / sent : null, worst_phase_ratio: worst,
      obs_drops: t('obs_drops'), obs_lost_bytes: t('obs_lost_bytes'), parse_errors: t('parse_errors'),
      routes_folded: t('routes_folded'), tenants_folded: t('tenants_folded'), other_services: t('other_services') };
    const k = C[c].captured;
    p(`   ${c} captured/sent: ${k.captured}/${k.sent} = ${(100 * k.ratio).toFixed(4)} % (worst phase ${(100 * worst).toFixed(4)} %);` +
      ` drops ${k.obs_drops}, lost bytes ${k.obs_lost_bytes}, parse errors ${k.parse_errors}, folded routes/tenants ${k.routes_folded}/${k.tenants_folded}`);
  }
  for (const c of ons) {
    const s = C[c];
    // programs that cost at least 1 ns per request, most expensive first
    const names = Object.keys(s.progs || {}).filter((n) => s.progs[n].ns_per_req >= 1)
      .sort((a, b) => s.progs[b].ns_per_req - s.progs[a].ns_per_req);
    if (names.length) {
      p(`   ${c} BPF by program (runs/${u} x ns/run = ns/${u}):`);
      for (let i = 0; i < names.length; i += 2) {
        p('     ' + names.slice(i, i + 2).map((n) => {
          const q = s.progs[n];
          return pad(`${n} ${f(q.runs_per_req)} x ${fi(q.ns_per_run)} = ${fi(q.ns_per_req)}`, 48);
        }).join('').trimEnd());
      }
    }
    const dr = Object.entries(s.drops || {}).filter(([, v]) => v);
    if (dr.length) p(`   ${c} drops by reason: ` + dr.map(([k, v]) => `${k}=${v}`).join(' '));
    if (s.stats_missing) p(`   ${c}: ${s.stats_missing} phase(s) without an observer stats line`);
  }

  // ---- verdicts
  const verdict = (ok) => (ok === null ? 'n/a' : ok ? 'met' : 'NOT MET');
  S.targets = {};
  if (ons.length && (num(wm.target_loss_pct) || num(wm.target_added_us))) {
    p(`   targets (${wm.target_name || 'issue'}):`);
    for (const c of ons) {
      const s = C[c];
      const loss = num(s.rps_ratio) ? 1 - s.rps_ratio : null;
      const t = {};
      if (num(wm.target_loss_pct)) {
        t.throughput_loss = { value_pct: num(loss) ? 100 * loss : null, max_pct: wm.target_loss_pct,
          met: num(loss) ? 100 * loss <= wm.target_loss_pct : null };
        p(`     ${pad(c, 8)} throughput loss <= ${wm.target_loss_pct}%: ${pad(verdict(t.throughput_loss.met), 8)}` +
          ` (${num(loss) ? (100 * loss).toFixed(1) + '%' : '-'}` +
          `${s.rps_ratio_ci ? `, CI ${(100 * (1 - s.rps_ratio_ci[1])).toFixed(1)}%..${(100 * (1 - s.rps_ratio_ci[0])).toFixed(1)}%` : ''})`);
      }
      if (num(wm.target_added_us)) {
        t.added_cpu = { value_us: s.added_us, max_us: wm.target_added_us,
          met: num(s.added_us) ? s.added_us <= wm.target_added_us : null };
        p(`     ${pad(c, 8)} added CPU <= ${wm.target_added_us} µs/${u}: ${pad(verdict(t.added_cpu.met), 8)}` +
          ` (${fs2(s.added_us)} µs${ci(s.added_us_ci)}; BPF of all processes ${f(num(s.bpf_ns_per_req) ? s.bpf_ns_per_req / 1000 : null, 3)} µs)`);
      }
      S.targets[c] = t;
    }
  }
  if (ons.length > 1) {
    const byBpf = ons.filter((c) => num(C[c].bpf_ns_per_req)).sort((a, b) => C[a].bpf_ns_per_req - C[b].bpf_ns_per_req);
    const byCpu = ons.filter((c) => num(C[c].added_us)).sort((a, b) => C[a].added_us - C[b].added_us);
    if (byBpf.length > 1) {
      p(`   cheaper flavour per ${u}: by BPF run time ${byBpf[0]} (` +
        byBpf.map((c) => `${c} ${fi(C[c].bpf_ns_per_req)} ns`).join(' vs ') + `); by added app CPU ${byCpu[0] || '-'} (` +
        byCpu.map((c) => `${c} ${fs2(C[c].added_us)} µs`).join(' vs ') + ')');
      S.cheaper_by_bpf = byBpf[0];
      S.cheaper_by_cpu = byCpu[0] || null;
    }
  }
}
p('');
p(`raw data: ${path.join(dir, 'phases.jsonl')} (also phases.csv); this table: summary.txt, summary.json`);
console.log(out.join('\n'));

fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
// CSV: one line per phase, scalar fields only (per-program data in the JSONL)
const cols = ['workload', 'unit', 'round', 'pos', 'cond', 'hooks', 'secs', 'requests', 'rps',
  'app_cpu_us', 'app_cpu_us_per_req', 'app_sched_us_per_req', 'machine_busy_us_per_req',
  'obs_cpu_us_per_req', 'obs_sched_us_per_req', 'obs_ready_ms', 'bpf_ns_per_req', 'bpf_runs_per_req',
  'stats_window', 'stats_requests', 'ring_bytes_per_req', 'data_events_per_req', 'bytes_captured_per_req',
  'drops_total', 'lat_p50_us', 'lat_p99_us', 'client_errors', 'sent', 'captured', 'captured_ratio', 'obs_drops', 'delay_ms'];
const csv = [cols.join(',')].concat(phases.map((x) => cols.map((k) => {
  const v = x[k];
  return v === null || v === undefined ? '' : typeof v === 'number' ? String(+v.toFixed(6)) : String(v);
}).join(',')));
fs.writeFileSync(path.join(dir, 'phases.csv'), csv.join('\n') + '\n');
