# SPDX-License-Identifier: MIT
"""Abuse hardening: per-address HTTP connection cap counted at accept (600 stalled half-requests
from one address do not slow down another address), the request header timeout, the per-address
WebSocket cap and trusted_proxies, chat floods (rate_limited, then 1008), complete answers to bad
WebSocket handshakes, HTTP request hardening (smuggling-shaped framing, methods, ranges, security
headers) and two config checks.

"Another address" is 127.0.0.2: on Linux a client connecting to 127.0.0.1 uses source 127.0.0.1
unless it binds, so every helper here takes the source address to bind to."""

import asyncio
import base64
import json
import os
import re
import select
import shutil
import socket
import tempfile
import threading
import time
import unittest

import websockets

from harness import TIMEOUT, WWW, Server, run_async, run_to_exit
from roomutil import Peer, close_all, parse_metrics, room_name

HERE = "127.0.0.1"
OTHER = "127.0.0.2"  # the "other address" (bound explicitly)

# The bars.
ANSWER_BAR_S = 1.0  # /healthz and a WebSocket hello from another address during the attack
ATTACK_S = 12  # how long the attack lasts (one probe per second)
ATTACKERS = 600  # stalled half-requests from 127.0.0.1
CHAT_BAR_S = 1.0  # a quiet member's own chat comes back while another member floods


# ---------------------------------------------------------------------------------------------
# Raw HTTP from a chosen source address


