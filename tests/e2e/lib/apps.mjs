// SPDX-License-Identifier: Apache-2.0
// apps.mjs - start the scenario apps and talk to them.
//
// Node apps are started as `sh -c 'node app.js; exit $?'`: the shell is not
// node, so the observer has to recognise the node process at its exec, the
// way it would for a service started by systemd or a shell, not inherit it
// from the test runner (itself a node process) through a fork.
// Each app prints JSON lines on stdout; line() waits for one that matches.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const APPS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../apps');

export class App {
	constructor(name, cmd, args, env) {
		this.name = name;
		const e = { ...process.env, ...env };
		delete e.NODE_TEST_CONTEXT;
		delete e.NODE_OPTIONS;
		this.proc = spawn(cmd, args, { env: e, stdio: ['pipe', 'pipe', 'pipe'] });
		this.stdout = '';
		this.stderr = '';
		this.lines = [];
		this.waiters = [];
		let buf = '';
		this.proc.stdout.setEncoding('utf8');
		this.proc.stdout.on('data', (s) => {
			this.stdout += s;
			buf += s;
			let i;
			while ((i = buf.indexOf('\n')) >= 0) {
				const l = buf.slice(0, i);
				buf = buf.slice(i + 1);
				let j = null;
				try { j = JSON.parse(l); } catch { continue; }
				this.lines.push(j);
				for (const w of [...this.waiters]) if (w.pred(j)) {
					this.waiters.splice(this.waiters.indexOf(w), 1);
					w.resolve(j);
				}
			}
		});
		this.proc.stderr.setEncoding('utf8');
		this.proc.stderr.on('data', (s) => { this.stderr += s; });
		this.proc.stdin.on('error', () => {});
		this.done = new Promise((resolve) => {
			this.proc.on('close', (code, signal) => {
				this.code = code;
				for (const w of this.waiters.splice(0)) w.reject(new Error(`${this.name} exited (${code ?? signal}) before printing what was awaited; stderr: ${this.stderr}`));
				resolve({ code, signal });
			});
		});
	}

	line(pred, ms = 15000) {
		const seen = this.lines.find(pred);
		if (seen) return Promise.resolve(seen);
		return new Promise((resolve, reject) => {
			const w = { pred, resolve, reject };
			this.waiters.push(w);
			setTimeout(() => {
				const k = this.waiters.indexOf(w);
				if (k >= 0) {
					this.waiters.splice(k, 1);
					reject(new Error(`${this.name}: no awaited line within ${ms} ms; stdout: ${this.stdout.slice(0, 500)} stderr: ${this.stderr.slice(0, 500)}`));
				}
			}, ms).unref();
		});
	}

	// Wait for exit; throw unless it exited 0 within ms.
	async finish(ms = 60000) {
		const t = setTimeout(() => this.proc.kill('SIGKILL'), ms);
		const { code, signal } = await this.done;
		clearTimeout(t);
		if (code !== 0) throw new Error(`${this.name} exited ${code ?? signal}; stderr:\n${this.stderr}`);
		return this;
	}

	end() {
		this.proc.stdin.end();
	}

	kill() {
		if (this.code === undefined) this.proc.kill('SIGKILL');
	}
}

// A node scenario app, exec'd by a shell. name: its manifest name.
// nodeBin: another node executable (a copy under another name) instead.
export function startNode(file, name, out, env = {}, nodeBin = 'node') {
	return new App(name, '/bin/sh', ['-c', '"$0" "$@"; exit $?', nodeBin, path.join(APPS, file)],
		{ E2E_OUT: out, E2E_NAME: name, ...env });
}

// Any command, run through sh -c.
export function startSh(name, script, env = {}) {
	return new App(name, '/bin/sh', ['-c', script], env);
}
