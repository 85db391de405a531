# SPDX-License-Identifier: MIT
"""The WebSocket transport on the event loop (after the 101 the loop owns the socket and parses
frames itself): unmasked frames and 64-bit lengths with the top bit set are closed 1002; a header
declaring more than max_message_bytes is closed 1009 before its payload is read, so six clients
declaring 1 GiB frames cannot grow the server; a frame that stops arriving is closed 1008 after
stall_timeout_ms while an idle connection stays; the close handshake; many frames in one write and
one byte per write; 300 concurrent sessions on the default config; HTTP answered while WebSockets
are open on few worker threads. Driven by the raw client (rawws.py) and Python websockets; every
wait is bounded, nothing asserts how fast."""

import asyncio
import json
import os
import random
import select
import socket
import struct
import threading
import time
import unittest

from harness import SANITIZER, TIMEOUT, WWW, Server, run_async, run_to_exit, sanitizer_reports
from rawws import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, Closed, RawWS
from roomutil import NOBODY, Peer, close_all, http_request, room_name, wait_metric

MAX = 1024  # max_message_bytes for the servers that check limits
GIB = 1 << 30
MIB = 1 << 20
# A close that the server owes us now is awaited this long (the brief's "a few seconds"), scaled
# like every other wait when HUDDLE_TEST_TIMEOUT is raised for slow (sanitizer) builds.
CLOSE_WAIT = 5.0 * max(1.0, TIMEOUT / 10.0)


def header(opcode, length, fin=True, rsv=0, mask=True, form=None, mask_key=None):
    """The bytes of a client frame header declaring `length` payload bytes, without the payload.
    form: 7, 16 or 64 to force a length encoding (default: the shortest); the 64-bit form writes
    `length` as given, top bit included."""
    if form is None:
        form = 7 if length < 126 else 16 if length < 65536 else 64
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)
    mbit = 0x80 if mask else 0
    if form == 7:
        out = bytes([b0, mbit | length])
    elif form == 16:
        out = bytes([b0, mbit | 126]) + struct.pack("!H", length)
    else:
        out = bytes([b0, mbit | 127]) + struct.pack("!Q", length)
    if mask:
        out += mask_key if mask_key is not None else os.urandom(4)
    return out


def parse_server_frames(buf):
    """Complete unmasked server frames at the start of buf: ([(opcode, payload)], rest)."""
    frames = []
    for _ in range(100000):
        if len(buf) < 2:
            break
        n, pos = buf[1] & 0x7F, 2
        if n == 126:
            if len(buf) < 4:
                break
            n, pos = struct.unpack("!H", buf[2:4])[0], 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, pos = struct.unpack("!Q", buf[2:10])[0], 10
        if len(buf) < pos + n:
            break
        frames.append((buf[0] & 0x0F, buf[pos : pos + n]))
        buf = buf[pos + n :]
    return frames, buf