def connect_from(port, src=HERE, timeout=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(TIMEOUT if timeout is None else timeout)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


def read_to_end(s, timeout=None):
    """Everything the server sends until it closes. Returns (bytes, 'eof' | 'reset' | 'timeout')."""
    deadline = time.monotonic() + (TIMEOUT if timeout is None else timeout)
    data = b""
    for _ in range(1000000):
        left = deadline - time.monotonic()
        if left <= 0:
            return data, "timeout"
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return data, "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return data, "reset"
        if not chunk:
            return data, "eof"
        data += chunk
    return data, "timeout"


def exchange(port, raw, src=HERE, timeout=None):
    """Sends raw bytes on a new connection and reads until the server closes it.
    Returns (bytes received, how it ended)."""
    with connect_from(port, src, timeout) as s:
        s.sendall(raw)
        return read_to_end(s, timeout)


class Response:
    def __init__(self, status_line, headers, body):
        self.status_line = status_line
        self.status = int(status_line.split()[1])
        self.headers = headers  # list of (name lower-case, value)
        self.body = body

    def header(self, name):
        vals = [v for k, v in self.headers if k == name.lower()]
        return vals[0] if vals else None

    def header_all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    def __repr__(self):
        return "Response(%r, %r, %r)" % (self.status_line, self.headers, self.body[:100])


def parse_responses(data, head_only=()):
    """Splits bytes into complete HTTP responses (bodies framed by Content-Length; a response
    without one must be the last and ends at EOF). head_only: indexes of responses to a HEAD
    (no body). Raises AssertionError on a response that is cut short or has no status line."""
    out = []
    rest = data
    for _ in range(1000):
        if not rest:
            break
        head, sep, rest = rest.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("incomplete response head: %r" % head[:300])
        lines = head.decode("latin-1").split("\r\n")
        if not re.match(r"^HTTP/1\.[01] \d{3}( |$)", lines[0]):
            raise AssertionError("no HTTP status line: %r" % head[:300])
        headers = []
        for line in lines[1:]:
            k, colon, v = line.partition(":")
            if not colon:
                raise AssertionError("malformed header line %r in %r" % (line, head[:300]))
            headers.append((k.strip().lower(), v.strip()))
        r = Response(lines[0], headers, b"")
        cl = r.header("content-length")
        if len(out) in head_only or r.status in (204, 304) or 100 <= r.status < 200:
            pass
        elif cl is not None:
            n = int(cl)
            if len(rest) < n:
                raise AssertionError("body cut short (%d of %d bytes): %r" % (len(rest), n, r))
            r.body, rest = rest[:n], rest[n:]
        else:
            r.body, rest = rest, b""
        out.append(r)
    return out


def request_bytes(method, path, headers=(), version="HTTP/1.1", body=b""):
    """One request; headers is a sequence of (name, value) sent in order (duplicates allowed)."""
    lines = ["%s %s %s" % (method, path, version)] + ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def http_from(port, path, src=HERE, method="GET", headers=None, timeout=None):
    """A normal request (Host, Connection: close) from src; returns the Response."""
    hdrs = [("Host", "127.0.0.1:%d" % port), ("Connection", "close")] + list((headers or {}).items())
    data, _ = exchange(port, request_bytes(method, path, hdrs), src, timeout)
    rs = parse_responses(data, head_only=(0,) if method == "HEAD" else ())
    if len(rs) != 1:
        raise AssertionError("want one response to %s %s, got %r" % (method, path, rs))
    return rs[0]


def metrics_from(port, src=OTHER):
    r = http_from(port, "/metrics", src)
    if r.status != 200:
        raise AssertionError("/metrics answered %r" % r)
    return parse_metrics(r.body.decode("utf-8"))


def wait_metric_from(port, key, pred, src=OTHER, timeout=None):
    deadline = time.monotonic() + (TIMEOUT if timeout is None else timeout)
    last = None
    for _ in range(100000):
        last = metrics_from(port, src).get(key)
        if last is not None and pred(last):
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    raise AssertionError("metric %s never satisfied the condition (last %r)" % (key, last))


def ws_key():
    return base64.b64encode(os.urandom(16)).decode()


def upgrade_from(port, src=HERE, extra=(), key=None, version="13", path="/"):
    """Sends a WebSocket upgrade request from src and reads the response head. Returns
    (status, head text, socket): a 101's socket stays open (the session is held) and is the
    caller's to close; for any other status the socket is closed and None."""
    hdrs = [("Host", "127.0.0.1:%d" % port), ("Upgrade", "websocket"), ("Connection", "Upgrade")]
    if key is not False:
        hdrs.append(("Sec-WebSocket-Key", key or ws_key()))
    if version is not None:
        hdrs.append(("Sec-WebSocket-Version", version))
    hdrs += list(extra)
    s = connect_from(port, src)
    try:
        s.sendall(request_bytes("GET", path, hdrs))
        buf = b""
        deadline = time.monotonic() + TIMEOUT
        for _ in range(10000):
            if b"\r\n\r\n" in buf:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no response head to the upgrade in time: %r" % buf[:200])
            s.settimeout(left)
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
        head = buf.partition(b"\r\n\r\n")[0].decode("latin-1")
        m = re.match(r"HTTP/1\.[01] (\d{3})", head)
        if not m:
            raise AssertionError("no status line in %r" % head[:200])
        status = int(m.group(1))
    except BaseException:
        s.close()
        raise
    if status == 101:
        return status, head, s
    s.close()
    return status, head, None


def upgrade_until(port, want, src=HERE, extra=(), timeout=None):
    """Retries an upgrade until it answers `want` (a slot is released a moment after its
    connection closed). Returns (status, head, socket-or-None) of the last try."""
    deadline = time.monotonic() + (TIMEOUT if timeout is None else timeout)
    for _ in range(100000):
        st, head, s = upgrade_from(port, src, extra)
        if st == want or time.monotonic() >= deadline:
            return st, head, s
        if s:
            s.close()
        time.sleep(0.05)
    raise AssertionError("unreachable")


def close_socks(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


HALF_REQUEST = b"GET / HTTP/1.1\r\nHost: a\r\n"


# ---------------------------------------------------------------------------------------------
# 1. max_http_connections_per_ip


class Stalker(threading.Thread):
    """Holds `n` stalled half-requests from 127.0.0.1: every one the server closes (503 over the
    cap, or dropped by the header timeout) is opened again, at most `per_round` per 50 ms."""

    def __init__(self, port, n, per_round=100):
        super().__init__(daemon=True)
        self.port, self.n, self.per_round = port, n, per_round
        self.socks = []
        self.stop_ev = threading.Event()
        self.opened = 0
        self.refused = 0  # connections the server answered/closed at once
        self.errors = 0

    def _open(self):
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(True)
            s.settimeout(2)
            s.connect((HERE, self.port))
            s.sendall(HALF_REQUEST)
            s.setblocking(False)
        except OSError:
            self.errors += 1
            try:
                s.close()
            except OSError:
                pass
            return
        self.socks.append(s)
        self.opened += 1

    def fill(self):
        for _ in range(self.n - len(self.socks)):
            self._open()

    def run(self):
        while not self.stop_ev.wait(0.05):
            try:
                readable, _, _ = select.select(self.socks, [], [], 0)
            except (OSError, ValueError):
                readable = list(self.socks)
            for s in readable:
                try:
                    s.recv(4096)
                except OSError:
                    pass
                self.refused += 1
                self.socks.remove(s)
                s.close()
            for _ in range(min(self.per_round, self.n - len(self.socks))):
                self._open()

    def stop(self):
        self.stop_ev.set()
        self.join(TIMEOUT)
        close_socks(self.socks)
        self.socks = []


class HttpConnectionCapTest(unittest.TestCase):
    def test_stalled_half_requests_do_not_slow_another_address(self):
        """The issue's bar: 600 stalled half-requests from 127.0.0.1 (kept at 600: each one the
        server closes is opened again); 127.0.0.2 gets /healthz and a WebSocket hello within 1 s,
        every second for 12 s."""
        srv = Server(name="abuse-stalled").start()
        stalker = Stalker(srv.port, ATTACKERS)
        try:
            stalker.fill()
            stalker.start()

            async def probe():
                times = []
                for i in range(ATTACK_S):
                    t_next = time.monotonic() + 1.0
                    t0 = time.monotonic()
                    r = await asyncio.get_running_loop().run_in_executor(
                        None, lambda: http_from(srv.port, "/healthz", OTHER, timeout=5))
                    t_http = time.monotonic() - t0
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(json.loads(r.body), {"status": "ok"})
                    t0 = time.monotonic()
                    ws = await asyncio.wait_for(
                        websockets.connect(srv.url(), local_addr=(OTHER, 0), open_timeout=5,
                                           close_timeout=2), 5)
                    try:
                        hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
                        t_ws = time.monotonic() - t0
                    finally:
                        await ws.close()
                    self.assertEqual(hello["type"], "hello")
                    times.append((t_http, t_ws))
                    await asyncio.sleep(max(0.0, t_next - time.monotonic()))
                return times

            times = run_async(probe(), timeout=ATTACK_S + 60)
            worst = max(max(t) for t in times)
            slow = [(i, "%.3f/%.3f" % t) for i, t in enumerate(times) if max(t) >= ANSWER_BAR_S]
            self.assertEqual(slow, [], "answers from %s slower than %.1f s (http/ws per second); "
                             "worst %.3f s" % (OTHER, ANSWER_BAR_S, worst))
            self.assertGreaterEqual(stalker.opened, ATTACKERS)
            m = metrics_from(srv.port)
            self.assertGreater(m["huddle_http_refused_ip_total"], 0)
            # the cap held: at most 16 of 127.0.0.1's connections (plus this request's own)
            self.assertLessEqual(m["huddle_http_connections"], 16 + 1)
            stalker.stop()
            # every stalled connection is gone: only the /metrics request itself is counted
            wait_metric_from(srv.port, "huddle_http_connections", lambda v: v <= 1)
        finally:
            stalker.stop()
            srv.stop()

    def test_seventeenth_connection_gets_503_and_room_comes_back(self):
        cfg = {"max_http_connections_per_ip": 16, "request_header_timeout_ms": 60000}
        with Server(cfg, name="abuse-http-cap") as srv:
            idle = []
            try:
                for _ in range(16):
                    idle.append(connect_from(srv.port, HERE))
                # all 16 counted (and the /metrics request from 127.0.0.2 itself)
                wait_metric_from(srv.port, "huddle_http_connections", lambda v: v >= 17)
                # the 17th: 503 at once, before it sends anything, then closed
                with connect_from(srv.port, HERE) as s:
                    data, how = read_to_end(s, TIMEOUT)
                self.assertIn(how, ("eof", "reset"), data)
                rs = parse_responses(data)
                self.assertEqual(len(rs), 1, rs)
                self.assertTrue(rs[0].status_line.startswith("HTTP/1.1 503"), rs[0])
                # a request on a refused connection is not served either
                data, how = exchange(srv.port, request_bytes(
                    "GET", "/healthz", [("Host", "a"), ("Connection", "close")]), HERE)
                self.assertNotIn(b'"ok"', data)
                # another address is served meanwhile
                r = http_from(srv.port, "/healthz", OTHER)
                self.assertEqual(r.status, 200, r)
                m = metrics_from(srv.port)
                self.assertGreaterEqual(m["huddle_http_refused_ip_total"], 2)
                # close four: new connections from 127.0.0.1 are accepted again
                close_socks(idle[:4])
                del idle[:4]
                # the server has seen all four go (12 left, and the /metrics request itself)
                # before the three below are counted: else a close still on its way makes the
                # last request the 17th (seen once under ASan on a loaded machine)
                wait_metric_from(srv.port, "huddle_http_connections", lambda v: v <= 12 + 1)
                deadline = time.monotonic() + TIMEOUT
                r = None
                for _ in range(10000):
                    try:
                        r = http_from(srv.port, "/healthz", HERE, timeout=5)
                    except AssertionError:
                        r = None
                    if (r and r.status == 200) or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                self.assertIsNotNone(r)
                self.assertEqual(r.status, 200, r)
                # hold three more: 12 + 3 + ... still under the cap
                for _ in range(3):
                    idle.append(connect_from(srv.port, HERE))
                r = http_from(srv.port, "/healthz", HERE)
                self.assertEqual(r.status, 200, r)
            finally:
                close_socks(idle)
            # the gauge goes back down: only the /metrics request itself
            wait_metric_from(srv.port, "huddle_http_connections", lambda v: v <= 1)

    def test_zero_means_no_limit(self):
        cfg = {"max_http_connections_per_ip": 0, "request_header_timeout_ms": 60000}
        with Server(cfg, name="abuse-http-nocap") as srv:
            idle = []
            try:
                for _ in range(30):
                    idle.append(connect_from(srv.port, HERE))
                r = http_from(srv.port, "/healthz", HERE)
                self.assertEqual(r.status, 200, r)
            finally:
                close_socks(idle)


# ---------------------------------------------------------------------------------------------
# 2. request_header_timeout_ms


class HeaderTimeoutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"request_header_timeout_ms": 500}, name="abuse-header-timeout").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_unfinished_headers_are_dropped(self):
        # 500 ms configured; the default would be 5000: 4 s tells them apart
        with connect_from(self.server.port) as s:
            s.sendall(HALF_REQUEST)
            data, how = read_to_end(s, 4.0)
        self.assertIn(how, ("eof", "reset"), "still open after 4 s (timeout 500 ms): %r" % data)
        self.assertNotIn(b"200 OK", data)

    def test_silent_connection_is_dropped(self):
        with connect_from(self.server.port) as s:
            data, how = read_to_end(s, 4.0)
        self.assertIn(how, ("eof", "reset"), "still open after 4 s (timeout 500 ms): %r" % data)

    def test_headers_dripped_slowly_are_dropped(self):
        """Slowloris: one byte every 100 ms never completes within 500 ms."""
        req = b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Pad: " + b"a" * 60 + b"\r\n\r\n"
        with connect_from(self.server.port) as s:
            closed = False
            for i in range(len(req)):
                try:
                    s.sendall(req[i:i + 1])
                except OSError:
                    closed = True
                    break
                r, _, _ = select.select([s], [], [], 0.1)
                if r:
                    data, how = read_to_end(s, 1.0)
                    closed = how in ("eof", "reset")
                    break
            if not closed:
                data, how = read_to_end(s, 2.0)
                self.assertNotIn(b"200 OK", data, "a request dripped over %.1f s was served"
                                 % (len(req) * 0.1))
                closed = how in ("eof", "reset")
        self.assertTrue(closed, "a request dripped byte by byte stayed open")

    def test_normal_requests_still_served(self):
        r = http_from(self.server.port, "/healthz")
        self.assertEqual(r.status, 200, r)


