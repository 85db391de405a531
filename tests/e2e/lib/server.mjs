// SPDX-License-Identifier: MIT
// Starts the huddle binary on 127.0.0.1 with a free port and a temporary config file, and
// captures its log so tests can wait for lines in it.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const LISTEN_RE = /listening on https?:\/\/[^ ]+:(\d+)/;
// Every browser of a test runs on 127.0.0.1, and loopback is not exempt from the per-address caps:
// eight browser contexts open far more than 16 HTTP connections at once. A scenario's own config
// comes after these lines, so it can set them again.
const E2E_BASE_CONFIG = 'max_http_connections_per_ip = 0\nmax_connections_per_ip = 0\n';
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 5000;

/**
 * Starts `bin` serving `root` on 127.0.0.1:`port` (0: any free port). `configText` is written to
 * a temp file passed as --config.
 * Resolves to { url, port, log(), waitForLog(re, ms), stop() }; rejects if the server exits
 * or does not announce its port in time.
 */
export async function startServer({ bin, root, configText = '# huddle e2e\n', port = 0 }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'huddle-e2e-'));
  const config = path.join(dir, 'huddle.conf');
  fs.writeFileSync(config, E2E_BASE_CONFIG + configText);
  const child = spawn(bin, ['--bind', '127.0.0.1', '--port', String(port), '--root', root, '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set();
  const onData = (chunk) => {
    text += chunk.toString('utf8');
    for (const w of waiters) w.check();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      for (const w of waiters) w.check();
      resolve(exited);
    });
  });

  /** Resolves to the first match of `re` in the log (from any time), within `ms`. */
  function waitForLog(re, ms = 10000) {
    return new Promise((resolve, reject) => {
      const waiter = {
        check() {
          const m = text.match(re);
          if (m) {
            done();
            resolve(m);
          } else if (exited) {
            done();
            reject(new Error(`server exited (${JSON.stringify(exited)}) before log matched ${re}`));
          }
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`server log did not match ${re} within ${ms} ms`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      waiters.add(waiter);
      waiter.check();
    });
  }

  async function stop() {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exitPromise;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }

  try {
    port = Number((await waitForLog(LISTEN_RE, START_TIMEOUT_MS))[1]);
  } catch (err) {
    await stop();
    throw new Error(`${err.message}\n--- server log ---\n${text}`);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    log: () => text,
    waitForLog,
    stop,
    exited: () => exited,
  };
}
