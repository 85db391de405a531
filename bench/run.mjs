// SPDX-License-Identifier: MIT
// Runs every scenario against huddle and the Node peer in the same run, alternating which server
// goes first, and prints a markdown table (also saved under bench/results/). One fresh server per
// scenario and round; each load run is a separate `node load.mjs` process.
//
//   node run.mjs [--rounds N] [--only throughput,fanout,idle] [--seconds S]
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = dirname(here);
const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: process.env.BENCH_ROUNDS || '2' },
    only: { type: 'string', default: process.env.BENCH_ONLY || 'throughput,fanout,idle' },
    seconds: { type: 'string', default: process.env.BENCH_SECONDS || '' },
    rate: { type: 'string', default: process.env.BENCH_FANOUT_RATE || '10' },
  },
});
const HUDDLE_BIN = process.env.HUDDLE_BIN || join(repo, 'build-bench', 'huddle');
const WWW = join(repo, 'www');
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 5000;
const LOAD_TIMEOUT_MS = 150000;

/* Per scenario: load.mjs arguments and the limits both servers get. */
const SCENARIOS = {
  throughput: {
    title: 'a. chat throughput, 1 connection, 64 chats in flight',
    args: ['--seconds', opt.seconds || '5', '--warmup', '0.5', '--window', '64'],
    threads: 64,
    maxConnections: 50,
  },
  fanout: {
    title: `b. fan-out, 50 rooms x 8 members, ${opt.rate} chats/s per member`,
    args: ['--seconds', opt.seconds || '6', '--warmup', '1', '--rooms', '50', '--members', '8', '--rate', opt.rate],
    threads: 460,
    maxConnections: 450,
  },
  idle: {
    title: 'c. idle memory, 1000 connections in rooms of 8',
    args: ['--connections', '1000', '--members', '8'],
    threads: 1010,
    maxConnections: 1000,
  },
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '?';
  }
}

function healthz(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

function threadCount(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Threads:\s+(\d+)/m)[1]);
  } catch {
    return -1;
  }
}

/* Starts one server with its output in logPath; resolves to {proc, port} once it listens, answers
 * /healthz and has stopped creating threads (huddle spawns its workers after opening the socket). */
async function startServer(kind, sc, tmp, logPath) {
  const out = openSync(logPath, 'w');
  let proc;
  if (kind === 'huddle') {
    const conf = join(tmp, 'huddle.conf');
    writeFileSync(
      conf,
      [
        'log_level = info',
        'rate_limit_per_sec = 0',
        'max_room_members = 8',
        `num_threads = ${sc.threads}`,
        `max_connections = ${sc.maxConnections}`,
        '',
      ].join('\n'),
    );
    proc = spawn(HUDDLE_BIN, ['--bind', '127.0.0.1', '--port', '0', '--root', WWW, '--config', conf], {
      stdio: ['ignore', out, out],
    });
  } else {
    proc = spawn(process.execPath, [join(here, 'node-peer', 'server.js')], {
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        RATE_LIMIT_PER_SEC: '0',
        MAX_ROOM_MEMBERS: '8',
        MAX_CONNECTIONS: String(sc.maxConnections),
      },
    });
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  let port = 0;
  while (!port && Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    const m = readFileSync(logPath, 'utf8').match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) port = Number(m[1]);
    else await sleep(50);
  }
  while (port && !(await healthz(port)) && Date.now() < deadline) await sleep(50);
  let last = -1;
  for (let same = 0; same < 6 && Date.now() < deadline; await sleep(50)) {
    const n = threadCount(proc.pid);
    same = n === last ? same + 1 : 0;
    last = n;
  }
  if (!port) {
    proc.kill('SIGKILL');
    throw new Error(`${kind} did not start; see ${logPath}`);
  }
  return { proc, port };
}

async function stopServer(proc) {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(t);
}

