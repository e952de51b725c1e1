// SPDX-License-Identifier: Apache-2.0
// A bench run's results directory as its summaries read it: meta.json and
// phases.jsonl (one JSON object a phase). Exits with the usage line when no
// directory is given.
'use strict';
const fs = require('fs');
const path = require('path');

function loadRun(dir, script) {
  if (!dir) { console.error(`usage: ${script} RESULTS_DIR`); process.exit(2); }
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const phases = fs.readFileSync(path.join(dir, 'phases.jsonl'), 'utf8')
    .split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { meta, phases };
}

module.exports = { loadRun };
