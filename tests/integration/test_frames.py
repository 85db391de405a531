# SPDX-License-Identifier: MIT
"""RFC 6455 rules the server enforces itself (CivetWeb 1.15 checks none): close codes 1007, 1009
and 1002 for malformed input, ping/pong, and the close handshake. Driven by our raw client, since
real clients refuse to send broken frames."""

import os
import struct
import unittest

from harness import TIMEOUT, Server
from rawws import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawWS

MAX = 1024  # max_message_bytes for this server


class FramesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"max_message_bytes": MAX}, name="frames").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def raw(self):
        ws = RawWS(self.server.port)
        greeting = ws.recv_json(skip=())
        self.assertEqual(greeting.get("type"), "hello")
        return ws

    def assert_closed_with(self, ws, code):
        """The server sends a close frame with `code`, then drops TCP."""
        got, reason = ws.read_close()
        self.assertEqual(got, code, "close code (reason %r)" % reason)
        self.assertLessEqual(len(reason), 123)
        reason.decode("utf-8")  # the server's own reason is valid UTF-8
        self.assertTrue(ws.wait_eof(TIMEOUT), "server kept TCP open after its close frame")

    def fails_with(self, code, *frames):
        """Sends frames [(opcode, payload, fin, rsv), ...] on a new connection; expects close code."""
        with self.raw() as ws:
            for f in frames:
                opcode, payload = f[0], f[1]
                fin = f[2] if len(f) > 2 else True
                rsv = f[3] if len(f) > 3 else 0
                ws.send_frame(opcode, payload, fin=fin, rsv=rsv)
            self.assert_closed_with(ws, code)

    def nick(self, name):
        return ('{"type":"nickname","nickname":"%s"}' % name).encode()

    # ---- 1007: invalid UTF-8 ----
    def test_invalid_utf8_text_1007(self):
        for bad in (
            b"\xff",
            b"ab\xfe",
            b"\xc0\xaf",  # overlong '/'
            b"\xe0\x80\xaf",  # overlong
            b"\xed\xa0\x80",  # surrogate U+D800
            b"\xf4\x90\x80\x80",  # above U+10FFFF
            b"\x80",  # lone continuation
            b"ok \xe2\x82",  # truncated at the end of the message
            b'{"type":"nickname","nickname":"\xc3"}',
        ):
            with self.subTest(payload=bad):
                self.fails_with(1007, (OP_TEXT, bad))

    def test_invalid_utf8_binary_1007(self):
        # binary payloads are decoded as UTF-8 too
        self.fails_with(1007, (OP_BINARY, b"\xff\xfe"))

    def test_invalid_utf8_split_across_fragments_1007(self):
        self.fails_with(1007, (OP_TEXT, b"ab\xe2\x82", False), (OP_CONT, b"(", True))
        self.fails_with(1007, (OP_TEXT, b"ab", False), (OP_CONT, b"\xed", False), (OP_CONT, b"\xa0\x80", True))
        # the message ends inside a sequence that each fragment left open
        self.fails_with(1007, (OP_TEXT, b"ab", False), (OP_CONT, b"\xf0\x9f", True))

    def test_invalid_utf8_close_reason_1007(self):
        self.fails_with(1007, (OP_CLOSE, struct.pack("!H", 1000) + b"bye \xff"))

    def test_valid_utf8_edge_cases_accepted(self):
        with self.raw() as ws:
            for text in ("\uffff", "\U0010ffff", "\ufdd0", "\u0800", "\u07ff", "\ud7ff", "\ue000"):
                ws.send_frame(OP_TEXT, text.encode("utf-8"))
            ws.send_frame(OP_TEXT, self.nick("edge"))
            self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": "edge"})

    # ---- 1009: too big ----
    def test_message_at_limit_accepted(self):
        with self.raw() as ws:
            ws.send_frame(OP_TEXT, b"a" * MAX)
            ws.send_frame(OP_TEXT, b"b" * (MAX - 100), fin=False)
            ws.send_frame(OP_CONT, b"c" * 100, fin=True)
            ws.send_frame(OP_TEXT, self.nick("fits"))
            self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": "fits"})

    def test_single_frame_too_big_1009(self):
        self.fails_with(1009, (OP_TEXT, b"a" * (MAX + 1)))
        self.fails_with(1009, (OP_BINARY, b"a" * (MAX * 4)))

    def test_fragments_sum_too_big_1009(self):
        half = MAX // 2 + 1
        self.fails_with(1009, (OP_TEXT, b"a" * half, False), (OP_CONT, b"b" * half, True))
        # the limit is crossed by the last fragment only (the violating frame is always the last
        # one sent: unread data would turn the server's close into a TCP reset)
        self.fails_with(
            1009,
            (OP_BINARY, b"a" * half, False),
            (OP_CONT, b"b" * (MAX - half), False),
            (OP_CONT, b"c", True),
        )

    # ---- 1002: protocol errors ----
    def test_rsv_bits_1002(self):
        for rsv in (1, 2, 4, 7):
            with self.subTest(rsv=rsv):
                self.fails_with(1002, (OP_TEXT, b"hi", True, rsv))
        with self.subTest("rsv on a ping"):
            self.fails_with(1002, (OP_PING, b"hi", True, 4))

    def test_reserved_opcodes_1002(self):
        for op in (0x3, 0x7, 0xB, 0xF):
            with self.subTest(opcode=op):
                self.fails_with(1002, (op, b"x"))

    def test_ping_too_long_1002(self):
        self.fails_with(1002, (OP_PING, b"p" * 126))

    def test_close_too_long_1002(self):
        self.fails_with(1002, (OP_CLOSE, struct.pack("!H", 1000) + b"r" * 124))

    def test_fragmented_ping_1002(self):
        self.fails_with(1002, (OP_PING, b"ping", False))

    def test_stray_continuation_1002(self):
        self.fails_with(1002, (OP_CONT, b"lost", True))
        self.fails_with(1002, (OP_CONT, b"lost", False))

    def test_new_data_frame_inside_fragmented_message_1002(self):
        self.fails_with(1002, (OP_TEXT, b"first", False), (OP_TEXT, b"second", True))
        self.fails_with(1002, (OP_TEXT, b"first", False), (OP_BINARY, b"second", True))

    def test_one_byte_close_payload_1002(self):
        self.fails_with(1002, (OP_CLOSE, b"\x03"))

    def test_invalid_close_codes_1002(self):
        for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535):
            with self.subTest(code=code):
                self.fails_with(1002, (OP_CLOSE, struct.pack("!H", code)))

    # ---- ping / pong ----
    def test_ping_gets_pong_with_same_payload(self):
        with self.raw() as ws:
            for payload in (b"", b"abc", os.urandom(125)):
                ws.send_frame(OP_PING, payload)
                f = ws.recv_until(OP_PONG)
                self.assertEqual(f.payload, payload)
                self.assertTrue(f.fin)
            ws.send_frame(OP_TEXT, self.nick("after-ping"))
            self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": "after-ping"})

    def test_ping_between_fragments(self):
        data = self.nick("between")
        with self.raw() as ws:
            ws.send_frame(OP_TEXT, data[:10], fin=False)
            ws.send_frame(OP_PING, b"mid")
            ws.send_frame(OP_CONT, data[10:20], fin=False)
            ws.send_frame(OP_PONG, b"unsolicited")
            ws.send_frame(OP_CONT, data[20:], fin=True)
            f = ws.recv_frame()
            self.assertEqual((f.opcode, f.payload), (OP_PONG, b"mid"))
            self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": "between"})

    def test_unsolicited_pong_ignored(self):
        with self.raw() as ws:
            ws.send_frame(OP_PONG, b"hi")
            ws.send_frame(OP_TEXT, self.nick("pong-ok"))
            self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": "pong-ok"})

    # ---- close handshake ----
    def test_client_close_is_echoed_then_dropped(self):
        with self.raw() as ws:
            ws.send_close(1000, "bye")
            code, _ = ws.read_close()
            self.assertEqual(code, 1000)
            self.assertTrue(ws.wait_eof(TIMEOUT), "server kept TCP open after echoing the close")

    def test_valid_close_codes_echoed(self):
        for code in (1001, 3000, 4999):
            with self.subTest(code=code), self.raw() as ws:
                ws.send_close(code, "")
                got, _ = ws.read_close()
                self.assertEqual(got, code)
                self.assertTrue(ws.wait_eof(TIMEOUT))

    def test_empty_close_echoed(self):
        with self.raw() as ws:
            ws.send_close()
            f = ws.recv_until(OP_CLOSE)
            code, _ = f.close_code()
            self.assertIn(code, (None, 1000), f)
            self.assertTrue(ws.wait_eof(TIMEOUT))

    def test_close_inside_fragmented_message(self):
        with self.raw() as ws:
            ws.send_frame(OP_TEXT, b"half", fin=False)
            ws.send_close(1000, "")
            code, _ = ws.read_close()
            self.assertEqual(code, 1000)
            self.assertTrue(ws.wait_eof(TIMEOUT))

    def test_server_alive_after_abuse(self):
        # every connection above was closed; the server still accepts new ones
        with self.raw() as ws:
            ws.send_frame(OP_TEXT, self.nick("survivor"))
            self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": "survivor"})


if __name__ == "__main__":
    unittest.main()
