// SPDX-License-Identifier: Apache-2.0
// The statistics of the bench summaries (bench/lib/summarize.js,
// bench/twin/summarize.js): medians, and a 95% bootstrap interval of a
// median. The resampling is seeded, once per process, so a summary run
// twice prints the same intervals.
'use strict';

const num = (x) => typeof x === 'number' && Number.isFinite(x);

const median = (a) => {
  const v = a.filter(num).sort((x, y) => x - y);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };

// [lo, hi] of the median of a, or null with fewer than 3 values.
const bootCI = (a, n = 2000) => {
  const v = a.filter(num);
  if (v.length < 3) return null;
  const meds = [];
  for (let i = 0; i < n; i++) {
    const s = [];
    for (let j = 0; j < v.length; j++) s.push(v[Math.floor(rnd() * v.length)]);
    meds.push(median(s));
  }
  meds.sort((x, y) => x - y);
  return [meds[Math.floor(0.025 * n)], meds[Math.floor(0.975 * n) - 1]];
};

const sum = (a) => a.reduce((s, x) => s + (num(x) ? x : 0), 0);

module.exports = { num, median, bootCI, sum };
