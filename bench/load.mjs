// SPDX-License-Identifier: MIT
// Load generator for one scenario against one running server (huddle or the Node peer). Prints one
// JSON object with the client-side numbers and the server's CPU and RSS read from /proc/PID.
// Every loop is bounded in time and count; nothing is asserted.
//
//   node load.mjs --scenario throughput|fanout|idle --url ws://127.0.0.1:PORT/ --pid PID [options]
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values: opt } = parseArgs({
  options: {
    scenario: { type: 'string' },
    url: { type: 'string' },
    pid: { type: 'string' },
    seconds: { type: 'string', default: '5' }, // measured window
    warmup: { type: 'string', default: '1' },
    window: { type: 'string', default: '64' }, // throughput: messages in flight
    rooms: { type: 'string', default: '50' }, // fanout
    members: { type: 'string', default: '8' }, // fanout and idle: connections per room
    rate: { type: 'string', default: '10' }, // fanout: chats per second per member
    connections: { type: 'string', default: '1000' }, // idle
    'max-messages': { type: 'string', default: '5000000' },
  },
});

const CLK_TCK = 100; /* getconf CLK_TCK on Linux/x86-64 */
const CONNECT_BATCH = 50;
const STEP_TIMEOUT_MS = 30000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Server CPU time (user + system) in microseconds. */
function serverCpuUs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK; /* fields 14, 15 */
}

function serverStatus(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number((st.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [])[1] || 0);
  return { rssKb: kb('VmRSS'), threads: kb('Threads') };
}

/* Snapshot of both sides' CPU, to difference over a measured window; also starts watching the
 * load generator's own event-loop delay (a busy generator shows up there first). */
function snapshot(pid) {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  return { t: performance.now(), server: serverCpuUs(pid), client: process.cpuUsage(), loop };
}

function since(pid, a) {
  const b = snapshot(pid);
  const c = process.cpuUsage(a.client);
  const wallMs = b.t - a.t;
  a.loop.disable();
  return {
    clientLoopDelayP99Ms: a.loop.percentile(99) / 1e6,
    wallMs,
    serverCpuUs: b.server - a.server,
    serverCpuPct: ((b.server - a.server) / 1000 / wallMs) * 100,
    clientCpuPct: ((c.user + c.system) / 1000 / wallMs) * 100,
  };
}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/* Opens a WebSocket and resolves once the server's hello arrived; onMessage then gets every
 * later frame as a string. */
function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const c = { ws, onMessage: null, errors: 0 };
    let hello = false;
    ws.on('message', (data) => {
      const s = data.toString();
      if (!hello) {
        hello = true;
        resolve(c);
        return;
      }
      if (c.onMessage) c.onMessage(s);
    });
    ws.on('error', reject);
    ws.on('close', () => {
      if (!hello) reject(new Error('closed before hello'));
    });
  });
}

/* Opens n connections, CONNECT_BATCH at a time. */
async function openMany(url, n) {
  const out = [];
  for (let i = 0; i < n; i += CONNECT_BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + CONNECT_BATCH); j++) batch.push(open(url));
    out.push(...(await withTimeout(Promise.all(batch), STEP_TIMEOUT_MS, 'connect')));
  }
  return out;
}

/* Joins c to room and resolves on `joined`. */
function join(c, room) {
  return new Promise((resolve, reject) => {
    c.onMessage = (s) => {
      const m = JSON.parse(s);
      if (m.type === 'joined') {
        c.onMessage = null;
        resolve();
      } else if (m.type === 'error') {
        reject(new Error(`join ${room}: ${m.code}`));
      }
    };
    c.ws.send(JSON.stringify({ type: 'join', room }));
  });
}

async function joinAll(conns, roomOf) {
  for (let i = 0; i < conns.length; i += CONNECT_BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(conns.length, i + CONNECT_BATCH); j++) batch.push(join(conns[j], roomOf(j)));
    await withTimeout(Promise.all(batch), STEP_TIMEOUT_MS, 'join');
  }
}

async function closeAll(conns) {
  const closed = conns.map(
    (c) =>
      new Promise((r) => {
        if (c.ws.readyState === WebSocket.CLOSED) return r();
        c.ws.once('close', r);
        c.ws.close(1000);
      }),
  );
  await withTimeout(Promise.all(closed), 5000, 'close').catch(() => conns.forEach((c) => c.ws.terminate()));
}

const CHAT_PREFIX = '{"type":"chat"';

/* Counts a frame that is not a chat by its type (errors by code), to show what else arrived
 * while measuring. */
function countOther(other, s) {
  let key = 'unparsable';
  try {
    const m = JSON.parse(s);
    key = m.type === 'error' ? `error:${m.code}` : String(m.type);
  } catch {
    /* keep 'unparsable' */
  }
  other[key] = (other[key] || 0) + 1;
}

