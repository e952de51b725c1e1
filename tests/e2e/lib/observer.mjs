// SPDX-License-Identifier: Apache-2.0
// observer.mjs - run build/sba-observer --trace and collect what it prints.
//
// start() spawns it, parses stdout line by line as JSON and resolves once
// the `ready` line is out. waitFor() waits for an event matching a predicate.
// stop() sends SIGINT and resolves with the exit code and the final `stats`
// line. An exit before stop(), a line that is not JSON or a stop that does
// not exit in time is an error, with the observer's stderr attached.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = process.env.SBA_OBSERVER || path.join(ROOT, 'build/sba-observer');

// A trace line with its kernel timestamps (`ts`, `end_ns`) kept as strings
// for BigInt(): JSON numbers are doubles, exact only below 2^53 ns (104 days
// of uptime). Observer below keeps numbers: its checks compare and subtract.
export const parseLine = (l) => JSON.parse(l.replace(/"(ts|end_ns)":(\d+)/g, '"$1":"$2"'));

export class Observer {
	constructor(args) {
		// No metrics endpoint: these runs check the trace, and must not clash
		// with another observer on :9464. Only what the kernel delivered (no
		// http/job lines concluded by the pipeline): each line is one record.
		this.args = ['--trace=proc,conn,data', '--listen', 'none', ...args];
		this.events = [];
		this.bad = [];
		this.stderr = '';
		this.waiters = [];
		this.exit = null;
		this.stopping = false;
	}

	static async start(args, { readyMs = 30000 } = {}) {
		const o = new Observer(args);
		o.spawn();
		o.ready = await o.waitFor((e) => e.ev === 'ready', readyMs, 'the ready line');
		return o;
	}

	spawn() {
		this.proc = spawn(BIN, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
		let buf = '';
		this.proc.stdout.setEncoding('utf8');
		this.proc.stdout.on('data', (s) => {
			buf += s;
			let i;
			while ((i = buf.indexOf('\n')) >= 0) {
				this.line(buf.slice(0, i));
				buf = buf.slice(i + 1);
			}
		});
		this.proc.stderr.setEncoding('utf8');
		this.proc.stderr.on('data', (s) => {
			if (this.stderr.length < 65536) this.stderr += s;
		});
		this.exited = new Promise((resolve) => {
			this.proc.on('close', (code, signal) => {
				if (buf.length) this.line(buf);
				this.exit = { code, signal };
				for (const w of this.waiters.splice(0)) w.reject(this.error(`observer exited (${code ?? signal}) while waiting for ${w.what}`));
				resolve(this.exit);
			});
		});
		this.proc.on('error', (e) => {
			this.stderr += `spawn ${BIN}: ${e.message}\n`;
		});
	}

	line(s) {
		if (!s.trim()) return;
		let ev;
		try {
			ev = JSON.parse(s);
		} catch {
			this.bad.push({ after: this.events.length, stopping: this.stopping, line: s.slice(0, 300) });
			return;
		}
		this.events.push(ev);
		for (const w of [...this.waiters]) {
			if (w.pred(ev)) {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				w.resolve(ev);
			}
		}
	}

	error(msg) {
		const tail = this.stderr.split('\n').slice(-25).join('\n');
		return new Error(`${msg}\n  args: ${this.args.join(' ')}\n  stderr (tail):\n${tail}`);
	}

	// Resolves with the first event (already seen or to come) matching pred.
	waitFor(pred, ms, what = 'an event') {
		const seen = this.events.find(pred);
		if (seen) return Promise.resolve(seen);
		if (this.exit) return Promise.reject(this.error(`observer exited (${this.exit.code ?? this.exit.signal}) before ${what}`));
		return new Promise((resolve, reject) => {
			const w = { pred, what, resolve, reject };
			this.waiters.push(w);
			setTimeout(() => {
				const k = this.waiters.indexOf(w);
				if (k < 0) return;
				this.waiters.splice(k, 1);
				reject(this.error(`no ${what} within ${ms} ms`));
			}, ms).unref();
		});
	}

	// Stop reading its stdout: the pipe fills and the observer blocks in write().
	pause() {
		this.proc.stdout.pause();
	}

	// SIGINT, then the exit status and the last stats line. Throws unless it
	// exits 0 by itself within `ms`. resumeAfterMs: if reading was paused,
	// resume it that long after the signal (a slow reader at shutdown).
	async stop(ms = 15000, { resumeAfterMs = 0 } = {}) {
		if (this.exit) throw this.error(`observer had already exited (${this.exit.code ?? this.exit.signal})`);
		this.stopping = true;
		this.proc.kill('SIGINT');
		if (this.proc.stdout.isPaused()) setTimeout(() => this.proc.stdout.resume(), resumeAfterMs);
		const t = setTimeout(() => this.proc.kill('SIGKILL'), ms);
		const exit = await this.exited;
		clearTimeout(t);
		const stats = [...this.events].reverse().find((e) => e.ev === 'stats');
		if (exit.code !== 0) throw this.error(`observer exited with ${exit.code ?? exit.signal} after SIGINT (want 0)`);
		if (!stats) throw this.error('observer printed no stats line at exit');
		if (this.bad.length) {
			const b = this.bad[0];
			throw this.error(`observer printed ${this.bad.length} lines that are not JSON; the first one came after ${b.after} good lines of ${this.events.length}, ${b.stopping ? 'after' : 'before'} SIGINT: ${b.line}`);
		}
		return { exit, stats };
	}

	// For an `after` hook: stop if still running, never throw.
	async kill() {
		if (this.exit || !this.proc) return;
		this.proc.kill('SIGINT');
		const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
		await this.exited;
		clearTimeout(t);
	}
}