# ---------------------------------------------------------------------------------------------
# 3. max_connections_per_ip and trusted_proxies


class WebSocketCapTest(unittest.TestCase):
    def test_fourth_websocket_from_one_address_gets_503(self):
        with Server({"max_connections_per_ip": 3}, name="abuse-ws-cap") as srv:
            held = []
            try:
                for _ in range(3):
                    st, head, s = upgrade_from(srv.port, HERE)
                    self.assertEqual(st, 101, head)
                    held.append(s)
                st, head, s = upgrade_from(srv.port, HERE)
                self.assertEqual(st, 503, head)
                self.assertNotIn("sec-websocket-accept", head.lower())
                # a real client from the same address is refused too
                async def refused():
                    with self.assertRaises(websockets.InvalidStatusCode) as cm:
                        ws = await websockets.connect(srv.url(), open_timeout=TIMEOUT)
                        await ws.close()
                    self.assertEqual(cm.exception.status_code, 503)

                run_async(refused())
                # another address still connects
                async def other():
                    ws = await websockets.connect(srv.url(), local_addr=(OTHER, 0),
                                                  open_timeout=TIMEOUT)
                    try:
                        hello = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                        self.assertEqual(hello["type"], "hello")
                    finally:
                        await ws.close()

                run_async(other())
                # one closes: a new one from 127.0.0.1 is accepted
                held.pop(0).close()
                st, head, s = upgrade_until(srv.port, 101, HERE)
                self.assertEqual(st, 101, head)
                held.append(s)
                st, head, s = upgrade_from(srv.port, HERE)
                self.assertEqual(st, 503, head)
                m = metrics_from(srv.port)
                self.assertGreaterEqual(m["huddle_websocket_refused_ip_total"], 3)
            finally:
                close_socks(held)

    def test_trusted_proxy_counts_forwarded_clients(self):
        cfg = {"max_connections_per_ip": 2, "trusted_proxies": "127.0.0.1"}
        with Server(cfg, name="abuse-xff") as srv:
            held = []
            try:
                def up(client, src=HERE):
                    extra = [("X-Forwarded-For", client)] if client else []
                    st, head, s = upgrade_from(srv.port, src, extra)
                    if s:
                        held.append(s)
                    return st, head

                # the proxy (127.0.0.1) carries two sessions each for three clients
                for client in ("10.0.0.1", "10.0.0.2", "198.51.100.7, 10.0.0.3"):
                    for _ in range(2):
                        st, head = up(client)
                        self.assertEqual(st, 101, "%s: %s" % (client, head))
                # a third for any of them is over its cap
                for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3", "203.0.113.9, 10.0.0.1"):
                    st, head = up(client)
                    self.assertEqual(st, 503, "%s: %s" % (client, head))
                # a client the proxy adds to the list is its own: the right-most entry counts
                st, head = up("10.0.0.1, 10.0.0.4")
                self.assertEqual(st, 101, head)
                # from an untrusted peer (127.0.0.2) the header is ignored: the peer counts
                for client in ("10.1.0.1", "10.1.0.2"):
                    st, head = up(client, OTHER)
                    self.assertEqual(st, 101, "%s via %s: %s" % (client, OTHER, head))
                st, head = up("10.1.0.3", OTHER)
                self.assertEqual(st, 503, "X-Forwarded-For from an untrusted peer was believed")
                st, head = up(None, OTHER)
                self.assertEqual(st, 503, head)
            finally:
                close_socks(held)


