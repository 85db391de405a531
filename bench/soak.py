#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Soak: many clients doing everything at random for a long time against one huddle, then checks.

Usage: bench/soak.sh [--minutes M] [--clients N] [--rooms R] [--seed S]
       (HUDDLE_BIN selects the binary, default build/huddle). Not part of the test suite.

It starts the server itself (127.0.0.1, a free port; per-address caps lifted since every client
shares 127.0.0.1; rate limit 50/s with a burst of 100, far above what a normal client sends, so
only the flooders hit it; resume window 5 s). N clients (300) join, chat, rename, switch rooms,
leave, close and reconnect, drop TCP and resume, at random; a few also flood (hundreds of chats at
once: rate_limited, then close 1008) and a few bad-frame clients send unmasked frames (1002),
invalid UTF-8 (1007), oversized frames (1009), bad JSON (error, stays open) and stalled frames.

Checks, printed as a table at the end (exit status 1 if any fails):
- the server never exits, logs no sanitizer report, and exits 0 on SIGTERM at the end;
- chat order and completeness. Every client logs what it receives, in order. A *stay* is the part of
  one client's stream from a `joined` for room R to its end: `left`, the next `joined`, or the end
  of that connection (the end is *graceful* for `left`/`joined`, since the server then told the
  client where its stay ends; a close or a drop can lose what was in flight). Per stay:
    * every chat in it is for R, and its seq numbers are contiguous (k, k+1, k+2, ...);
    * start: the room's last seq when the member joined is k0 = 0 when `joined.members` was empty
      (a new room: seq starts at 1), otherwise taken from a *witness*: another member whose stay
      holds the matching `welcome` (same id and room, received within 3 s) and had a chat before it
      (the last seq before the welcome). The stay's first chat must be k0 + 1;
    * end (graceful stays only): a witness holding the matching `bye` gives the room's last seq
      when the member left, k1; the stay's last chat must be k1 (no chat at all: k1 must be k0);
    * with both known, the stay holds exactly k0+1 .. k1;
  across stays: a chat text (unique per send) has the same room, seq and sender for every receiver;
  a client's own chats sent inside a graceful stay all come back inside that stay (the sender is
  included in the broadcast).
- memory: the server's RSS and thread count (/proc/PID/status VmRSS, Threads) after every client has
  gone (sessions 0, detached sessions 0) are within 10 % of the figures measured at the start: after
  a warm-up wave (every client once connects, joins, chats and closes), since CivetWeb's worker
  stacks and the allocator's arenas grow once on first use and keep their pages (not a leak). The
  figure right after start-up is printed too.
