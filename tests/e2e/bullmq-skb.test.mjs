// bullmq-skb.test.mjs - bullmq.test.mjs, every check of it, against the
// packet-layer capture (--hooks skb): counts exact per queue and outcome,
// and each job's duration to the ns against the kernel records.
process.env.E2E_HOOKS ??= 'skb';
await import('./bullmq.test.mjs');