function runLoad(scenario, port, pid, args) {
  return new Promise((resolve, reject) => {
    const argv = [join(here, 'load.mjs'), '--scenario', scenario, '--url', `ws://127.0.0.1:${port}/`, '--pid', String(pid), ...args];
    execFile(process.execPath, argv, { timeout: LOAD_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`load.mjs ${scenario}: ${stderr || err.message}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(x, digits) {
  if (!Number.isFinite(x)) return 'n/a';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/* Table rows: [scenario, label, key, higherIsBetter (null = informational), digits]. */
const ROWS = {
  throughput: [
    ['msgs/s (echoes received)', 'msgsPerSec', true, 0],
    ['server CPU per message, µs (d)', 'serverCpuUsPerMsg', false, 1],
    ['server CPU, % of one core', 'serverCpuPct', null, 0],
    ['load generator CPU, % of one core', 'clientCpuPct', null, 0],
    ['load generator event-loop delay p99, ms', 'clientLoopDelayP99Ms', null, 1],
    ['machine load average (1 min) after the run', 'loadavg1', null, 1],
  ],
  fanout: [
    ['deliveries/s', 'deliveriesPerSec', true, 0],
    ['received in window / offered', 'deliveredShare', true, 3],
    ['latency p50, ms', 'p50Ms', false, 2],
    ['latency p99, ms', 'p99Ms', false, 2],
    ['server CPU per delivery, µs (d)', 'serverCpuUsPerDelivery', false, 2],
    ['server CPU, % of one core', 'serverCpuPct', null, 0],
    ['load generator CPU, % of one core', 'clientCpuPct', null, 0],
    ['load generator event-loop delay p99, ms', 'clientLoopDelayP99Ms', null, 1],
    ['machine load average (1 min) after the run', 'loadavg1', null, 1],
  ],
  idle: [
    ['server RSS per connection, KiB', 'rssKbPerConn', false, 1],
    ['server RSS before → after, MiB', null, null, 0],
    ['server threads after', 'threadsAfter', null, 0],
    ['open + join 1000 connections, ms', 'openJoinMs', false, 0],
    ['server CPU per connection open + join, µs', 'serverCpuUsPerConn', false, 0],
    ['machine load average (1 min) after the run', 'loadavg1', null, 1],
  ],
};

function table(results, rounds) {
  const lines = [
    '| scenario | metric | huddle | node | ratio (>1: huddle better) |',
    '|---|---|---:|---:|---:|',
  ];
  for (const [name, rows] of Object.entries(ROWS)) {
    if (!results[name]) continue;
    const sc = SCENARIOS[name];
    for (const [label, key, higher, digits] of rows) {
      const h = results[name].huddle;
      const n = results[name].node;
      let hv;
      let nv;
      let ratio = '';
      if (key === null) {
        const mib = (runs, k) => median(runs.map((r) => r[k])) / 1024;
        hv = `${fmt(mib(h, 'rssBeforeKb'), 0)} → ${fmt(mib(h, 'rssAfterKb'), 0)}`;
        nv = `${fmt(mib(n, 'rssBeforeKb'), 0)} → ${fmt(mib(n, 'rssAfterKb'), 0)}`;
      } else {
        const hm = median(h.map((r) => r[key]));
        const nm = median(n.map((r) => r[key]));
        hv = fmt(hm, digits);
        nv = fmt(nm, digits);
        if (higher === true) ratio = `${fmt(hm / nm, 2)}x (huddle/node)`;
        else if (higher === false) ratio = `${fmt(nm / hm, 2)}x (node/huddle)`;
      }
      lines.push(`| ${sc.title} | ${label} | ${hv} | ${nv} | ${ratio} |`);
    }
  }
  lines.push('');
  lines.push(`Medians of ${rounds} round(s) per server; order alternated between rounds.`);
  return lines.join('\n');
}

function machine() {
  const lock = JSON.parse(readFileSync(join(here, 'node-peer', 'package-lock.json'), 'utf8'));
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: ${sh('nproc', [])} cores (nproc), ${cpus()[0]?.model || '?'}, Linux ${sh('uname', ['-r'])}`,
    `- huddle: ${sh(HUDDLE_BIN, ['--version'])} (Release), CivetWeb ${sh('dpkg-query', ['-W', '-f=${Version}', 'libcivetweb1'])}, Jansson ${sh('dpkg-query', ['-W', '-f=${Version}', 'libjansson4'])}, ${sh('cc', ['--version']).split('\n')[0]}`,
    `- node peer: Node ${process.version}, ws ${lock.packages['node_modules/ws'].version} (no bufferutil/utf-8-validate); load generator: same Node and ws`,
  ].join('\n');
}

async function main() {
  const rounds = Number(opt.rounds);
  const only = opt.only.split(',').filter((s) => SCENARIOS[s]);
  const resultsDir = join(here, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const tmp = mkdtempSync(join(tmpdir(), 'huddle-bench-'));
  const results = {};
  const raw = [];
  const load0 = loadavg();
  const t0 = Date.now();
  console.error(machine());
  try {
    for (const [si, name] of only.entries()) {
      const sc = SCENARIOS[name];
      results[name] = { huddle: [], node: [] };
      for (let r = 0; r < rounds; r++) {
        const order = (r + si) % 2 === 0 ? ['huddle', 'node'] : ['node', 'huddle'];
        for (const kind of order) {
          const logPath = join(tmp, `${name}-${kind}-${r}.log`);
          const { proc, port } = await startServer(kind, sc, tmp, logPath);
          let res;
          try {
            res = await runLoad(name, port, proc.pid, sc.args);
          } finally {
            await stopServer(proc);
          }
          res.server = kind;
          res.round = r;
          res.loadavg1 = loadavg()[0];
          results[name][kind].push(res);
          raw.push(res);
          console.error(`${name} ${kind} round ${r + 1}/${rounds}: ${JSON.stringify(res)}`);
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const load1 = loadavg();
  const report = [
    machine(),
    `- load average (1 min) at start ${load0[0].toFixed(2)}, at end ${load1[0].toFixed(2)}; total ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    '',
    table(results, rounds),
    '',
  ].join('\n');
  writeFileSync(join(resultsDir, `${stamp}.md`), report);
  writeFileSync(join(resultsDir, `${stamp}.json`), `${JSON.stringify(raw, null, 1)}\n`);
  process.stdout.write(`\n${report}`);
}

main().catch((err) => {
  console.error(`run.mjs: ${err.stack || err}`);
  process.exit(1);
});
