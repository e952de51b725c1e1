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
// rounds, [95% bootstrap interval]. With a second observer (OBSERVER2), the
// same for its phases on2-a/on2-b, and the per-round difference of the two
// losses.
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

// The loss of one observer (phases PREFIX-a and PREFIX-b) in round r.
const lossOf = (get, off, prefix) => {
  const a = get(`${prefix}-a`), b = get(`${prefix}-b`);
  if (!a || !b || !ratio(a) || !ratio(b)) return null;
  const lossA = 1 - ratio(a) / ratio(off), lossB = 1 - ratio(off) / ratio(b);
  const addA = cpuDiff(a) - cpuDiff(off), addB = cpuDiff(off) - cpuDiff(b);
  return { loss: (lossA + lossB) / 2, loss_a: lossA, loss_b: lossB, added_us: (addA + addB) / 2 };
};

// OBSERVER2 (run.sh): a second build in the same rounds, phases on2-a/on2-b.
const two = !!meta.observer2;
const rounds = [];
for (const r of [...new Set(phases.map((p) => p.round))].sort((a, b) => a - b)) {
  const get = (c) => phases.find((p) => p.round === r && p.cond === c);
  const off = get('off');
  if (!off || !ratio(off)) continue;
  const one = lossOf(get, off, 'on'), second = two ? lossOf(get, off, 'on2') : null;
  if (!one || (two && !second)) continue;
  rounds.push({ round: r, ...one, off_ratio: ratio(off),
    off_rps: (off.a_reqs + off.b_reqs) / meta.phase_seconds,
    ...(two ? { loss2: second.loss, added_us2: second.added_us, diff: one.loss - second.loss } : {}) });
}
const ons = phases.filter((p) => p.cond !== 'off');
const col = (k) => rounds.map((x) => x[k]);
const loss = col('loss'), added = col('added_us');
const s = {
  run: meta.run, hooks: meta.hooks, watch: meta.watch || 'apps', rounds: rounds.length,
  loss: median(loss), loss_ci: bootCI(loss),
  added_us: median(added), added_us_ci: bootCI(added),
  ...(two ? {
    observer2: meta.observer2, loss2: median(col('loss2')), loss2_ci: bootCI(col('loss2')),
    added_us2: median(col('added_us2')), added_us2_ci: bootCI(col('added_us2')),
    diff: median(col('diff')), diff_ci: bootCI(col('diff')),
  } : {}),
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
out.push('round  loss(A)   loss(B)   loss     added µs/req  A/B off   both off req/s' +
  (two ? '  loss(2)   loss - loss(2)' : ''));
for (const x of rounds) {
  out.push(`${String(x.round).padStart(5)}  ${pct(x.loss_a).padStart(7)}  ${pct(x.loss_b).padStart(7)}  ` +
    `${pct(x.loss).padStart(7)}  ${f2(x.added_us).padStart(12)}  ${x.off_ratio.toFixed(3).padStart(7)}  ` +
    `${Math.round(x.off_rps).toString().padStart(14)}` +
    (two ? `  ${pct(x.loss2).padStart(7)}  ${pct(x.diff).padStart(14)}` : ''));
}
const ci = (c, f) => (c ? ` [${f(c[0])}, ${f(c[1])}]` : '');
out.push(`throughput lost by the watched app: ${pct(s.loss)}${ci(s.loss_ci, pct)} (median over rounds, 95% bootstrap)` +
  (two ? `, OBSERVER=${meta.observer}` : ''));
out.push(`its added CPU per request: ${f2(s.added_us)} µs${ci(s.added_us_ci, f2)}`);
if (two) {
  out.push(`with OBSERVER2=${meta.observer2}: ${pct(s.loss2)}${ci(s.loss2_ci, pct)}, ` +
    `${f2(s.added_us2)} µs${ci(s.added_us2_ci, f2)} per request`);
  out.push(`OBSERVER's loss minus OBSERVER2's, paired by round: ${pct(s.diff)}${ci(s.diff_ci, pct)}`);
}
if (meta.floor) {
  out.push('the floor\'s no-op in place of the observer: nothing is counted');
} else {
  const extra = s.captured_minus_answered.filter((d) => !num(d) || d !== 0);
  out.push(`captured ${s.captured} of ${s.answered} answered by the watched app while the observer ran; ` +
    `drops ${s.drops}; phases with captured != answered: ${extra.length}`);
}
console.log(out.join('\n'));