# ---------------------------------------------------------------------------------------------
# 4. Floods


class FloodTest(unittest.TestCase):
    CFG = {"rate_limit_per_sec": 20, "rate_limit_burst": 40}

    async def flood(self, flooder, rounds=20):
        """300 chats at once, then 50 more whenever it is quiet, until the server closes the
        connection or `rounds` rounds are done. Returns (rate_limited errors, chats back, closed)."""
        limited = chats = 0
        batch = 300
        for _ in range(rounds):
            for i in range(batch):
                try:
                    await flooder.send({"type": "chat", "text": "flood %d" % i})
                except websockets.ConnectionClosed:
                    return limited, chats, True
            batch = 50
            try:
                for _ in range(100000):
                    msg = await flooder.recv(timeout=0.3)
                    if msg.get("type") == "error":
                        self.assertEqual(msg.get("code"), "rate_limited", msg)
                        limited += 1
                    elif msg.get("type") == "chat":
                        chats += 1
            except asyncio.TimeoutError:
                continue
            except websockets.ConnectionClosed:
                return limited, chats, True
        return limited, chats, False

    async def quiet_member(self, peer, stop, times):
        """Sends its own chat every 200 ms and times until it comes back."""
        k = 0
        while not stop.is_set():
            k += 1
            text = "quiet %d" % k
            t0 = time.monotonic()
            await peer.chat(text)
            for _ in range(100000):
                msg = await peer.recv(timeout=TIMEOUT)
                if (msg.get("type") == "chat" and msg["from"]["id"] == peer.id
                        and msg["text"] == text):
                    break
                self.assertNotEqual(msg.get("type"), "error", msg)
            times.append(time.monotonic() - t0)
            await asyncio.sleep(0.2)

    def test_flooder_is_limited_then_closed_1008_quiet_member_unaffected(self):
        with Server(dict(self.CFG), name="abuse-flood") as srv:
            mark = srv.mark()

            async def go():
                flooder, quiet = await Peer.open(srv), await Peer.open(srv)
                try:
                    room = room_name("flood")
                    await flooder.join(room)
                    await quiet.join(room)
                    await flooder.expect("welcome")
                    stop = asyncio.Event()
                    times = []
                    q = asyncio.ensure_future(self.quiet_member(quiet, stop, times))
                    await asyncio.sleep(0.3)
                    limited, chats, closed = await self.flood(flooder)
                    code = flooder.ws.close_code
                    await asyncio.sleep(2.0)  # and a while after
                    stop.set()
                    await asyncio.wait_for(q, TIMEOUT)
                    return limited, chats, closed, code, times
                finally:
                    await close_all([flooder, quiet])

            limited, chats, closed, code, times = run_async(go())
            self.assertTrue(closed, "the flooder was never closed (%d rate_limited)" % limited)
            self.assertEqual(code, 1008)
            self.assertGreaterEqual(limited, 1)
            self.assertLessEqual(chats, 300, "more chats than sent went through?")
            self.assertGreater(len(times), 5)
            self.assertLess(max(times), CHAT_BAR_S, "quiet member's chat round trips: %s"
                            % ["%.3f" % t for t in times])
            log = srv.log().splitlines()[mark:]
            over = [line for line in log if "over the rate limit" in line]
            self.assertLessEqual(len(over), 2, "one line per limited session, got:\n"
                                 + "\n".join(over[:10]))
            self.assertEqual(len([l for l in over if "refusing" in l]), 1, over)
            m = parse_metrics(http_from(srv.port, "/metrics").body.decode())
            self.assertEqual(m["huddle_flood_closes_total"], 1)

    def test_flood_close_after_zero_never_closes(self):
        cfg = dict(self.CFG, flood_close_after=0)
        with Server(cfg, name="abuse-flood-noclose") as srv:
            mark = srv.mark()

            async def go():
                flooder, other = await Peer.open(srv), await Peer.open(srv)
                try:
                    room = room_name("flood")
                    await flooder.join(room)
                    await other.join(room)
                    await flooder.expect("welcome")
                    limited, chats, closed = await self.flood(flooder, rounds=4)
                    self.assertFalse(closed, "closed with flood_close_after = 0")
                    self.assertGreater(limited, 200)
                    # still a member once it slows down
                    await asyncio.sleep(1.0)
                    self.assertEqual(await flooder.sync(skip=("rooms", "chat")), [])
                    await flooder.chat("calm now")
                    for _ in range(100000):
                        msg = await other.recv(timeout=TIMEOUT)
                        if msg.get("type") == "chat" and msg["text"] == "calm now":
                            break
                finally:
                    await close_all([flooder, other])

            run_async(go())
            over = [l for l in srv.log().splitlines()[mark:] if "over the rate limit" in l]
            self.assertEqual(len(over), 1, over)


