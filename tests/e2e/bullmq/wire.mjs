// SPDX-License-Identifier: Apache-2.0
// The worker's own view of a job's wire interval, for
// tests/e2e/bullmq.test.mjs. A hook on the ioredis that bullmq uses takes
// process.hrtime.bigint() stamps (CLOCK_MONOTONIC, the kernel's clock):
//  - start: the reply that handed a job out (a moveToActive, or a finish
//    with fetchNext: [jobHash, jobId, ...]): `data` when the chunk of the
//    read that brought its last byte reached the socket's first 'data'
//    listener, `ns` when ioredis resolved it;
//  - fin: the first script call naming the job's key after the processor
//    returned (moveToFinished, moveToDelayed, retryJob): `ns` just before
//    it is handed to ioredis, `after` when that call returns (ioredis
//    writes it to the socket within the call).
// Each stamp carries the socket's local port, so the test can find the
// very read and write syscalls in the observer's trace.
import { createRequire } from 'node:module';

const now = () => process.hrtime.bigint();

// "bull:<queue>:..." -> queue
function queueOf(args) {
	for (const a of args) {
		const s = typeof a === 'string' ? a : Buffer.isBuffer(a) ? a.toString('latin1', 0, 200) : '';
		const m = s.match(/^bull:([^:]+):/);
		if (m) return m[1];
	}
	return null;
}

// Hooks the ioredis that bullmq resolves from the stack. Returns
// start(queue, id): the latest start stamps of the job in this process;
// ended(queue, id, rec): the next script call naming the job's key sets
// rec.fin.
export function hookWire(requireStack) {
	const ioredis = createRequire(requireStack.resolve('bullmq'))('ioredis');
	const Redis = ioredis.Redis || ioredis.default || ioredis;
	const starts = new Map();	// "queue id" -> { data, ns, port }
	const ending = new Map();	// "bull:queue:id" -> record waiting for its finish
	const seen = new WeakSet();
	const send = Redis.prototype.sendCommand;
	Redis.prototype.sendCommand = function (cmd, stream) {
		const st = this.stream;
		let fin = null;
		if (st && !seen.has(st)) {
			seen.add(st);
			st.prependListener('data', () => { st.sbaData = now(); });
		}
		if (cmd && (cmd.name === 'evalsha' || cmd.name === 'eval')) {
			const t = now();
			const port = st ? st.localPort : -1;
			if (ending.size)
				for (const a of cmd.args) {
					const rec = typeof a === 'string' && ending.get(a);
					if (!rec) continue;
					ending.delete(a);
					rec.fin = fin = { ns: String(t), port, keys: Number(cmd.args[1]) };
				}
			const resolve = cmd.resolve;
			cmd.resolve = (v) => {
				const t1 = now();
				if (Array.isArray(v) && Array.isArray(v[0]) && v[0].length >= 2 && v[1] !== null && v[1] !== undefined) {
					const q = queueOf(cmd.args);
					if (q) starts.set(`${q} ${String(v[1])}`, { data: String(st.sbaData), ns: String(t1), port });
				}
				return resolve(v);
			};
		}
		const r = send.call(this, cmd, stream);
		if (fin) fin.after = String(now());
		return r;
	};
	return {
		start: (queue, id) => starts.get(`${queue} ${id}`) || null,
		ended: (queue, id, rec) => { ending.set(`bull:${queue}:${id}`, rec); },
	};
}