"""

import argparse
import asyncio
import base64
import datetime
import json
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import websockets

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.environ.get("HUDDLE_BIN") or os.path.join(REPO, "build", "huddle")
SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:"
                          r"|(WARNING|ERROR|FATAL): ThreadSanitizer")
WITNESS_WINDOW_S = 3.0
REJOIN_GAP_S = 8.0  # a client does not join the same room again sooner (keeps witnesses unambiguous)


class Stats(dict):
    def add(self, key, n=1):
        self[key] = self.get(key, 0) + n


ST = Stats()


# ---------------------------------------------------------------------------------------------
# Server


class Server:
    def __init__(self, args):
        self.tmp = tempfile.TemporaryDirectory(prefix="huddle-soak-")
        self.conf = os.path.join(self.tmp.name, "huddle.conf")
        self.logpath = os.path.join(self.tmp.name, "huddle.log")
        cfg = {
            "bind_address": "127.0.0.1",
            "log_level": "info",
            "max_connections_per_ip": 0,
            "max_http_connections_per_ip": 0,
            "rate_limit_per_sec": 50,
            "rate_limit_burst": 100,
            "flood_close_after": 50,
            "max_room_members": 200,
            "resume_window_s": 5,
            "stall_timeout_ms": 3000,
            "max_message_bytes": 65536,
        }
        with open(self.conf, "w") as f:
            for k, v in cfg.items():
                f.write("%s = %s\n" % (k, v))
        self.log = open(self.logpath, "w+b")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
        self.proc = subprocess.Popen(
            [BIN, "--config", self.conf, "--port", "0", "--root", os.path.join(REPO, "www")],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, env=env,
            cwd=self.tmp.name)
        deadline = time.monotonic() + 15
        self.port = None
        while time.monotonic() < deadline and self.proc.poll() is None:
            m = re.search(r"listening on http://[^ ]+:(\d+)", self.text())
            if m:
                self.port = int(m.group(1))
                break
            time.sleep(0.05)
        if not self.port:
            raise SystemExit("soak: server did not start:\n" + self.text()[-3000:])

    def text(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def status(self):
        """(VmRSS kB, Threads) from /proc."""
        rss = thr = None
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    thr = int(line.split()[1])
        return rss, thr

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "killed after 20 s"
        return rc


def http_get(port, path):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def metric(port, name):
    _, body = http_get(port, "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


# ---------------------------------------------------------------------------------------------
# Clients


class Client:
    """One simulated browser tab across its connections. `events` is everything it received, in
    order: (time, 'msg', message) or (time, 'end', how)."""

    def __init__(self, n, port, rooms, rnd, flooder):
        self.n, self.port, self.rooms, self.rnd, self.flooder = n, port, rooms, rnd, flooder
        self.events = []
        self.sent = []  # (event index at send time, text)
        self.ws = None
        self.reader = None
        self.waiters = {}  # type -> future
        self.room = None
        self.token = None
        self.last_join = {}
        self.k = 0

    # -- connection --
    async def connect(self, resume=False):
        try:
            self.ws = await websockets.connect("ws://127.0.0.1:%d/" % self.port, open_timeout=20,
                                               close_timeout=5, max_size=2 ** 22,
                                               ping_interval=None)
        except Exception as e:
            # the wall-clock time matches the server log's timestamps (kept on FAIL)
            raise RuntimeError("client %d: handshake failed at %s: %r" % (
                self.n, datetime.datetime.now(datetime.timezone.utc).isoformat(), e)) from e
        hello = json.loads(await asyncio.wait_for(self.ws.recv(), 20))
        ST.add("connects")
        token, self.token = self.token, hello.get("token")
        self.room = None
        self.reader = asyncio.ensure_future(self.read(self.ws))
        if resume and token:
            fut = self.expect(("resumed", "error"))
            await self.ws.send(json.dumps({"type": "resume", "token": token}))
            msg = await asyncio.wait_for(fut, 20)
            if msg["type"] == "resumed":
                ST.add("resumed")
                self.token = msg["token"]
                self.room = msg.get("room")
            else:
                ST.add("resume_refused")

    async def read(self, ws):
        how = "eof"
        try:
            async for data in ws:
                msg = json.loads(data)
                t = msg.get("type")
                self.events.append((time.monotonic(), "msg", msg))
                if t == "chat":
                    ST.add("chats_received")
                elif t == "error":
                    ST.add("error_" + msg.get("code", "?"))
                fut = self.waiters.pop(t, None)
                if fut is None and t == "error":
                    fut = self.waiters.pop("error", None)
                if fut and not fut.done():
                    fut.set_result(msg)
                    for k2, f2 in list(self.waiters.items()):
                        if f2 is fut:
                            del self.waiters[k2]
        except websockets.ConnectionClosed as e:
            how = "close %s" % (e.rcvd.code if e.rcvd else "none")
        except Exception as e:  # noqa: BLE001 (any reader failure ends this connection)
            how = "reader error %r" % e
            ST.add("reader_errors")
        self.events.append((time.monotonic(), "end", how))
        for fut in self.waiters.values():
            if not fut.done():
                fut.set_exception(ConnectionError(how))
        self.waiters.clear()

    def expect(self, types):
        fut = asyncio.get_running_loop().create_future()
        for t in types:
            self.waiters[t] = fut
        return fut

    async def request(self, obj, types):
        fut = self.expect(types)
        await self.ws.send(json.dumps(obj))
        return await asyncio.wait_for(fut, 30)

    async def end_conn(self, abort=False):
        if abort:
            self.ws.transport.abort()
        else:
            try:
                await asyncio.wait_for(self.ws.close(), 10)
            except Exception:  # noqa: BLE001
                pass
        try:
            await asyncio.wait_for(self.reader, 10)
        except Exception:  # noqa: BLE001
            pass
        self.room = None

    # -- actions --
    async def join(self):
        now = time.monotonic()
        choices = [r for r in self.rooms if r != self.room and now - self.last_join.get(r, -99) > REJOIN_GAP_S]
        if not choices:
            return
        room = self.rnd.choice(choices)
        msg = await self.request({"type": "join", "room": room}, ("joined", "error"))
        if msg["type"] == "joined":
            self.room = room
            self.last_join[room] = time.monotonic()
            ST.add("joins")
        else:
            ST.add("join_refused")

    async def chat(self):
        self.k += 1
        text = "c%d-%d:%s" % (self.n, self.k, "x" * self.rnd.randint(0, 60))
        self.sent.append((len(self.events), text))
        await self.ws.send(json.dumps({"type": "chat", "text": text}))
        ST.add("chats_sent")

    async def flood(self):
        ST.add("floods")
        for i in range(400):
            self.k += 1
            await self.ws.send(json.dumps({"type": "chat", "text": "f%d-%d" % (self.n, self.k)}))
        ST.add("chats_sent_flood", 400)
        try:
            await asyncio.wait_for(self.reader, 20)
        except asyncio.TimeoutError:
            ST.add("flood_not_closed")
            return
        how = self.events[-1][2]
        ST.add("flood_closed_1008" if how == "close 1008" else "flood_ended_" + how.replace(" ", "_"))

    async def run(self, until):
        rnd = self.rnd
        await self.connect()
        if rnd.random() < 0.5:
            await self.request({"type": "nickname", "nickname": "n%d" % self.n}, ("nickname",))
        while time.monotonic() < until:
            await asyncio.sleep(rnd.uniform(0.3, 2.5))
            if self.reader.done():  # closed by the server (a flood) or dropped
                await self.connect(resume=False)
                continue
            r = rnd.random()
            try:
                if self.room is None:
                    await self.join()
                elif r < 0.62:
                    await self.chat()
                elif r < 0.70:
                    self.k += 1
                    await self.request({"type": "nickname", "nickname": "n%d.%d" % (self.n, self.k)},
                                       ("nickname",))
                    ST.add("renames")
                elif r < 0.78:
                    await self.join()
                elif r < 0.83:
                    await self.request({"type": "leave"}, ("left",))
                    self.room = None
                    ST.add("leaves")
                elif r < 0.86:
                    await self.end_conn()
                    ST.add("closes")
                    await self.connect()
                elif r < 0.89:
                    await self.end_conn(abort=True)
                    ST.add("drops")
                    await asyncio.sleep(rnd.uniform(0, 2))
                    await self.connect(resume=True)
                elif r < 0.91:
                    await self.end_conn(abort=True)
                    ST.add("drops_fresh")
                    await self.connect()
                elif self.flooder and r < 0.93:
                    await self.flood()
                    await self.connect()
                else:
                    await self.ws.send(json.dumps({"type": "list"}))
            except (ConnectionError, websockets.ConnectionClosed, asyncio.TimeoutError) as e:
                ST.add("action_failed_" + type(e).__name__)
                if self.reader.done():
                    await self.connect()
        await self.end_conn()


# ---------------------------------------------------------------------------------------------
# Bad frames (raw sockets)


def frame(opcode, payload, mask=True, fin=True, declared=None):
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload) if declared is None else declared
    mbit = 0x80 if mask else 0
    if n < 126:
        head.append(mbit | n)
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return bytes(head) + payload
    key = os.urandom(4)
    return bytes(head) + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload))


BAD = {
    "unmasked": (lambda: frame(1, b'{"type":"list"}', mask=False), 1002),
    "bad_utf8": (lambda: frame(1, b"\xc3\x28 bad"), 1007),
    "oversized": (lambda: frame(1, b"x" * 100, declared=1 << 20), 1009),
    "rsv_bits": (lambda: bytes([0xC1]) + frame(1, b"hi")[1:], 1002),
    "stalled": (lambda: frame(1, b"x" * 50, declared=5000), 1008),
}


async def bad_client(port, until, rnd):
    while time.monotonic() < until:
        await asyncio.sleep(rnd.uniform(1, 4))
        kind = rnd.choice(sorted(BAD) + ["bad_json"])
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
            key = base64.b64encode(os.urandom(16)).decode()
            w.write(("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
            if b" 101 " not in head:
                ST.add("bad_upgrade_refused")
                w.close()
                continue
            if kind == "bad_json":
                w.write(frame(1, b'{"type": "chat", "text": '))
                w.write(frame(1, b'{"type":"leave"}'))  # an error, and the connection stays open
                data = b""
                while b"not_in_room" not in data:  # the hello, then the two errors in order
                    c = await asyncio.wait_for(r.read(65536), 10)
                    if not c:
                        break
                    data += c
                ok = b'"bad_json"' in data and b"not_in_room" in data
                w.write(frame(8, struct.pack("!H", 1000)))
                ST.add("bad_json_ok" if ok else "bad_json_WRONG")
                w.close()
                continue
            make, want = BAD[kind]
            w.write(make())
            data = b""
            try:
                while True:
                    c = await asyncio.wait_for(r.read(65536), 15)
                    if not c:
                        break
                    data += c
            except (asyncio.TimeoutError, ConnectionError):
                pass
            w.close()
            # find the close frame among the server's frames
            code, i = None, 0
            while i + 2 <= len(data):
                op, n = data[i] & 0x0F, data[i + 1] & 0x7F
                j = i + 2
                if n == 126:
                    n, j = struct.unpack("!H", data[j:j + 2])[0], j + 2
                elif n == 127:
                    n, j = struct.unpack("!Q", data[j:j + 8])[0], j + 8
                if op == 8 and n >= 2:
                    code = struct.unpack("!H", data[j:j + 2])[0]
                    break
                i = j + n
            ST.add("bad_%s_%s" % (kind, "ok" if code == want else "WRONG_%s" % code))
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            ST.add("bad_client_error_" + type(e).__name__)


# ---------------------------------------------------------------------------------------------
# Checks


class Stay:
    def __init__(self, client, sid, room, start_i, t, members, resumed):
        self.client, self.sid, self.room = client, sid, room
        self.start_i, self.t_start = start_i, t
        self.end_i, self.t_end, self.graceful = None, None, False
        # after `resumed` the seat was kept (the room too, even with nobody else in it) and the
        # others saw no welcome: the start of such a stay is not checked
        self.resumed = resumed
        self.new_room = not members and not resumed
        self.chats = []  # (event index, seq, text, from id)


def build_stays(clients, problems):
    stays = []
    by_client = {}
    for c in clients:
        cur = None
        mine = []
        after_resumed = False
        for i, (t, kind, msg) in enumerate(c.events):
            if kind == "end":
                if cur:
                    cur.end_i, cur.t_end = i, t
                    cur = None
                continue
            typ = msg.get("type")
            was_resumed, after_resumed = after_resumed, typ == "resumed"
            if typ == "joined":
                if cur:
                    cur.end_i, cur.t_end, cur.graceful = i, t, True
                cur = Stay(c, msg["id"], msg["room"], i, t, msg.get("members"), was_resumed)
                mine.append(cur)
            elif typ == "left":
                if not cur or cur.room != msg.get("room"):
                    problems.append("client %d: left %r outside a stay" % (c.n, msg.get("room")))
                if cur:
                    cur.end_i, cur.t_end, cur.graceful = i, t, True
                cur = None
            elif typ == "chat":
                if not cur or cur.room != msg["room"]:
                    problems.append("client %d: chat for %r (seq %s) outside its stay (in %r)"
                                    % (c.n, msg["room"], msg["seq"], cur.room if cur else None))
                    continue
                cur.chats.append((i, msg["seq"], msg["text"], msg["from"]["id"]))
        if cur:
            cur.end_i, cur.t_end = len(c.events), c.events[-1][0] if c.events else 0
        stays += mine
        by_client[c] = mine
    return stays, by_client


def stay_at(by_client, client, i):
    for s in by_client[client]:
        if s.start_i < i < s.end_i:
            return s
    return None


def last_seq_before(stay, i):
    before = [seq for (j, seq, _, _) in stay.chats if j < i]
    return before[-1] if before else None


def check(clients):
    problems = []
    stays, by_client = build_stays(clients, problems)
    # notices seen by witnesses: (type, id, room) -> [(time, client, index)]
    notices = {}
    for c in clients:
        for i, (t, kind, msg) in enumerate(c.events):
            if kind == "msg" and msg.get("type") in ("welcome", "bye"):
                notices.setdefault((msg["type"], msg["id"], msg["room"]), []).append((t, c, i))

    def witness(typ, stay, t):
        """The room's last seq at the notice matching (typ, stay) near time t, or None."""
        cands = sorted(notices.get((typ, stay.sid, stay.room), []), key=lambda e: abs(e[0] - t))
        for (tw, y, iw) in cands:
            if abs(tw - t) > WITNESS_WINDOW_S:
                break
            ys = stay_at(by_client, y, iw)
            if ys is None or ys.room != stay.room:
                continue
            k = last_seq_before(ys, iw)
            if k is None and ys.new_room and not any(j < iw for (j, _, _, _) in ys.chats):
                k = 0
            if k is not None:
                return k
        return None

    n = {"stays": len(stays), "stays_with_chats": 0, "start_checked": 0, "end_checked": 0,
         "exact_range": 0, "chats_in_stays": 0, "own_echo_checked": 0}
    seen_text = {}
    for s in stays:
        seqs = [seq for (_, seq, _, _) in s.chats]
        n["chats_in_stays"] += len(seqs)
        if seqs:
            n["stays_with_chats"] += 1
        for a, b in zip(seqs, seqs[1:]):
            if b != a + 1:
                problems.append("client %d room %s: seq %d then %d (gap or disorder)"
                                % (s.client.n, s.room, a, b))
        for (_, seq, text, frm) in s.chats:
            key = (s.room, seq, frm)
            if seen_text.setdefault(text, key) != key:
                problems.append("chat %r seen as %r and %r" % (text, seen_text[text], key))
        k0 = None if s.resumed else 0 if s.new_room else witness("welcome", s, s.t_start)
        if k0 is not None:
            n["start_checked"] += 1
            if seqs and seqs[0] != k0 + 1:
                problems.append("client %d room %s: first chat seq %d, room was at %d on join"
                                % (s.client.n, s.room, seqs[0], k0))
        if s.graceful:
            k1 = witness("bye", s, s.t_end)
            if k1 is not None:
                n["end_checked"] += 1
                if seqs and seqs[-1] != k1:
                    problems.append("client %d room %s: last chat seq %d, room was at %d on leave"
                                    % (s.client.n, s.room, seqs[-1], k1))
                if k0 is not None:
                    n["exact_range"] += 1
                    if seqs != list(range(k0 + 1, k1 + 1)):
                        problems.append("client %d room %s: got %s, want %d..%d"
                                        % (s.client.n, s.room, seqs[:5], k0 + 1, k1))
            got = {text for (_, _, text, _) in s.chats}
            for (i, text) in s.client.sent:
                if s.start_i < i <= s.end_i:
                    n["own_echo_checked"] += 1
                    if text not in got:
                        problems.append("client %d room %s: own chat %r not echoed in its stay"
                                        % (s.client.n, s.room, text[:20]))
    return problems, n