# ---------------------------------------------------------------------------------------------
# 5. Handshake errors


class HandshakeErrorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(name="abuse-handshake").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def answer(self, key=None, version="13"):
        hdrs = [("Host", "127.0.0.1:%d" % self.server.port), ("Upgrade", "websocket"),
                ("Connection", "Upgrade")]
        if key is not False:
            hdrs.append(("Sec-WebSocket-Key", key or ws_key()))
        if version is not None:
            hdrs.append(("Sec-WebSocket-Version", version))
        data, how = exchange(self.server.port, request_bytes("GET", "/", hdrs))
        self.assertIn(how, ("eof", "reset"), data)
        rs = parse_responses(data)  # complete: status line, headers, body of Content-Length
        self.assertEqual(len(rs), 1, rs)
        self.assertIsNotNone(rs[0].header("content-length"), rs[0])
        self.assertIsNone(rs[0].header("sec-websocket-accept"), rs[0])
        return rs[0]

    def test_bad_version_426(self):
        for version in ("8", "12", "14", "13, 8", "", "abc", None):
            with self.subTest(version=version):
                r = self.answer(version=version)
                self.assertTrue(r.status_line.startswith("HTTP/1.1 426"), r)
                self.assertEqual(r.header("sec-websocket-version"), "13", r)

    def test_missing_or_malformed_key_400(self):
        for key in (False, "abc", "x" * 24, base64.b64encode(os.urandom(15)).decode(),
                    base64.b64encode(os.urandom(17)).decode(), "AAAAAAAAAAAAAAAAAAAAA===",
                    "AAAAAAAAAAAAAAAAAAAAAB==", "!AAAAAAAAAAAAAAAAAAAAA=="):
            with self.subTest(key=key):
                r = self.answer(key=key)
                self.assertTrue(r.status_line.startswith("HTTP/1.1 400"), r)

    def test_good_handshake_still_101(self):
        st, head, s = upgrade_from(self.server.port)
        s.close()
        self.assertEqual(st, 101, head)


