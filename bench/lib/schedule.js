// SPDX-License-Identifier: Apache-2.0
// Prints the phase order of each round, one round per line:
//   node schedule.js ROUNDS SEED cond1 cond2 ...
// Every permutation of the conditions is used equally often (cycled in a
// seeded random order), so with two conditions the rounds alternate
// off,on / on,off (ABBA) and with three each condition takes each position
// equally often over six rounds: drift over the run cannot favour one side.
'use strict';
const [rounds, seed, ...conds] = process.argv.slice(2);
let s = Number(seed) >>> 0;
const rnd = () => { // mulberry32
  s = (s + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const perms = (a) => a.length <= 1 ? [a] :
  a.flatMap((x, i) => perms([...a.slice(0, i), ...a.slice(i + 1)]).map((p) => [x, ...p]));
const all = perms(conds);
let cycle = [];
for (let r = 0; r < Number(rounds); r++) {
  if (!cycle.length) {
    cycle = all.slice();
    for (let i = cycle.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [cycle[i], cycle[j]] = [cycle[j], cycle[i]];
    }
  }
  console.log(cycle.shift().join(' '));
}