def vm_rss_kib(pid):
    """Resident set size of a process in KiB, from /proc/PID/status (None once it is gone)."""
    try:
        with open("/proc/%d/status" % pid, encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def masked(payload, key=None):
    key = key if key is not None else os.urandom(4)
    return key, bytes(b ^ key[i & 3] for i, b in enumerate(payload))


def chat_frame(text):
    """One masked text frame carrying a chat request."""
    return header_and_payload(OP_TEXT, ('{"type":"chat","text":"%s"}' % text).encode())


def header_and_payload(opcode, payload, fin=True):
    key, body = masked(payload)
    return header(opcode, len(payload), fin=fin, mask_key=key) + body


class TransportTestCase(unittest.TestCase):
    """A server per class (CONFIG) and helpers shared by the tests below."""

    CONFIG = {}
    NAME = "transport"

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.CONFIG, name=cls.NAME).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def raw(self):
        ws = RawWS(self.server.port, timeout=TIMEOUT)
        greeting = ws.recv_json(skip=())
        self.assertEqual(greeting.get("type"), "hello")
        return ws

    def read_close(self, ws, timeout=None):
        """The server's close frame: (code, reason). Fails when TCP ends without one or nothing
        comes within the wait."""
        try:
            return ws.read_close(timeout if timeout is not None else CLOSE_WAIT)
        except Closed as e:
            self.fail("the server dropped TCP without a close frame (%s)" % e)
        except socket.timeout:
            self.fail("no close frame from the server within %.0f s" % (timeout or CLOSE_WAIT))

    def assert_closed_with(self, ws, code, timeout=None):
        """A close frame with `code` (reason valid UTF-8, at most 123 bytes), then the end of TCP
        without our echo (the server gives up waiting for it)."""
        got, reason = self.read_close(ws, timeout)
        self.assertEqual(got, code, "close code (reason %r)" % reason)
        self.assertLessEqual(len(reason), 123)
        reason.decode("utf-8")
        self.assertTrue(ws.wait_eof(TIMEOUT), "server kept TCP open after its close frame")

    def nick_frame(self, name):
        return header_and_payload(OP_TEXT, ('{"type":"nickname","nickname":"%s"}' % name).encode())

    def assert_alive(self, ws, name):
        ws.send_raw(self.nick_frame(name))
        self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": name})


class FrameHeaderTest(TransportTestCase):
    """(a) mask bit, (b) 64-bit length top bit, (c) declared size over max_message_bytes."""

    CONFIG = {"max_message_bytes": MAX}
    NAME = "transport-header"

    def test_unmasked_data_frame_1002(self):
        for opcode, payload in ((OP_TEXT, b"hi"), (OP_BINARY, b"hi"), (OP_TEXT, b"")):
            with self.subTest(opcode=opcode, payload=payload), self.raw() as ws:
                ws.send_frame(opcode, payload, mask=False)
                self.assert_closed_with(ws, 1002)

    def test_unmasked_control_frame_1002(self):
        for opcode, payload in ((OP_PING, b"p"), (OP_PONG, b""), (OP_CLOSE, struct.pack("!H", 1000))):
            with self.subTest(opcode=opcode), self.raw() as ws:
                ws.send_frame(opcode, payload, mask=False)
                self.assert_closed_with(ws, 1002)

    def test_unmasked_continuation_inside_message_1002(self):
        with self.raw() as ws:
            ws.send_frame(OP_TEXT, b"first", fin=False)
            ws.send_frame(OP_CONT, b"second", fin=True, mask=False)
            self.assert_closed_with(ws, 1002)

    def test_64bit_length_with_top_bit_set_1002(self):
        # only the header: nothing could follow a length that large
        for length in ((1 << 63) | 5, (1 << 64) - 1):
            with self.subTest(length=hex(length)), self.raw() as ws:
                ws.send_raw(header(OP_BINARY, length, form=64))
                self.assert_closed_with(ws, 1002)

    def test_declared_1gib_closed_1009_before_payload(self):
        for opcode in (OP_BINARY, OP_TEXT):
            with self.subTest(opcode=opcode), self.raw() as ws:
                ws.send_raw(header(opcode, GIB))
                self.assert_closed_with(ws, 1009)

    def test_declared_max_plus_one_closed_1009_before_payload(self):
        for form in (16, 64):  # 64: a length that fits in 16 bits, written long (still legal here)
            with self.subTest(form=form), self.raw() as ws:
                ws.send_raw(header(OP_TEXT, MAX + 1, form=form))
                self.assert_closed_with(ws, 1009)

    def test_declared_over_max_in_first_fragment_1009(self):
        with self.raw() as ws:
            ws.send_raw(header(OP_TEXT, MAX + 1, fin=False))
            self.assert_closed_with(ws, 1009)

    def test_continuation_declaring_past_the_sum_1009_before_payload(self):
        """docs/protocol.md: the sum of the fragments is refused at the header too."""
        with self.raw() as ws:
            ws.send_raw(header_and_payload(OP_TEXT, b"a" * 600, fin=False))
            ws.send_raw(header(OP_CONT, MAX - 600 + 1))
            self.assert_closed_with(ws, 1009)

    def test_declared_max_waits_for_its_payload(self):
        """The early check is not off by one: a header declaring exactly max_message_bytes is
        kept open until its payload comes (in a later write)."""
        payload = b'{"type":"nickname","nickname":"at-max"}'
        payload += b" " * (MAX - len(payload))
        key, body = masked(payload)
        with self.raw() as ws:
            ws.send_raw(header(OP_TEXT, MAX, mask_key=key))
            time.sleep(0.3)
            ws.send_raw(body)
            self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": "at-max"})

    def test_server_alive_after_bad_headers(self):
        with self.raw() as ws:
            self.assert_alive(ws, "header-survivor")


