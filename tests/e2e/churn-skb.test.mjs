// SPDX-License-Identifier: Apache-2.0
// churn-skb.test.mjs - churn.test.mjs, every check of it, against the
// packet-layer capture (--hooks skb).
process.env.E2E_HOOKS ??= 'skb';
await import('./churn.test.mjs');