# ---------------------------------------------------------------------------------------------
# 6. HTTP hardening


FILE_SIZE = 100


class HttpHardeningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.top = tempfile.mkdtemp(prefix="huddle-abuse-root-")
        with open(os.path.join(cls.top, "index.html"), "w") as f:
            f.write("<!doctype html><title>t</title><p>INDEX</p>\n")
        cls.data = bytes((b"0123456789" * 10)[:FILE_SIZE])
        with open(os.path.join(cls.top, "data.txt"), "wb") as f:
            f.write(cls.data)
        try:
            cls.server = Server(root=cls.top, name="abuse-http").start()
        except Exception:
            shutil.rmtree(cls.top, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            shutil.rmtree(cls.top, ignore_errors=True)

    def host(self):
        return ("Host", "127.0.0.1:%d" % self.server.port)

    def smuggle(self, first, why):
        """Sends a malformed request with a valid one right behind it on the same connection:
        only one answer, 400, and the connection closed after it."""
        second = request_bytes("GET", "/healthz", [self.host()])
        data, how = exchange(self.server.port, first + second)
        self.assertIn(how, ("eof", "reset"), "%s: connection left open: %r" % (why, data))
        rs = parse_responses(data)
        self.assertGreaterEqual(len(rs), 1, "%s: no answer" % why)
        self.assertTrue(rs[0].status_line.startswith("HTTP/1.1 400"), "%s: %r" % (why, rs))
        self.assertEqual(len(rs), 1, "%s: a second response on the same connection: %r"
                         % (why, rs))
        self.assertNotIn(b'"status"', data)

    def test_framing_and_host_ambiguities_400_and_close(self):
        h = self.host()
        cases = {
            "Content-Length with Transfer-Encoding": request_bytes(
                "GET", "/data.txt", [h, ("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
                body=b"0\r\n\r\n"),
            "Transfer-Encoding then Content-Length": request_bytes(
                "GET", "/data.txt", [h, ("Transfer-Encoding", "chunked"), ("Content-Length", "5")],
                body=b"0\r\n\r\n"),
            "two equal Content-Lengths": request_bytes(
                "GET", "/data.txt", [h, ("Content-Length", "5"), ("Content-Length", "5")],
                body=b"hello"),
            "two different Content-Lengths": request_bytes(
                "GET", "/data.txt", [h, ("Content-Length", "5"), ("Content-Length", "0")],
                body=b"hello"),
            "Content-Length: 5, 5": request_bytes(
                "GET", "/data.txt", [h, ("Content-Length", "5, 5")], body=b"hello"),
            "two Host headers": request_bytes("GET", "/data.txt", [h, ("Host", "evil.example")]),
            "HTTP/1.1 without Host": request_bytes("GET", "/data.txt", [("Accept", "*/*")]),
            "%00 in the path": request_bytes("GET", "/index.html%00.txt", [h]),
        }
        for why, raw in cases.items():
            with self.subTest(case=why):
                self.smuggle(raw, why)

    def test_http10_without_host_still_200(self):
        data, how = exchange(self.server.port, b"GET /data.txt HTTP/1.0\r\n\r\n")
        rs = parse_responses(data)
        self.assertEqual(len(rs), 1, rs)
        self.assertEqual(rs[0].status, 200, rs[0])
        self.assertEqual(rs[0].body, self.data)

    def test_other_methods_405_with_allow(self):
        for method in ("PUT", "DELETE", "POST", "PROPFIND", "MKCOL", "PATCH"):
            with self.subTest(method=method):
                body = b"x" if method in ("PUT", "POST", "PATCH") else b""
                hdrs = [self.host(), ("Connection", "close")]
                if body:
                    hdrs.append(("Content-Length", str(len(body))))
                data, _ = exchange(self.server.port, request_bytes(method, "/data.txt", hdrs,
                                                                   body=body))
                rs = parse_responses(data)
                self.assertEqual(len(rs), 1, rs)
                self.assertEqual(rs[0].status, 405, rs[0])
                self.assertEqual(rs[0].header("allow"), "GET, HEAD, OPTIONS", rs[0])
        with open(os.path.join(self.top, "data.txt"), "rb") as f:
            self.assertEqual(f.read(), self.data, "a method changed the file")

    def test_options_204_with_allow(self):
        for path in ("/", "/data.txt"):
            with self.subTest(path=path):
                data, _ = exchange(self.server.port, request_bytes(
                    "OPTIONS", path, [self.host(), ("Connection", "close")]))
                rs = parse_responses(data)
                self.assertEqual(len(rs), 1, rs)
                self.assertEqual(rs[0].status, 204, rs[0])
                self.assertEqual(rs[0].header_all("allow"), ["GET, HEAD, OPTIONS"], rs[0])
                self.assertEqual(rs[0].body, b"")

    def test_options_asterisk_advertises_nothing(self):
        """OPTIONS * (RFC 9110 9.3.7: the server as a whole) never reaches huddle: CivetWeb 1.15
        closes it before begin_request runs (known limit, README). What matters for hardening is
        that nothing is advertised: no answer, or one whose Allow names GET, HEAD, OPTIONS only."""
        data, how = exchange(self.server.port, request_bytes(
            "OPTIONS", "*", [self.host(), ("Connection", "close")]))
        rs = parse_responses(data)
        for r in rs:
            self.assertIn(r.header_all("allow"), ([], ["GET, HEAD, OPTIONS"]), r)
        self.assertNotIn(b"PROPFIND", data)
        self.assertNotIn(b"PUT", data)

    def test_bad_ranges_416_with_content_range(self):
        for rng in ("bytes=5-3", "bytes=999999999-", "bytes=abc", "bytes=0-1,5-6",
                    "bytes=%d-" % FILE_SIZE):
            with self.subTest(range=rng):
                r = http_from(self.server.port, "/data.txt", headers={"Range": rng})
                self.assertEqual(r.status, 416, r)
                self.assertEqual(r.header("content-range"), "bytes */%d" % FILE_SIZE, r)
                self.assertNotIn(self.data[:10], r.body)

    def test_good_range_206(self):
        r = http_from(self.server.port, "/data.txt", headers={"Range": "bytes=0-9"})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, self.data[0:10])
        self.assertEqual(r.header("content-range"), "bytes 0-9/%d" % FILE_SIZE, r)
        r = http_from(self.server.port, "/data.txt", headers={"Range": "bytes=90-"})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, self.data[90:])

    def test_security_headers_on_static_files(self):
        for path in ("/", "/index.html", "/data.txt"):
            with self.subTest(path=path):
                r = http_from(self.server.port, path)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header("x-content-type-options"), "nosniff", r)
                csp = r.header("content-security-policy") or ""
                self.assertIn("default-src 'self'", csp, r)
                self.assertNotIn("unsafe-inline", csp)
                self.assertIsNotNone(r.header("referrer-policy"), r)


# ---------------------------------------------------------------------------------------------
# 8. Config


class AbuseConfigTest(unittest.TestCase):
    def test_ice_servers_with_space_after_comma(self):
        with Server({"ice_servers": "stun:a:3478, turn:b:3478", "turn_username": "u",
                     "turn_credential": "p"}, name="abuse-ice") as srv:
            r = http_from(srv.port, "/api/config")
            self.assertEqual(r.status, 200, r)
            cfg = json.loads(r.body)
            urls = [u for s in cfg["iceServers"] for u in s["urls"]]
            self.assertEqual(sorted(urls), ["stun:a:3478", "turn:b:3478"], cfg)

    def test_trusted_proxies_nonsense_exits_2_naming_file_line_key(self):
        config = "# test\nlog_level = info\ntrusted_proxies = nonsense\n"
        rc, out = run_to_exit(["--config", "{tmp}/huddle.conf", "--bind", "127.0.0.1",
                               "--port", "0", "--root", WWW], config=config)
        self.assertEqual(rc, 2, out)
        self.assertRegex(out, r"huddle\.conf:3\b")
        self.assertIn("trusted_proxies", out)


if __name__ == "__main__":
    unittest.main()