class OversizedStreamTest(unittest.TestCase):
    """(d) Six clients declare 1 GiB frames and stream 40 MiB of them: each is closed 1009 and the
    server does not buffer what they send (RSS grows by less than 32 MiB)."""

    CLIENTS = 6
    # The RSS bound is the point under a plain build. ASan's allocator and quarantine make RSS
    # noisy, so it is loosened there; under TSan (shadow memory, a slow server) the stream is
    # shorter and RSS is not checked: the close code is checked everywhere.
    STREAM = 8 * MIB if SANITIZER == "tsan" else 40 * MIB
    RSS_LIMIT_KIB = None if SANITIZER == "tsan" else (96 if SANITIZER else 32) * 1024
    CHUNK = 64 * 1024

    def stream(self, port, result):
        """One client: hello, a 1 GiB binary frame header, then payload until STREAM bytes are
        sent, the server's close frame arrives or the socket fails (bounded by TIMEOUT * 3).
        Fills result: code (close code or None), how ('close', 'eof', 'reset', 'timeout', or
        'sent all'), sent (payload bytes)."""
        result.update(code=None, how="timeout", sent=0)
        ws = RawWS(port, timeout=TIMEOUT)
        s = ws.sock
        try:
            buf = ws.buf
            s.sendall(header(OP_BINARY, GIB))
            chunk = masked(os.urandom(self.CHUNK))[1]
            deadline = time.monotonic() + TIMEOUT * 3
            s.setblocking(False)
            sending = True
            for _ in range(10000000):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                if not sending:
                    r, w = select.select([s], [], [], left)[:2]
                else:
                    r, w = select.select([s], [s], [], left)[:2]
                if r:
                    try:
                        data = s.recv(65536)
                    except (ConnectionResetError, BrokenPipeError):
                        result["how"] = "reset"
                        return
                    except BlockingIOError:
                        data = None
                    if data == b"":
                        result["how"] = "eof"
                        return
                    if data:
                        buf += data
                        frames, buf = parse_server_frames(buf)
                        for op, payload in frames:
                            if op == OP_CLOSE:
                                result["code"] = (struct.unpack("!H", payload[:2])[0]
                                                  if len(payload) >= 2 else None)
                                result["how"] = "close"
                                return
                if w and sending:
                    n = min(self.CHUNK, self.STREAM - result["sent"])
                    try:
                        result["sent"] += s.send(chunk[:n])
                    except BlockingIOError:
                        pass
                    except (ConnectionResetError, BrokenPipeError):
                        sending = False  # read what the server sent before it went away
                        deadline = min(deadline, time.monotonic() + TIMEOUT)
                    if result["sent"] >= self.STREAM:
                        # everything sent and still open: wait (bounded) for a close frame
                        sending = False
                        result["how"] = "sent all"
                        deadline = min(deadline, time.monotonic() + TIMEOUT)
        finally:
            ws.close()

    def test_six_1gib_declarations_do_not_grow_the_server(self):
        with Server({"log_level": "info"}, name="transport-oversized") as srv:
            pid = srv.proc.pid
            # warm up: a session opened and closed, so the baseline includes what one costs
            with RawWS(srv.port, timeout=TIMEOUT) as ws:
                ws.recv_json(skip=())
                ws.send_close(1000)
                ws.read_close()
            time.sleep(0.2)
            base = vm_rss_kib(pid)
            self.assertIsNotNone(base, "no VmRSS for the server")
            peak = [base]
            sampling = threading.Event()

            def sample():
                while not sampling.is_set():
                    v = vm_rss_kib(pid)
                    if v is not None:
                        peak[0] = max(peak[0], v)
                    sampling.wait(0.01)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            results = [dict() for _ in range(self.CLIENTS)]
            errors = []

            def run(i):
                try:
                    self.stream(srv.port, results[i])
                except Exception as e:  # reported below with the others
                    errors.append(repr(e))

            threads = [threading.Thread(target=run, args=(i,)) for i in range(self.CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(TIMEOUT * 5)
            time.sleep(0.2)  # one more sample after the last client went away
            sampling.set()
            sampler.join(5)
            final = vm_rss_kib(pid) or 0
            peak[0] = max(peak[0], final)
            self.assertEqual(errors, [])
            self.assertFalse(any(t.is_alive() for t in threads), "a streaming client hung")
            # the server is still fine
            with RawWS(srv.port, timeout=TIMEOUT) as ws:
                ws.recv_json(skip=())
                ws.send_raw(header_and_payload(OP_TEXT, b'{"type":"nickname","nickname":"ok"}'))
                self.assertEqual(ws.recv_json(), {"type": "nickname", "nickname": "ok"})

        grew = peak[0] - base
        summary = "clients: " + "; ".join(
            "%s %r after %.1f MiB" % (r.get("how"), r.get("code"), r.get("sent", 0) / MIB)
            for r in results)
        rss = "server RSS grew by %.1f MiB (from %.1f MiB)" % (grew / 1024.0, base / 1024.0)
        problems = []
        if any((r.get("how"), r.get("code")) != ("close", 1009) for r in results):
            problems.append("want a close 1009 frame for every client")
        if self.RSS_LIMIT_KIB is not None and grew >= self.RSS_LIMIT_KIB:
            problems.append("want RSS growth under %d MiB" % (self.RSS_LIMIT_KIB // 1024))
        self.assertEqual(problems, [], "%s; %s" % (rss, summary))


class StallTest(TransportTestCase):
    """(e) stall_timeout_ms: a frame that stops arriving mid-header or mid-payload is closed 1008;
    a connection idle between frames is not (ping_interval governs idleness)."""

    CONFIG = {"stall_timeout_ms": 500, "max_message_bytes": MAX}
    NAME = "transport-stall"

    def test_partial_payload_then_silence_1008(self):
        payload = b'{"type":"nickname","nickname":"never finished"}'
        key, body = masked(payload)
        with self.raw() as ws:
            ws.send_raw(header(OP_TEXT, len(payload), mask_key=key) + body[:10])
            self.assert_closed_with(ws, 1008)

    def test_partial_payload_of_16bit_frame_then_silence_1008(self):
        with self.raw() as ws:
            key, body = masked(b"x" * 600)
            ws.send_raw(header(OP_BINARY, 600, mask_key=key) + body[:300])
            self.assert_closed_with(ws, 1008)

    def test_one_header_byte_then_silence_1008(self):
        with self.raw() as ws:
            ws.send_raw(b"\x81")
            self.assert_closed_with(ws, 1008)

    def test_header_without_mask_key_then_silence_1008(self):
        for partial in (b"\x81\x85", b"\x82\xfe\x01", b"\x82\xff" + struct.pack("!Q", 600)[:5],
                        header(OP_TEXT, 5)[:4]):
            with self.subTest(partial=partial), self.raw() as ws:
                ws.send_raw(partial)
                self.assert_closed_with(ws, 1008)

    def test_stall_inside_second_fragment_1008(self):
        with self.raw() as ws:
            ws.send_raw(header_and_payload(OP_TEXT, b"first half ", fin=False))
            key, body = masked(b"second half")
            ws.send_raw(header(OP_CONT, 11, mask_key=key) + body[:3])
            self.assert_closed_with(ws, 1008)

    def test_idle_between_frames_stays_open(self):
        with self.raw() as ws:
            time.sleep(2.0)  # four stall timeouts with nothing in flight
            self.assert_alive(ws, "idle-1")
            time.sleep(2.0)
            self.assert_alive(ws, "idle-2")
            ws.send_raw(header_and_payload(OP_PING, b"still"))
            self.assertEqual(ws.recv_until(OP_PONG).payload, b"still")

    def test_slow_but_complete_frames_stay_open(self):
        """Each frame arrives whole, with pauses longer than the stall timeout between them."""
        with self.raw() as ws:
            for i in range(3):
                self.assert_alive(ws, "slow-%d" % i)
                time.sleep(0.8)

    def test_server_alive_after_stalls(self):
        with self.raw() as ws:
            self.assert_alive(ws, "stall-survivor")


class StallConfigTest(unittest.TestCase):
    """stall_timeout_ms is validated like every other key: 100..600000."""

    def test_out_of_range_rejected(self):
        for value in ("99", "0", "600001", "-1", "abc"):
            with self.subTest(value=value):
                rc, out = run_to_exit(
                    ["--config", "{tmp}/huddle.conf", "--bind", "127.0.0.1", "--port", "0",
                     "--root", WWW],
                    config="stall_timeout_ms = %s\n" % value)
                self.assertEqual(rc, 2, "exit status; output:\n" + out)
                self.assertIn("stall_timeout_ms", out)
                self.assertEqual(sanitizer_reports(out), [])

    def test_range_ends_accepted(self):
        for value in (100, 600000):
            with self.subTest(value=value):
                with Server({"stall_timeout_ms": value}, name="transport-stall-%d" % value) as srv:
                    with RawWS(srv.port, timeout=TIMEOUT) as ws:
                        self.assertEqual(ws.recv_json(skip=())["type"], "hello")


class CloseHandshakeTest(TransportTestCase):
    """(f) The close handshake with the loop as the socket's owner."""

    CONFIG = {"max_message_bytes": MAX}
    NAME = "transport-close"

    def frames_until_eof(self, ws, timeout=None):
        """Every frame until the server ends TCP; fails when it does not within the wait."""
        deadline = time.monotonic() + (timeout if timeout is not None else TIMEOUT)
        got = []
        for _ in range(10000):
            try:
                got.append(ws.recv_frame(max(0.001, deadline - time.monotonic())))
            except Closed:
                return got
            except socket.timeout:
                self.fail("server kept TCP open; frames so far %r" % got)
        self.fail("too many frames: %r" % got[:10])

    def test_client_close_echoed_then_tcp_closed(self):
        with self.raw() as ws:
            ws.send_close(1000, "bye")
            code, _ = self.read_close(ws)
            self.assertEqual(code, 1000)
            self.assertEqual(self.frames_until_eof(ws), [], "frames after the close echo")

    def test_client_close_after_pipelined_requests(self):
        """A request ahead of the close in the same write: its reply may come before the echo or
        not at all (the session is closing), never after it."""
        with self.raw() as ws:
            data = self.nick_frame("before-close") + header_and_payload(
                OP_CLOSE, struct.pack("!H", 1000))
            ws.send_raw(data)
            frames = self.frames_until_eof(ws)
            ops = [f.opcode for f in frames]
            self.assertIn(OP_CLOSE, ops, "no close echo: %r" % frames)
            self.assertEqual(ops[-1], OP_CLOSE, "frames after the close echo: %r" % frames)
            self.assertEqual(frames[-1].close_code()[0], 1000)
            for f in frames[:-1]:
                self.assertEqual(json.loads(f.payload), {"type": "nickname", "nickname": "before-close"})

    def test_data_after_client_close_ignored(self):
        with self.raw() as ws:
            ws.send_raw(header_and_payload(OP_CLOSE, struct.pack("!H", 1000))
                        + self.nick_frame("too-late"))
            code, _ = self.read_close(ws)
            self.assertEqual(code, 1000)
            try:
                rest = self.frames_until_eof(ws)
            except (ConnectionResetError, BrokenPipeError):
                rest = []  # the unread frame made the kernel reset: fine, nothing was answered
            self.assertEqual(rest, [])

    def test_server_close_then_client_echo_then_tcp_closed(self):
        with self.raw() as ws:
            ws.send_frame(OP_TEXT, b"bad", rsv=4)
            code, _ = self.read_close(ws)
            self.assertEqual(code, 1002)
            ws.send_close(1002)
            self.assertEqual(self.frames_until_eof(ws), [], "frames after the server's close")

    def test_server_close_without_echo_tcp_closed_after_a_while(self):
        with self.raw() as ws:
            ws.send_frame(OP_TEXT, b"bad", rsv=2)
            code, _ = self.read_close(ws)
            self.assertEqual(code, 1002)
            # never echo and never close: the server gives up on the echo by itself
            self.assertEqual(self.frames_until_eof(ws, TIMEOUT), [])

    def test_server_close_then_client_data_not_answered(self):
        with self.raw() as ws:
            ws.send_frame(OP_TEXT, b"bad", rsv=1)
            code, _ = self.read_close(ws)
            self.assertEqual(code, 1002)
            ws.send_raw(self.nick_frame("after-server-close")
                        + header_and_payload(OP_CLOSE, struct.pack("!H", 1002)))
            try:
                rest = self.frames_until_eof(ws)
            except (ConnectionResetError, BrokenPipeError):
                rest = []
            self.assertEqual(rest, [], "the server answered after its close frame")

    def test_sigterm_with_a_client_mid_frame(self):
        """A client that stopped in the middle of a frame does not hold the shutdown: it gets
        1001 (or the end of TCP) and the server exits 0."""
        srv = Server(name="transport-close-sigterm").start()
        try:
            ws = RawWS(srv.port, timeout=TIMEOUT)
            ws.recv_json(skip=())
            key, body = masked(b"x" * 100)
            ws.send_raw(header(OP_BINARY, 100, mask_key=key) + body[:40])
            peer = RawWS(srv.port, timeout=TIMEOUT)
            peer.recv_json(skip=())
            time.sleep(0.2)
        finally:
            srv.stop(timeout=TIMEOUT)  # raises when the server does not exit 0 in time
        try:
            for c in (ws, peer):
                try:
                    code, _ = c.read_close(TIMEOUT)
                    self.assertEqual(code, 1001)
                except Closed:
                    pass  # the process is gone: the end of TCP is all a client can get now
        finally:
            ws.close()
            peer.close()


class PipelineTest(TransportTestCase):
    """(g) Many frames in one write and frames split into tiny writes: every reply, in order."""

    CONFIG = {"rate_limit_per_sec": 0, "max_message_bytes": 262144, "log_level": "info"}
    NAME = "transport-pipeline"
    N = 100

    def joined_raw(self, ws):
        ws.send_raw(header_and_payload(OP_TEXT, ('{"type":"join","room":"%s"}' % room_name("pipe")).encode()))
        msg = ws.recv_json()
        self.assertEqual(msg.get("type"), "joined", msg)
        return msg

    def read_chats(self, ws, n, want_pongs=()):
        """n chat texts in arrival order and the pongs' payloads (other messages skipped)."""
        chats, pongs = [], []
        deadline = time.monotonic() + TIMEOUT * 2
        for _ in range(100000):
            if len(chats) >= n and len(pongs) >= len(want_pongs):
                break
            f = ws.recv_frame(max(0.001, deadline - time.monotonic()))
            if f.opcode == OP_PONG:
                pongs.append(f.payload)
            elif f.opcode == OP_TEXT:
                m = json.loads(f.payload.decode("utf-8"))
                if m.get("type") == "chat":
                    chats.append((m["seq"], m["text"]))
                elif m.get("type") not in ("rooms",):
                    self.fail("unexpected %r" % (m,))
            else:
                self.fail("unexpected frame %r" % f)
        return chats, pongs

    def assert_in_order(self, chats, texts):
        self.assertEqual([t for _, t in chats], texts)
        seqs = [s for s, _ in chats]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(texts))), "seq not contiguous")

    def test_100_chats_in_one_write(self):
        texts = ["burst-%03d" % i for i in range(self.N)]
        with self.raw() as ws:
            self.joined_raw(ws)
            ws.send_raw(b"".join(chat_frame(t) for t in texts))
            chats, _ = self.read_chats(ws, self.N)
            self.assert_in_order(chats, texts)

    def test_chats_and_pings_in_one_write(self):
        texts = ["mixed-%03d" % i for i in range(self.N)]
        pings = [b"p%d" % i for i in range(0, self.N, 10)]
        data = b""
        for i, t in enumerate(texts):
            if i % 10 == 0:
                data += header_and_payload(OP_PING, pings[i // 10])
            data += chat_frame(t)
        with self.raw() as ws:
            self.joined_raw(ws)
            ws.send_raw(data)
            chats, pongs = self.read_chats(ws, self.N, pings)
            self.assert_in_order(chats, texts)
            self.assertEqual(pongs, pings)

    def send_in_pieces(self, ws, data, sizes):
        """Sends data in writes of the given sizes (cycled), each its own TCP segment."""
        ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        i = k = 0
        while i < len(data):
            n = sizes[k % len(sizes)]
            ws.send_raw(data[i : i + n])
            i += n
            k += 1
            time.sleep(0.001)  # give the server a chance to read each piece on its own

    def test_one_byte_per_write(self):
        texts = ["byte-%d" % i for i in range(4)]
        data = b"".join(chat_frame(t) for t in texts)
        # a fragmented message with a ping between its fragments, byte by byte too
        data += header_and_payload(OP_TEXT, b'{"type":"chat",', fin=False)
        data += header_and_payload(OP_PING, b"mid")
        data += header_and_payload(OP_CONT, b'"text":"fragmented"}', fin=True)
        with self.raw() as ws:
            self.joined_raw(ws)
            self.send_in_pieces(ws, data, [1])
            chats, pongs = self.read_chats(ws, len(texts) + 1, [b"mid"])
            self.assert_in_order(chats, texts + ["fragmented"])
            self.assertEqual(pongs, [b"mid"])

    def test_extended_lengths_in_odd_pieces(self):
        """16-bit and 64-bit length forms whose headers arrive byte by byte and payloads in
        uneven pieces: signals to nobody, answered no_such_peer (so the JSON parsed whole)."""
        small = json.dumps({"type": "signal", "to": NOBODY, "data": "s" * 3000}).encode()
        big = json.dumps({"type": "signal", "to": NOBODY, "data": "b" * 100000}).encode()
        with self.raw() as ws:
            for payload in (small, big):
                frame = header_and_payload(OP_TEXT, payload)
                hlen = len(frame) - len(payload)
                self.send_in_pieces(ws, frame[:hlen], [1])
                self.send_in_pieces(ws, frame[hlen:], [1, 7, 4093, 1, 30000])
                msg = ws.recv_json()
                self.assertEqual((msg.get("type"), msg.get("code")), ("error", "no_such_peer"), msg)
            self.assert_alive(ws, "after-odd-pieces")

    def test_random_split_of_many_frames(self):
        rng = random.Random(6455)
        texts = ["rnd-%03d" % i for i in range(self.N)]
        data = b"".join(chat_frame(t) for t in texts)
        sizes = [rng.randint(1, 40) for _ in range(200)]
        with self.raw() as ws:
            self.joined_raw(ws)
            self.send_in_pieces(ws, data, sizes)
            chats, _ = self.read_chats(ws, self.N)
            self.assert_in_order(chats, texts)


class ManyConnectionsTest(unittest.TestCase):
    """(h) 300 WebSockets at once on the default config (max_connections is no longer bounded
    by worker threads): all greeted, all chat in rooms, all closed cleanly."""

    CLIENTS = 300
    ROOM_SIZE = 6  # max_room_members defaults to 8

    def test_300_concurrent_sessions_chat_in_rooms(self):
        # every client is on 127.0.0.1: lift the per-address caps (not exempt by default)
        cfg = {"log_level": "info", "max_connections_per_ip": 0, "max_http_connections_per_ip": 0}
        with Server(cfg, name="transport-many") as srv:

            async def go():
                sem = asyncio.Semaphore(50)

                async def open_one():
                    async with sem:
                        return await Peer.open(srv)

                opened = await asyncio.gather(*(open_one() for _ in range(self.CLIENTS)),
                                              return_exceptions=True)
                ps = [p for p in opened if isinstance(p, Peer)]
                bad = [repr(e) for e in opened if not isinstance(e, Peer)]
                try:
                    self.assertEqual(bad, [], "%d of %d connections failed" % (len(bad), self.CLIENTS))
                    self.assertEqual(len({p.id for p in ps}), self.CLIENTS, "session ids not unique")
                    rooms = [ps[i : i + self.ROOM_SIZE] for i in range(0, len(ps), self.ROOM_SIZE)]

                    async def fill(members):
                        name = room_name("many")
                        for p in members:
                            await p.join(name)

                    await asyncio.gather(*(fill(r) for r in rooms))

                    async def chat_and_read(p, n):
                        await p.chat("from %d" % p.id)
                        got = set()
                        for _ in range(1000):
                            if len(got) == n:
                                break
                            m = await p.recv(skip=("rooms", "welcome"), timeout=TIMEOUT * 2)
                            if m.get("type") != "chat":
                                raise AssertionError("unexpected %r" % (m,))
                            got.add(m["from"]["id"])
                        return got

                    results = await asyncio.gather(*(chat_and_read(p, len(r))
                                                     for r in rooms for p in r))
                    k = 0
                    for r in rooms:
                        ids = {p.id for p in r}
                        for _ in r:
                            self.assertEqual(results[k], ids)
                            k += 1
                finally:
                    await close_all(ps)
                return [p.ws.close_code for p in ps]

            codes = run_async(go(), timeout=TIMEOUT * 12)
            self.assertEqual(set(codes), {1000}, "close codes")
            wait_metric(srv.port, "huddle_websocket_sessions", lambda v: v == 0)


class HttpBesideWebSocketsTest(unittest.TestCase):
    """WebSockets no longer hold worker threads: with num_threads = 8, sixty open sessions leave
    plain HTTP answered and new sessions accepted."""

    SESSIONS = 60

    def test_http_and_new_sessions_with_many_open_on_few_threads(self):
        cfg = {"num_threads": 8, "log_level": "info", "max_connections_per_ip": 0,
               "max_http_connections_per_ip": 0}  # one address for every client here
        with Server(cfg, name="transport-few-threads") as srv:

            async def go():
                ps = []
                try:
                    for _ in range(self.SESSIONS):
                        ps.append(await Peer.open(srv))
                    loop = asyncio.get_running_loop()
                    for path in ("/healthz", "/api/rooms", "/"):
                        status, _, _ = await loop.run_in_executor(None, http_request, srv.port, path)
                        self.assertEqual(status, 200, path)
                    room = room_name("few")
                    await ps[0].join(room)
                    await ps[-1].join(room)
                    await ps[0].expect("welcome")
                    await ps[-1].chat("across")
                    self.assertEqual((await ps[0].expect("chat"))["text"], "across")
                finally:
                    await close_all(ps)

            run_async(go(), timeout=TIMEOUT * 6)
            wait_metric(srv.port, "huddle_websocket_sessions", lambda v: v == 0)


if __name__ == "__main__":
    unittest.main()
