# SPDX-License-Identifier: MIT
"""The seed's WebSocket behaviour with well-formed frames: greeting, UTF-8 decoding of text, binary
and fragmented messages, the nickname command and its errors (issue 2)."""

import json
import re
import unittest
import uuid

from harness import Server, run_async
from rawws import OP_BINARY, OP_CONT, OP_TEXT, RawWS
from wsutil import assert_alive, connect, hello, nickname, recv_json, send_json

GREETING = "Welcome, tester ✓ — hallo"


def bad_field(test, reply):
    test.assertIsInstance(reply, dict)
    test.assertEqual(reply.get("type"), "error", reply)
    test.assertEqual(reply.get("code"), "bad_field", reply)
    test.assertIsInstance(reply.get("message"), str, reply)


class WebSocketTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"greeting": GREETING}, name="websocket").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def run_ws(self, body, path="/"):
        """Runs `async body(ws)` on a fresh connection whose greeting was already read."""

        async def go():
            ws = await connect(self.server, path)
            try:
                await hello(ws)
                return await body(ws)
            finally:
                await ws.close()

        return run_async(go())

    def raw(self):
        ws = RawWS(self.server.port)
        greeting = ws.recv_json(skip=())
        self.assertEqual(greeting.get("type"), "hello")
        return ws

    # ---- greeting ----
    def test_greeting(self):
        async def go():
            ws1 = await connect(self.server)
            ws2 = await connect(self.server, "/ws")
            try:
                return await hello(ws1), await hello(ws2)
            finally:
                await ws1.close()
                await ws2.close()

        h1, h2 = run_async(go())
        for h in (h1, h2):
            self.assertEqual(set(h), {"type", "text", "id", "nickname", "token", "rooms"}, h)
            self.assertEqual(h["type"], "hello")
            # the resume token: 128 random bits as 32 hex digits
            self.assertIsInstance(h["token"], str, h)
            self.assertRegex(h["token"], r"\A[0-9a-fA-F]{32}\Z", h)
            self.assertEqual(h["text"], GREETING)
            self.assertIs(type(h["id"]), int, h)
            self.assertEqual(h["nickname"], "Anon")
            self.assertEqual(h["rooms"], [])
        self.assertNotEqual(h1["id"], h2["id"], "two sessions got the same id")
        self.assertNotEqual(h1["token"], h2["token"], "two sessions got the same token")

    # ---- decoding ----
    def test_text_decoded_and_logged(self):
        text = "plain text ünïcödé ✓ 😀 " + uuid.uuid4().hex
        mark = self.server.mark()

        async def body(ws):
            await ws.send(text)
            await assert_alive(self, ws)

        self.run_ws(body)
        self.server.wait_log(re.escape(text), since=mark)

    def test_plain_text_only_logged(self):
        async def body(ws):
            await ws.send("just some words, not JSON " + uuid.uuid4().hex)
            await ws.send('"a JSON string is not an object"')
            # the next reply must be the nickname one: plain text got none
            self.assertEqual(
                await nickname(ws, "after-text"), {"type": "nickname", "nickname": "after-text"}
            )

        self.run_ws(body)

    def test_text_nickname_non_ascii(self):
        nick = "Zoë Łukasz 山田 😀"
        mark = self.server.mark()

        async def body(ws):
            self.assertEqual(await nickname(ws, nick), {"type": "nickname", "nickname": nick})

        self.run_ws(body)
        self.server.wait_log(re.escape(nick), since=mark)

    def test_binary_payload_decoded(self):
        nick = "Bïnäry 名前 🚀"
        mark = self.server.mark()

        async def body(ws):
            data = json.dumps({"type": "nickname", "nickname": nick}, ensure_ascii=False)
            await ws.send(data.encode("utf-8"))  # bytes: a binary frame
            self.assertEqual(await recv_json(ws), {"type": "nickname", "nickname": nick})

        self.run_ws(body)
        self.server.wait_log(re.escape(nick), since=mark)

    def test_binary_plain_text_logged(self):
        text = "bytes that are text: ĉu vi? " + uuid.uuid4().hex
        mark = self.server.mark()

        async def body(ws):
            await ws.send(text.encode("utf-8"))
            await assert_alive(self, ws)

        self.run_ws(body)
        self.server.wait_log(re.escape(text), since=mark)

    def test_fragmented_split_inside_code_point(self):
        nick = "Frag é€😀"
        data = json.dumps({"type": "nickname", "nickname": nick}, ensure_ascii=False).encode()
        cut = data.index("😀".encode()) + 2  # inside the 4-byte sequence
        mark = self.server.mark()
        with self.raw() as ws:
            ws.send_frame(OP_TEXT, data[:cut], fin=False)
            ws.send_frame(OP_CONT, data[cut:], fin=True)
            self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": nick})
            ws.send_json({"type": "nickname", "nickname": "next"})
            self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": "next"})
        self.server.wait_log(re.escape(nick), since=mark)

    def test_fragmented_binary_many_pieces(self):
        nick = "Stück für Stück ✂"
        data = json.dumps({"type": "nickname", "nickname": nick}, ensure_ascii=False).encode()
        pieces = [data[i : i + 3] for i in range(0, len(data), 3)]
        with self.raw() as ws:
            ws.send_frame(OP_BINARY, pieces[0], fin=False)
            for p in pieces[1:-1]:
                ws.send_frame(OP_CONT, p, fin=False)
            ws.send_frame(OP_CONT, pieces[-1], fin=True)
            self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": nick})

    def test_fragmented_with_empty_fragments(self):
        data = json.dumps({"type": "nickname", "nickname": "empty-frags"}).encode()
        with self.raw() as ws:
            ws.send_frame(OP_TEXT, b"", fin=False)
            ws.send_frame(OP_CONT, data, fin=False)
            ws.send_frame(OP_CONT, b"", fin=True)
            self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": "empty-frags"})

    # ---- nickname ----
    def test_nickname_trimmed(self):
        async def body(ws):
            self.assertEqual(await nickname(ws, "   Zoë  "), {"type": "nickname", "nickname": "Zoë"})

        self.run_ws(body)

    def test_nickname_trims_tabs_and_newlines(self):
        async def body(ws):
            self.assertEqual(
                await nickname(ws, "\t Ana\u00a0B \n"), {"type": "nickname", "nickname": "Ana\u00a0B"}
            )

        self.run_ws(body)

    def test_nickname_length_in_code_points(self):
        async def body(ws):
            for nick in ("é" * 32, "😀" * 32, "x" * 32, "a"):
                with self.subTest(nick=nick):
                    self.assertEqual(await nickname(ws, nick), {"type": "nickname", "nickname": nick})
            # 32 after trimming is still fine
            self.assertEqual(
                await nickname(ws, "  " + "b" * 32 + "  "), {"type": "nickname", "nickname": "b" * 32}
            )
            for nick in ("é" * 33, "😀" * 33, "x" * 33, "x" * 1000):
                with self.subTest(nick=nick[:40]):
                    bad_field(self, await nickname(ws, nick))
                    await assert_alive(self, ws)

        self.run_ws(body)

    def test_nickname_empty_or_blank(self):
        async def body(ws):
            for nick in ("", " ", "   \t  "):
                with self.subTest(nick=nick):
                    bad_field(self, await nickname(ws, nick))
                    await assert_alive(self, ws)

        self.run_ws(body)

    def test_nickname_control_characters(self):
        async def body(ws):
            for nick in ("a\u0007b", "a\nb", "a\tb", "a\u0000b", "a\u007fb", "a\u009fb", "a\u0085b"):
                with self.subTest(nick=repr(nick)):
                    bad_field(self, await nickname(ws, nick))
                    await assert_alive(self, ws)

        self.run_ws(body)

    def test_nickname_wrong_type_or_missing(self):
        async def body(ws):
            for msg in (
                {"type": "nickname"},
                {"type": "nickname", "nickname": 42},
                {"type": "nickname", "nickname": None},
                {"type": "nickname", "nickname": ["a"]},
            ):
                with self.subTest(msg=msg):
                    await send_json(ws, msg)
                    bad_field(self, await recv_json(ws))
                    await assert_alive(self, ws)

        self.run_ws(body)

    # ---- errors ----
    def test_unknown_type(self):
        async def body(ws):
            for msg in ({"nickname": "x"}, {}, {"type": "dance"}, {"type": 5}, {"type": None}):
                with self.subTest(msg=msg):
                    await send_json(ws, msg)
                    reply = await recv_json(ws)
                    self.assertEqual(reply.get("type"), "error", reply)
                    self.assertEqual(reply.get("code"), "unknown_type", reply)
                    self.assertIsInstance(reply.get("message"), str, reply)
                    await assert_alive(self, ws)

        self.run_ws(body)

    def test_bad_json(self):
        async def body(ws):
            for text in ("{oops", "[1,2]", "[", '{"type":"nickname",}', "{}}", "[]"):
                with self.subTest(text=text):
                    await ws.send(text)
                    reply = await recv_json(ws)
                    self.assertEqual(reply.get("type"), "error", reply)
                    self.assertEqual(reply.get("code"), "bad_json", reply)
                    self.assertIsInstance(reply.get("message"), str, reply)
                    await assert_alive(self, ws)

        self.run_ws(body)

    def test_bad_json_as_binary(self):
        async def body(ws):
            await ws.send(b"{oops")
            reply = await recv_json(ws)
            self.assertEqual((reply.get("type"), reply.get("code")), ("error", "bad_json"), reply)
            await assert_alive(self, ws)

        self.run_ws(body)

    def test_many_errors_keep_connection(self):
        async def body(ws):
            for i in range(20):
                await ws.send("{oops")
                self.assertEqual((await recv_json(ws)).get("code"), "bad_json")
            await assert_alive(self, ws)

        self.run_ws(body)


if __name__ == "__main__":
    unittest.main()
