// SPDX-License-Identifier: Apache-2.0
// Summarises one bench/twin/run.sh run: node summarize.js RESULTS_DIR
// Reads meta.json and phases.jsonl, prints the table, writes summary.json.
//
// Per round, with x = requests of A / requests of B in a phase:
//   loss(A) = 1 - x(on-a) / x(off)      loss(B) = 1 - x(off) / x(on-b)
// (the watched copy's share of the shared CPU, against the same copies
// unwatched in the same round), and the round's loss is their mean. The
// added CPU per request of the watched copy is, likewise, its CPU per
// request minus the other's, less that difference in off. Medians over
// rounds, [95% bootstrap interval].
'use strict';
const fs = require('fs');
const path = require('path');
const { num, median, bootCI, sum } = require('../lib/stats');
const { loadRun } = require('../lib/run');

const dir = process.argv[2];
const { meta, phases } = loadRun(dir, 'summarize.js');

const ratio = (p) => (p && p.b_reqs > 0 ? p.a_reqs / p.b_reqs : null);
const usPerReq = (ns, n) => (n > 0 ? ns / n / 1000 : null);
const cpuDiff = (p) => (p ? usPerReq(p.a_cpu_ns, p.a_reqs) - usPerReq(p.b_cpu_ns, p.b_reqs) : null);

const rounds = [];
for (const r of [...new Set(phases.map((p) => p.round))].sort((a, b) => a - b)) {
  const get = (c) => phases.find((p) => p.round === r && p.cond === c);
  const off = get('off'), a = get('on-a'), b = get('on-b');
  if (!off || !a || !b || !ratio(off) || !ratio(a) || !ratio(b)) continue;
  const lossA = 1 - ratio(a) / ratio(off), lossB = 1 - ratio(off) / ratio(b);
  const addA = cpuDiff(a) - cpuDiff(off), addB = cpuDiff(off) - cpuDiff(b);
  rounds.push({ round: r, loss: (lossA + lossB) / 2, loss_a: lossA, loss_b: lossB,
    added_us: (addA + addB) / 2, off_ratio: ratio(off),
    off_rps: (off.a_reqs + off.b_reqs) / meta.phase_seconds });
}
const ons = phases.filter((p) => p.cond !== 'off');
const loss = rounds.map((x) => x.loss), added = rounds.map((x) => x.added_us);
const s = {
  run: meta.run, hooks: meta.hooks, watch: meta.watch || 'apps', rounds: rounds.length,
  loss: median(loss), loss_ci: bootCI(loss),
  added_us: median(added), added_us_ci: bootCI(added),
  captured: sum(ons.map((p) => p.captured)), answered: sum(ons.map((p) => p.answered)),
  captured_minus_answered: ons.map((p) => p.captured_minus_answered),
  drops: sum(ons.map((p) => p.drops)),
  per_round: rounds,
};
fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(s, null, 1) + '\n');

const pct = (x) => (num(x) ? (100 * x).toFixed(2) + '%' : '-');
const f2 = (x) => (num(x) ? (x >= 0 ? '+' : '') + x.toFixed(2) : '-');
const out = [];
const watch = (meta.watch === 'none' ? ', WATCH=none (A/A check: an idle process watched, neither copy)' : '') +
  (meta.floor ? ', FLOOR=1 (bench/floor\'s empty programs)' : '');
out.push(`twin run ${meta.run}: --hooks ${meta.hooks}${watch}, ${rounds.length} rounds x ${meta.phase_seconds}s ` +
  `(+${meta.warmup_seconds}s warm-up), 2 x express50 on one CPU, ${meta.conns_per_app} conns each, seed ${meta.seed}`);
out.push('round  loss(A)   loss(B)   loss     added µs/req  A/B off   both off req/s');
for (const x of rounds) {
  out.push(`${String(x.round).padStart(5)}  ${pct(x.loss_a).padStart(7)}  ${pct(x.loss_b).padStart(7)}  ` +
    `${pct(x.loss).padStart(7)}  ${f2(x.added_us).padStart(12)}  ${x.off_ratio.toFixed(3).padStart(7)}  ` +
    `${Math.round(x.off_rps).toString().padStart(14)}`);
}
out.push(`throughput lost by the watched app: ${pct(s.loss)}` +
  (s.loss_ci ? ` [${pct(s.loss_ci[0])}, ${pct(s.loss_ci[1])}]` : '') + ' (median over rounds, 95% bootstrap)');
out.push(`its added CPU per request: ${f2(s.added_us)} µs` +
  (s.added_us_ci ? ` [${f2(s.added_us_ci[0])}, ${f2(s.added_us_ci[1])}]` : ''));
if (meta.floor) {
  out.push('the floor\'s no-op in place of the observer: nothing is counted');
} else {
  const extra = s.captured_minus_answered.filter((d) => !num(d) || d !== 0);
  out.push(`captured ${s.captured} of ${s.answered} answered by the watched app while the observer ran; ` +
    `drops ${s.drops}; phases with captured != answered: ${extra.length}`);
}
console.log(out.join('\n'));
