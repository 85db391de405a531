# SPDX-License-Identifier: MIT
"""Keep-alive (ping_interval): the server pings a silent client, keeps one that answers, and
closes one that stays silent for three intervals with 1001, freeing its thread. Runs with
ping_interval = 1 so the waits stay short; every wait is bounded."""

import asyncio
import json
import socket
import time
import unittest

import websockets

from harness import Server, run_async
from rawws import OP_CLOSE, OP_PING, Closed, RawWS


class KeepAliveTest(unittest.TestCase):
    def test_silent_client_is_pinged_then_closed(self):
        with Server(config={"ping_interval": 1}, name="keepalive-silent") as srv:
            with RawWS(srv.port) as c:
                hello = c.recv_json()
                self.assertEqual(hello["type"], "hello")
                ping = c.recv_until(OP_PING, timeout=5)
                self.assertEqual(ping.payload, b"huddle")
                t0 = time.monotonic()
                # never answer: the close comes after three quiet intervals
                frames = []
                try:
                    for _ in range(20):
                        f = c.recv_frame(timeout=10)
                        frames.append(f.opcode)
                        if f.opcode == OP_CLOSE:
                            self.assertEqual(f.close_code()[0], 1001)
                            break
                except Closed:
                    self.fail("TCP ended without a close frame; frames: %r" % frames)
                self.assertIn(OP_CLOSE, frames)
                self.assertTrue(set(frames) <= {OP_PING, OP_CLOSE}, frames)
                self.assertLess(time.monotonic() - t0, 10)
                self.assertTrue(c.wait_eof(timeout=5), "server kept the TCP connection")
            srv.wait_log(r"nothing from the client for \d+ s: closing")

    def test_client_that_answers_pings_stays(self):
        async def talk(port):
            # websockets answers pings by itself; its own pings are off to leave only ours
            async with websockets.connect("ws://127.0.0.1:%d/" % port, ping_interval=None) as ws:
                hello = json.loads(await ws.recv())
                self.assertEqual(hello["type"], "hello")
                await asyncio.sleep(4.5)  # more than three intervals, no data from us
                await ws.send(json.dumps({"type": "nickname", "nickname": "still here"}))
                while True:
                    msg = json.loads(await ws.recv())
                    if msg["type"] != "rooms":
                        break
                self.assertEqual(msg, {"type": "nickname", "nickname": "still here"})

        with Server(config={"ping_interval": 1}, name="keepalive-answering") as srv:
            run_async(talk(srv.port))
            self.assertNotIn("nothing from the client", srv.log())

    def test_ping_interval_zero_sends_no_pings(self):
        with Server(config={"ping_interval": 0}, name="keepalive-off") as srv:
            with RawWS(srv.port) as c:
                c.recv_json()
                try:
                    f = c.recv_frame(timeout=2.5)
                    self.fail("unexpected frame %r" % f)
                except socket.timeout:
                    pass
                c.send_json({"type": "list"})
                self.assertEqual(c.recv_json(skip=())["type"], "rooms")


if __name__ == "__main__":
    unittest.main()
