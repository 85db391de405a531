# SPDX-License-Identifier: MIT
"""A small raw-socket WebSocket client for malformed-frame tests.

It does the opening handshake, then sends whatever frame it is told (any FIN/RSV bits, any opcode,
masked or not, any payload) and reads the server's frames one by one. Real clients refuse to send
broken frames, so this is how the RFC 6455 checks in the server are exercised.
"""

import base64
import hashlib
import json
import os
import socket
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA


class Closed(Exception):
    """The server closed the TCP connection."""


class Frame:
    def __init__(self, fin, rsv, opcode, payload):
        self.fin, self.rsv, self.opcode, self.payload = fin, rsv, opcode, payload

    def close_code(self):
        """(code or None, reason bytes) of a close frame."""
        if len(self.payload) < 2:
            return None, b""
        return struct.unpack("!H", self.payload[:2])[0], self.payload[2:]

    def __repr__(self):
        p = self.payload if len(self.payload) <= 80 else self.payload[:80] + b"..."
        return "Frame(fin=%d rsv=%d op=0x%x %r)" % (self.fin, self.rsv, self.opcode, p)


def encode_frame(opcode, payload=b"", fin=True, rsv=0, mask=True, mask_key=None):
    """Bytes of one frame. rsv is the 3-bit RSV1..RSV3 field (4 = RSV1)."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    head = bytearray([(0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0F)])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head.append(mbit | n)
    elif n < 65536:
        head.append(mbit | 126)
        head += struct.pack("!H", n)
    else:
        head.append(mbit | 127)
        head += struct.pack("!Q", n)
    if not mask:
        return bytes(head) + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    head += key
    masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
    return bytes(head) + masked


class RawWS:
    """One client connection. Every blocking call is bounded by `timeout` seconds."""

    def __init__(self, port, path="/", host="127.0.0.1", timeout=10.0, headers=None):
        self.timeout = timeout
        self.buf = b""
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET %s HTTP/1.1" % path,
            "Host: %s:%d" % (host, port),
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: " + key,
            "Sec-WebSocket-Version: 13",
        ]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = self._read_until(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        self.response_head = head.decode("latin-1")
        if b" 101 " not in status + b" ":
            self.sock.close()
            raise Closed("handshake refused: %r" % status)
        want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        if ("sec-websocket-accept: " + want.lower()) not in self.response_head.lower():
            self.sock.close()
            raise Closed("bad Sec-WebSocket-Accept in %r" % self.response_head)

    # ---- low level ----
    def _recv_some(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Closed(str(e))
        if not data:
            raise Closed("EOF")
        self.buf += data

    def _read_until(self, sep):
        deadline = time.monotonic() + self.timeout
        while sep not in self.buf:
            if len(self.buf) > 65536:
                raise Closed("response head too long")
            self._recv_some(deadline)
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_exact(self, n, deadline):
        while len(self.buf) < n:
            self._recv_some(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_raw(self, data):
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, mask=True):
        self.send_raw(encode_frame(opcode, payload, fin=fin, rsv=rsv, mask=mask))

    def send_text(self, text, fin=True):
        self.send_frame(OP_TEXT, text, fin=fin)

    def send_json(self, obj):
        self.send_text(json.dumps(obj, ensure_ascii=False))

    def send_close(self, code=None, reason=b""):
        if isinstance(reason, str):
            reason = reason.encode("utf-8")
        payload = b"" if code is None else struct.pack("!H", code) + reason
        self.send_frame(OP_CLOSE, payload)

    def recv_frame(self, timeout=None):
        """Next frame from the server; raises Closed on EOF and socket.timeout on silence."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        b0, b1 = self._read_exact(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8, deadline))[0]
        key = self._read_exact(4, deadline) if b1 & 0x80 else None
        payload = self._read_exact(n, deadline)
        if key:
            payload = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, payload)

    # ---- higher level ----
    def recv_json(self, timeout=None, skip=("rooms",)):
        """Next text frame as JSON, skipping unsolicited messages whose type is in `skip`
        (room list updates). Fails on any other frame kind."""
        for _ in range(1000):
            f = self.recv_frame(timeout)
            if f.opcode != OP_TEXT:
                raise AssertionError("expected a text frame, got %r" % f)
            msg = json.loads(f.payload.decode("utf-8"))
            if isinstance(msg, dict) and msg.get("type") in skip:
                continue
            return msg
        raise AssertionError("too many skipped messages")

    def recv_until(self, opcode, timeout=None, max_frames=1000):
        """Reads frames until one with `opcode`; returns it (others are dropped)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        for _ in range(max_frames):
            f = self.recv_frame(max(0.0, deadline - time.monotonic()))
            if f.opcode == opcode:
                return f
        raise AssertionError("no frame with opcode 0x%x in %d frames" % (opcode, max_frames))

    def read_close(self, timeout=None):
        """Reads until the server's close frame; returns (code or None, reason bytes).
        Raises Closed if TCP ends without a close frame."""
        return self.recv_until(OP_CLOSE, timeout).close_code()

    def wait_eof(self, timeout=None):
        """True when the server drops TCP within timeout (frames before that are ignored)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        for _ in range(10000):
            try:
                self.recv_frame(max(0.001, deadline - time.monotonic()))
            except Closed:
                return True
            except socket.timeout:
                return False
            if time.monotonic() >= deadline:
                return False
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
