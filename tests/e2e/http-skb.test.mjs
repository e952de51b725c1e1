// http-skb.test.mjs - http.test.mjs, every check of it, against the
// packet-layer capture (--hooks skb): counts exact per series, pairing,
// durations on the kernel records and against the servers' own hrtime.
process.env.E2E_HOOKS ??= 'skb';
await import('./http.test.mjs');