/* a: one connection in a room, a window of chats in flight; each echo sends the next one. */
async function throughput(url, pid) {
  const window = Number(opt.window);
  const maxMessages = Number(opt['max-messages']);
  const [c] = await openMany(url, 1);
  await join(c, 'bench-throughput');
  let received = 0;
  let sent = 0;
  let sending = true;
  const other = {};
  const send = () => {
    sent++;
    c.ws.send(`{"type":"chat","text":"throughput ${sent}"}`);
  };
  let done;
  const finished = new Promise((r) => {
    done = r;
  });
  c.onMessage = (s) => {
    if (!s.startsWith(CHAT_PREFIX)) {
      if (sending) countOther(other, s);
      return;
    }
    received++;
    if (sending && sent < maxMessages) send();
    else if (received === sent) done();
  };
  for (let i = 0; i < window; i++) send();
  await sleep(Number(opt.warmup) * 1000);
  const r0 = received;
  const s0 = snapshot(pid);
  await sleep(Number(opt.seconds) * 1000);
  const w = since(pid, s0);
  const count = received - r0;
  sending = false;
  await withTimeout(finished, 5000, 'drain').catch(() => {});
  await closeAll([c]);
  return {
    msgsPerSec: (count / w.wallMs) * 1000,
    serverCpuUsPerMsg: w.serverCpuUs / count,
    serverCpuPct: w.serverCpuPct,
    clientCpuPct: w.clientCpuPct,
    clientLoopDelayP99Ms: w.clientLoopDelayP99Ms,
    messages: count,
    window,
    other,
  };
}

/* Percentile of a sorted Float64Array. */
function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/* b: rooms of `members` connections; every member sends chats at a fixed rate (open loop); every
 * delivery's latency is measured from the send time carried in the text. */
async function fanout(url, pid) {
  const nrooms = Number(opt.rooms);
  const members = Number(opt.members);
  const rate = Number(opt.rate);
  const n = nrooms * members;
  const conns = await openMany(url, n);
  await joinAll(conns, (i) => `fan-${Math.floor(i / members)}`);
  await sleep(300); /* let welcomes settle */

  const maxSamples = Math.min(Number(opt['max-messages']), 20000000);
  const lat = new Float64Array(maxSamples);
  let nlat = 0;
  let measuring = false;
  let deliveries = 0;
  const other = {};
  const onMessage = (s) => {
    if (!s.startsWith(CHAT_PREFIX)) {
      if (measuring) countOther(other, s);
      return;
    }
    const i = s.indexOf('"text":"t') + 9;
    const t = Number(s.slice(i, s.indexOf('"', i)));
    if (measuring) {
      deliveries++;
      if (nlat < maxSamples) lat[nlat++] = performance.now() - t;
    }
  };
  for (const c of conns) c.onMessage = onMessage;

  /* the sending order interleaves rooms so each tick spreads over the whole server */
  const order = conns.map((_, i) => (i % nrooms) * members + Math.floor(i / nrooms));
  const total = rate * n; /* chats per second */
  const t0 = performance.now();
  let sent = 0;
  let sentMeasured = 0;
  const tick = () => {
    const due = Math.floor(((performance.now() - t0) / 1000) * total) - sent;
    for (let k = 0; k < due; k++) {
      const c = conns[order[sent % n]];
      sent++;
      if (measuring) sentMeasured++;
      c.ws.send(`{"type":"chat","text":"t${performance.now().toFixed(3)}"}`);
    }
  };
  const timer = setInterval(tick, 2);
  await sleep(Number(opt.warmup) * 1000);
  measuring = true;
  const s0 = snapshot(pid);
  await sleep(Number(opt.seconds) * 1000);
  const w = since(pid, s0);
  measuring = false;
  clearInterval(timer);
  await sleep(300);
  await closeAll(conns);
  const sorted = lat.subarray(0, nlat).sort();
  return {
    connections: n,
    offeredChatsPerSec: total,
    offeredDeliveriesPerSec: total * members,
    deliveriesPerSec: (deliveries / w.wallMs) * 1000,
    deliveredShare: deliveries / (sentMeasured * members),
    p50Ms: pct(sorted, 50),
    p99Ms: pct(sorted, 99),
    maxMs: sorted.length ? sorted[sorted.length - 1] : NaN,
    serverCpuUsPerDelivery: w.serverCpuUs / deliveries,
    serverCpuPct: w.serverCpuPct,
    clientCpuPct: w.clientCpuPct,
    clientLoopDelayP99Ms: w.clientLoopDelayP99Ms,
    other,
  };
}

/* c: server RSS before and after opening connections joined to rooms of `members`. */
async function idle(url, pid) {
  const n = Number(opt.connections);
  const members = Number(opt.members);
  const before = serverStatus(pid);
  const s0 = snapshot(pid);
  const conns = await openMany(url, n);
  await joinAll(conns, (i) => `idle-${Math.floor(i / members)}`);
  const w = since(pid, s0);
  await sleep(1000); /* let the lobby's room-list updates and any lazy work finish */
  const after = serverStatus(pid);
  await closeAll(conns);
  return {
    connections: n,
    rssBeforeKb: before.rssKb,
    rssAfterKb: after.rssKb,
    rssKbPerConn: (after.rssKb - before.rssKb) / n,
    threadsBefore: before.threads,
    threadsAfter: after.threads,
    openJoinMs: w.wallMs,
    serverCpuUsPerConn: w.serverCpuUs / n,
    clientCpuPct: w.clientCpuPct,
  };
}

const scenarios = { throughput, fanout, idle };

async function main() {
  const run = scenarios[opt.scenario];
  if (!run || !opt.url || !opt.pid) {
    console.error('usage: node load.mjs --scenario throughput|fanout|idle --url URL --pid PID');
    process.exit(2);
  }
  const deadline = setTimeout(() => {
    console.error('load.mjs: scenario took too long, giving up');
    process.exit(1);
  }, 120000);
  const result = await run(opt.url, Number(opt.pid));
  clearTimeout(deadline);
  process.stdout.write(`${JSON.stringify({ scenario: opt.scenario, ...result })}\n`);
  process.exit(0);
}

main().catch((err) => {
  console.error(`load.mjs: ${err.stack || err}`);
  process.exit(1);
});