# ---------------------------------------------------------------------------------------------


async def sample(srv, until, peak):
    """RSS and threads once a second, and how late this client process's own event loop runs
    (one Python thread drives every client: when it lags by seconds, the server sees slow
    clients, e.g. a handshake whose request comes after request_header_timeout_ms)."""
    while time.monotonic() < until and srv.alive():
        try:
            rss, thr = srv.status()
            peak["rss"] = max(peak["rss"], rss)
            peak["threads"] = max(peak["threads"], thr)
        except OSError:
            pass
        t = time.monotonic()
        await asyncio.sleep(1)
        peak["lag"] = max(peak.get("lag", 0.0), time.monotonic() - t - 1)


async def wait_idle(port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = metric(port, "huddle_websocket_sessions")
        d = metric(port, "huddle_sessions_detached")
        if s == 0 and (d or 0) == 0:
            return True
        await asyncio.sleep(0.5)
    return False


async def warm_up(port, n):
    """Every client once: connect, join, chat, close (touches the worker threads' stacks and the
    allocator's arenas, which grow once and stay; the leak check compares with after this)."""
    async def one(i):
        async with websockets.connect("ws://127.0.0.1:%d/" % port, open_timeout=30) as ws:
            await ws.recv()
            await ws.send(json.dumps({"type": "join", "room": "warm-%d" % (i % 20)}))
            await ws.send(json.dumps({"type": "chat", "text": "warm %d" % i}))
            await asyncio.sleep(1)

    await asyncio.gather(*(one(i) for i in range(n)))
    return await wait_idle(port)


async def main_async(opts, srv):
    rnd = random.Random(opts.seed)
    rooms = ["room-%02d" % i for i in range(opts.rooms)]
    t0 = time.monotonic()
    until = t0 + opts.minutes * 60
    clients = [Client(i, srv.port, rooms, random.Random(rnd.random()), flooder=(i % 50 == 7))
               for i in range(opts.clients)]
    peak = {"rss": 0, "threads": 0}
    sampler = asyncio.ensure_future(sample(srv, until + 60, peak))

    async def start(c, delay):
        await asyncio.sleep(delay)
        await c.run(until)

    tasks = [asyncio.ensure_future(start(c, i * 0.02)) for i, c in enumerate(clients)]
    bads = [asyncio.ensure_future(bad_client(srv.port, until, random.Random(rnd.random())))
            for _ in range(opts.bad_clients)]
    results = await asyncio.gather(*tasks, *bads, return_exceptions=True)
    crashed = [r for r in results if isinstance(r, BaseException)]
    for r in crashed[:5]:
        print("soak: a client task failed: %r" % (r,), file=sys.stderr)
    ST.add("client_tasks_failed", len(crashed))
    idle = await wait_idle(srv.port)
    await asyncio.sleep(2)
    sampler.cancel()
    return clients, peak, idle, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=300)
    ap.add_argument("--rooms", type=int, default=40)
    ap.add_argument("--bad-clients", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    opts = ap.parse_args()
    if not os.access(BIN, os.X_OK):
        raise SystemExit("soak: no server binary at %s (set HUDDLE_BIN)" % BIN)
    srv = Server(opts)
    ok = True
    try:
        http_get(srv.port, "/healthz")
        time.sleep(1)
        cold_rss, cold_thr = srv.status()
        asyncio.run(warm_up(srv.port, opts.clients))
        time.sleep(2)
        rss0, thr0 = srv.status()
        print("soak: %s on port %d, %d clients, %.1f min; RSS %d kB, %d threads after start-up, "
              "%d kB, %d threads after a warm-up wave" % (BIN, srv.port, opts.clients, opts.minutes,
                                                          cold_rss, cold_thr, rss0, thr0), flush=True)
        clients, peak, idle, elapsed = asyncio.run(main_async(opts, srv))
        alive = srv.alive()
        rss1, thr1 = srv.status() if alive else (None, None)
        problems, n = check(clients)
        if os.environ.get("SOAK_DUMP"):
            with open(os.environ["SOAK_DUMP"], "w") as f:
                json.dump({c.n: {"events": c.events, "sent": c.sent} for c in clients}, f)
    finally:
        rc = srv.stop()
    log = srv.text()
    kept = os.path.join(REPO, "bench", "results", "soak-%s.log" % time.strftime("%Y%m%d-%H%M%S"))
    san = [l for l in log.splitlines() if SANITIZER_RE.search(l)]
    rate_lines = len([l for l in log.splitlines() if "over the rate limit: refusing" in l])

    def within(a, b):
        return a is not None and b is not None and abs(a - b) <= 0.10 * b

    rows = [
        ("duration", "%.0f s" % elapsed, ""),
        ("clients / bad-frame clients", "%d / %d" % (opts.clients, opts.bad_clients), ""),
        ("connects (fresh + resumed)", ST.get("connects", 0), ""),
        ("closes / drops+resume / drops+fresh", "%d / %d / %d" % (
            ST.get("closes", 0), ST.get("drops", 0), ST.get("drops_fresh", 0)), ""),
        ("resumed / resume refused", "%d / %d" % (ST.get("resumed", 0), ST.get("resume_refused", 0)), ""),
        ("joins / leaves / renames", "%d / %d / %d" % (
            ST.get("joins", 0), ST.get("leaves", 0), ST.get("renames", 0)), ""),
        ("chats sent (normal / flood)", "%d / %d" % (ST.get("chats_sent", 0),
                                                     ST.get("chats_sent_flood", 0)), ""),
        ("chat deliveries received", ST.get("chats_received", 0), ""),
        ("floods / closed 1008", "%d / %d" % (ST.get("floods", 0), ST.get("flood_closed_1008", 0)),
         "ok" if ST.get("floods", 0) == ST.get("flood_closed_1008", 0) else "FAIL"),
        ("rate_limited errors / log lines", "%d / %d" % (ST.get("error_rate_limited", 0), rate_lines), ""),
    ]
    bad_keys = sorted(k for k in ST if k.startswith("bad_"))
    bad_wrong = sum(ST[k] for k in bad_keys if "WRONG" in k)
    rows.append(("bad frames (kind: count)", ", ".join("%s %d" % (k[4:], ST[k]) for k in bad_keys),
                 "FAIL" if bad_wrong else "ok"))
    rows += [
        ("stays / with chats", "%d / %d" % (n["stays"], n["stays_with_chats"]), ""),
        ("chat receipts checked", n["chats_in_stays"], ""),
        ("start / end / exact-range checks", "%d / %d / %d" % (
            n["start_checked"], n["end_checked"], n["exact_range"]), ""),
        ("own chats checked for echo", n["own_echo_checked"], ""),
        ("order/completeness problems", len(problems), "ok" if not problems else "FAIL"),
        ("client task failures", ST.get("client_tasks_failed", 0),
         "ok" if not ST.get("client_tasks_failed", 0) else "FAIL"),
        ("server alive at end / exit status", "%s / %s" % (alive, rc),
         "ok" if alive and rc == 0 else "FAIL"),
        ("sanitizer reports", len(san), "ok" if not san else "FAIL"),
        ("all sessions gone at end", idle, "ok" if idle else "FAIL"),
        ("RSS kB cold / start / peak / end", "%s / %s / %s / %s" % (
            cold_rss, rss0, peak["rss"], rss1), "ok" if within(rss1, rss0) else "FAIL"),
        ("end RSS vs cold start-up (info)", "%+.0f %%" % (100.0 * (rss1 - cold_rss) / cold_rss)
         if rss1 else "-", ""),
        ("threads cold / start / peak / end", "%s / %s / %s / %s" % (
            cold_thr, thr0, peak["threads"], thr1), "ok" if within(thr1, thr0) else "FAIL"),
        ("client process event-loop lag, max (info)", "%.2f s" % peak.get("lag", 0.0), ""),
    ]
    other = {k: v for k, v in ST.items() if k.startswith(("action_failed", "reader_errors",
                                                          "flood_not", "flood_ended", "error_"))}
    if other:
        rows.append(("other events", ", ".join("%s %d" % kv for kv in sorted(other.items())), ""))
    w = max(len(r[0]) for r in rows)
    print()
    print("| %-*s | %-40s | %-4s |" % (w, "soak", "value", "ok"))
    print("|-%s-|-%s-|-%s-|" % ("-" * w, "-" * 40, "-" * 4))
    for name, val, verdict in rows:
        print("| %-*s | %-40s | %-4s |" % (w, name, val, verdict))
        if verdict == "FAIL":
            ok = False
    for p in problems[:20]:
        print("problem: " + p)
    if len(problems) > 20:
        print("... %d more problems" % (len(problems) - 20))
    for l in san[:10]:
        print("sanitizer: " + l)
    if not ok:
        os.makedirs(os.path.dirname(kept), exist_ok=True)
        with open(kept, "w") as f:
            f.write(log)
    print("soak: %s (server log %d lines%s)" % ("PASS" if ok else "FAIL", len(log.splitlines()),
                                                 ", kept in " + kept if not ok else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
