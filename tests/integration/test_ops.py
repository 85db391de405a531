# SPDX-License-Identifier: MIT
"""Operations (issue 5): Origin checks on the WebSocket upgrade (403 before the upgrade for a
foreign Origin, allowed_origins lists and "*"), /metrics counters that move with connects, chat and
disconnects, and SIGTERM: every WebSocket gets close 1001 and the process exits 0 within 3 s."""

import asyncio
import re
import time
import unittest

import websockets

from harness import TIMEOUT, Server, run_async
from roomutil import (
    Peer,
    RawClient,
    close_all,
    http_request,
    metrics,
    open_peers,
    room_name,
    upgrade_status,
    wait_metric,
)

SHUTDOWN_LIMIT_S = 3.0  # the bar: exit within 3 s of SIGTERM


class OriginSameHostTest(unittest.TestCase):
    """allowed_origins empty (the default): same host as the Host header, or no Origin."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(name="ops-origin").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def status(self, origin, host=None):
        return upgrade_status(self.server.port, origin=origin, host=host)

    def test_no_origin_upgrades(self):
        st, head = self.status(None)
        self.assertEqual(st, 101, head)
        st, head = upgrade_status(self.server.port, path="/ws")
        self.assertEqual(st, 101, head)

    def test_same_host_origin_upgrades(self):
        port = self.server.port
        st, head = self.status("http://127.0.0.1:%d" % port)
        self.assertEqual(st, 101, head)
        self.assertIn("sec-websocket-accept", head.lower())
        # the Host header decides, whatever name the client used
        st, head = self.status("http://localhost:%d" % port, host="localhost:%d" % port)
        self.assertEqual(st, 101, head)

    def test_foreign_origin_403_before_upgrade(self):
        port = self.server.port
        for origin in (
            "http://evil.example",
            "http://evil.example:%d" % port,
            "http://127.0.0.1:%d" % (port + 1 if port < 65535 else port - 1),
            "http://127.0.0.1",
            "http://127.0.0.1:%d.evil.example" % port,
            "http://evil.example/127.0.0.1:%d" % port,
            "null",
            "",
        ):
            st, head = self.status(origin)
            self.assertEqual(st, 403, "Origin %r: %s" % (origin, head))
            self.assertNotIn("sec-websocket-accept", head.lower())
            self.assertNotIn("upgrade: websocket", head.lower())

    def test_foreign_origin_refused_for_a_real_client(self):
        async def go():
            with self.assertRaises(websockets.InvalidStatusCode) as cm:
                ws = await websockets.connect(self.server.url(), origin="http://evil.example",
                                              open_timeout=TIMEOUT)
                await ws.close()
            self.assertEqual(cm.exception.status_code, 403)
            ws = await websockets.connect(
                self.server.url(), origin="http://127.0.0.1:%d" % self.server.port,
                open_timeout=TIMEOUT)
            try:
                hello = await asyncio.wait_for(ws.recv(), TIMEOUT)
                self.assertIn('"hello"', hello)
            finally:
                await ws.close()

        run_async(go())

    def test_plain_http_not_origin_checked(self):
        st, _, _ = http_request(self.server.port, "/healthz",
                                headers={"Origin": "http://evil.example"})
        self.assertEqual(st, 200)


class OriginListTest(unittest.TestCase):
    def test_allowed_origins_list(self):
        cfg = {"allowed_origins": "http://a.example:3003,https://b.example"}
        with Server(cfg, name="ops-origin-list") as srv:
            port = srv.port
            for origin, want in (
                ("http://a.example:3003", 101),
                ("https://b.example", 101),
                (None, 101),
                ("http://a.example", 403),
                ("https://a.example:3003", 403),
                ("http://a.example:30031", 403),
                ("http://b.example", 403),
                ("https://b.example:443", 403),
                ("https://b.example.evil", 403),
                ("http://127.0.0.1:%d" % port, 403),  # a list replaces the same-host rule
                ("http://evil.example", 403),
            ):
                st, head = upgrade_status(port, origin=origin)
                self.assertEqual(st, want, "Origin %r: %s" % (origin, head))

    def test_allowed_origins_star(self):
        with Server({"allowed_origins": "*"}, name="ops-origin-star") as srv:
            for origin in ("http://evil.example", "https://x.example:8443", "null",
                           "http://127.0.0.1:%d" % srv.port, None):
                st, head = upgrade_status(srv.port, origin=origin)
                self.assertEqual(st, 101, "Origin %r: %s" % (origin, head))


class MetricsTest(unittest.TestCase):
    REQUIRED = [
        "huddle_websocket_sessions",
        "huddle_rooms",
        "huddle_room_members",
        "huddle_messages_in_total",
        "huddle_bytes_in_total",
        "huddle_messages_out_total",
        "huddle_chat_messages_total",
        "huddle_queue_overflows_total",
        "huddle_websocket_refused_total",
        'huddle_closes_total{code="1000"}',
        'huddle_closes_total{code="1001"}',
    ] + ['huddle_errors_total{code="%s"}' % c for c in (
        "bad_json", "unknown_type", "bad_field", "room_full", "not_in_room", "no_such_peer",
        "rate_limited")]

    def test_format_and_names(self):
        with Server(name="ops-metrics-format") as srv:
            m, hdrs, text = metrics(srv.port)
            self.assertTrue(hdrs.get("content-type", "").startswith("text/plain"), hdrs)
            for key in self.REQUIRED:
                self.assertIn(key, m, "missing %s" % key)
            for key in m:
                self.assertTrue(key.startswith("huddle_"), key)
            self.assertTrue(any(k.startswith("huddle_build_info") for k in m), "no build info")
            # every sample has TYPE metadata
            types = set(re.findall(r"^# TYPE (\S+) (counter|gauge)$", text, re.M))
            names = {re.sub(r"\{.*", "", k) for k in m}
            self.assertEqual(names - {n for n, _ in types}, set())
            self.assertEqual(m["huddle_websocket_sessions"], 0)
            self.assertEqual(m["huddle_rooms"], 0)
            st, _, _ = http_request(srv.port, "/healthz")
            self.assertEqual(st, 200)

    def test_counters_move_with_connect_chat_disconnect(self):
        with Server({"rate_limit_per_sec": 0}, name="ops-metrics") as srv:
            port = srv.port
            m0, _, _ = metrics(port)

            async def go():
                a, b = await open_peers(srv, 2)
                try:
                    m1, _, _ = metrics(port)
                    self.assertEqual(m1["huddle_websocket_sessions"],
                                     m0["huddle_websocket_sessions"] + 2)
                    room = room_name()
                    await a.join(room)
                    await b.join(room)
                    await a.expect("welcome")
                    texts = ["one", "two ✓", "three " + "x" * 500]
                    for t in texts:
                        await a.chat(t)
                    for p in (a, b):
                        for _ in texts:
                            await p.expect("chat")
                    await b.send({"type": "nickname", "nickname": 42})
                    await b.expect_error("bad_field")
                    m2, _, _ = metrics(port)
                    self.assertEqual(m2["huddle_rooms"], 1)
                    self.assertEqual(m2["huddle_room_members"], 2)
                    self.assertEqual(m2["huddle_chat_messages_total"],
                                     m1["huddle_chat_messages_total"] + 3)
                    self.assertGreaterEqual(m2["huddle_messages_in_total"],
                                            m1["huddle_messages_in_total"] + 6)
                    self.assertGreaterEqual(m2["huddle_bytes_in_total"],
                                            m1["huddle_bytes_in_total"]
                                            + sum(len(t.encode()) for t in texts))
                    # each chat went out to both members, plus joined/welcome/error
                    self.assertGreaterEqual(m2["huddle_messages_out_total"],
                                            m1["huddle_messages_out_total"] + 6 + 4)
                    self.assertEqual(m2['huddle_errors_total{code="bad_field"}'],
                                     m1['huddle_errors_total{code="bad_field"}'] + 1)
                finally:
                    await close_all([a, b])
                return m2

            m2 = run_async(go())
            # the server handles the closes a moment later: poll, bounded
            m3 = wait_metric(port, "huddle_websocket_sessions", lambda v: v == 0)
            m3 = wait_metric(port, 'huddle_closes_total{code="1000"}',
                             lambda v: v >= m2['huddle_closes_total{code="1000"}'] + 2)
            self.assertEqual(m3['huddle_closes_total{code="1000"}'],
                             m0['huddle_closes_total{code="1000"}'] + 2)
            self.assertEqual(m3["huddle_rooms"], 0)
            self.assertEqual(m3["huddle_room_members"], 0)
            self.assertEqual(m3["huddle_chat_messages_total"], m2["huddle_chat_messages_total"])


class ShutdownTest(unittest.TestCase):
    def stop_timed(self, srv):
        """SIGTERM via the harness (it checks exit status 0 and no sanitizer report); returns the
        seconds until the process was gone (measured with a generous bound, then compared with
        the bar so that a failure says how long it took)."""
        t0 = time.monotonic()
        srv.stop(timeout=SHUTDOWN_LIMIT_S + 10)
        return time.monotonic() - t0

    async def stop_and_read_closes(self, srv, peers):
        """SIGTERMs srv while reading every peer to its end; returns (close codes, seconds the
        stop took)."""
        loop = asyncio.get_running_loop()
        stop = loop.run_in_executor(None, self.stop_timed, srv)
        codes = []
        for p in peers:
            try:
                for _ in range(1000):
                    await p.recv(skip=(), timeout=TIMEOUT)
            except websockets.ConnectionClosed:
                pass
            await asyncio.wait_for(p.ws.wait_closed(), TIMEOUT)
            codes.append(p.ws.close_code)
        return codes, await stop

    def test_sigterm_closes_every_websocket_1001_and_exits_0_in_time(self):
        srv = Server(name="ops-sigterm").start()
        stopped = False
        try:

            async def go():
                ps = await open_peers(srv, 3)
                try:
                    room = room_name()
                    await ps[0].join(room)
                    await ps[1].join(room)
                    await ps[0].expect("welcome")
                    # ps[2] stays in the lobby
                    return await self.stop_and_read_closes(srv, ps)
                finally:
                    await close_all(ps)

            codes, elapsed = run_async(go())
            stopped = True
        finally:
            if not stopped and srv.proc is not None:
                try:
                    srv.stop()
                except Exception:
                    pass
        self.assertEqual(codes, [1001, 1001, 1001])
        self.assertLess(elapsed, SHUTDOWN_LIMIT_S, "exit took %.2f s after SIGTERM" % elapsed)

    def test_sigterm_with_clients_that_never_answer(self):
        """Clients that do not read or answer the close must not hold the exit past the bar."""
        srv = Server({"send_queue_messages": 64}, name="ops-sigterm-stalled").start()
        raws = []
        stopped = False
        try:
            room = room_name()
            for _ in range(3):
                r = RawClient(srv.port, rcvbuf=4096)
                raws.append(r)
                r.send_json({"type": "join", "room": room, "listed": True})
            # the joins are done once a fourth session sees the room with 3 members
            async def check():
                p = await Peer.open(srv)
                try:
                    deadline = time.monotonic() + TIMEOUT
                    for _ in range(1000):
                        await p.send({"type": "list"})
                        m = await p.expect("rooms", skip=())
                        if any(r["name"] == room and r["count"] == 3 for r in m["rooms"]):
                            return True
                        if time.monotonic() > deadline:
                            return False
                        await asyncio.sleep(0.05)
                finally:
                    await p.close()

            self.assertTrue(run_async(check()))
            elapsed = self.stop_timed(srv)
            stopped = True
            for r in raws:
                code, how, _ = r.drain_to_end(TIMEOUT)
                self.assertIn(how, ("close", "eof", "reset"), (code, how))
                if how == "close":
                    self.assertEqual(code, 1001)
            self.assertLess(elapsed, SHUTDOWN_LIMIT_S, "exit took %.2f s after SIGTERM" % elapsed)
        finally:
            for r in raws:
                r.close()
            if not stopped and srv.proc is not None:
                try:
                    srv.stop()
                except Exception:
                    pass

    def test_sigterm_with_a_writer_blocked_on_a_full_socket(self):
        """A member whose socket buffers are full (its writer is stuck in a write) must not hold
        the exit past the bar either; the others still get 1001."""
        # queues big enough that the stalled member is not dropped: its writer stays blocked
        cfg = {"rate_limit_per_sec": 0, "send_queue_bytes": 67108864,
               "send_queue_messages": 100000}
        srv = Server(cfg, name="ops-sigterm-blocked").start()
        stalled = None
        stopped = False
        try:

            async def go():
                nonlocal stalled
                a, b = await open_peers(srv, 2)
                try:
                    room = room_name()
                    await a.join(room)
                    await b.join(room)
                    await a.expect("welcome")
                    stalled = RawClient(srv.port, rcvbuf=4096)
                    stalled.send_json({"type": "join", "room": room})
                    sid = (await a.expect("welcome"))["id"]
                    await b.expect("welcome")
                    # ~8 MB for the stalled member alone: more than the kernel buffers hold
                    # (a few MB), so its writer is stuck in a write when SIGTERM comes
                    blob = "x" * 30000
                    for k in range(270):
                        await a.send({"type": "signal", "to": sid, "data": {"k": k, "b": blob}})
                    # every signal was handled once the answer to a later list arrives
                    await a.send({"type": "list"})
                    self.assertEqual((await a.recv(skip=())).get("type"), "rooms")
                    m, _, _ = metrics(srv.port)
                    self.assertEqual(m["huddle_room_members"], 3, "the stalled one was dropped")
                    return await self.stop_and_read_closes(srv, (a, b))
                finally:
                    await close_all([a, b])

            codes, elapsed = run_async(go())
            stopped = True
            self.assertEqual(codes, [1001, 1001])
            self.assertLess(elapsed, SHUTDOWN_LIMIT_S, "exit took %.2f s after SIGTERM" % elapsed)
        finally:
            if stalled:
                stalled.close()
            if not stopped and srv.proc is not None:
                try:
                    srv.stop()
                except Exception:
                    pass


if __name__ == "__main__":
    unittest.main()
