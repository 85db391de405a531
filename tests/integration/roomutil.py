# SPDX-License-Identifier: MIT
"""Helpers for the chat-room, fan-out and operations tests (issues 3 and 5): an async client that
knows the room protocol, plain HTTP requests, raw upgrade requests (to read a refusal's status
line), a Prometheus text parser, and a raw client that stops reading."""

import asyncio
import base64
import json
import os
import re
import socket
import struct
import time
import uuid

import websockets

from harness import TIMEOUT, sanitizer_reports

# A session id that never exists: `signal` to it is a side-effect-free request whose only answer
# is the sender's own `no_such_peer` error, so it marks a point in the sender's message stream.
NOBODY = 2 ** 53


# A session's state until it sends one (docs/protocol.md, `state`).
DEFAULT_STATE = {"mic": True, "cam": True, "hand": False}


def member(peer_id, nickname="Anon", state=None):
    """One entry of joined.members as the server sends it."""
    return {"id": peer_id, "nickname": nickname, "state": dict(state or DEFAULT_STATE)}


def meta(host, locked=False, listed=True, protected=False, passcode=None, for_host=False):
    """The room settings `joined`, `welcome` and `room` carry (docs/protocol.md, Private
    meetings); the host's copy also has the passcode."""
    d = {"host": host, "locked": locked, "listed": listed, "protected": protected}
    if for_host:
        d["passcode"] = passcode
    return d


def listed_room(name, count, capacity=8, locked=False, protected=False):
    """One entry of a room list (hello, rooms, /api/rooms): listed rooms only."""
    return {"name": name, "count": count, "capacity": capacity, "locked": locked,
            "protected": protected}


def room_name(prefix="room"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# WebSocket clients (python3-websockets 10.x, asyncio)


class Peer:
    """One connected session. `hello` is its greeting, `id` its session id."""

    def __init__(self, ws, hello):
        self.ws = ws
        self.hello = hello
        self.id = hello["id"]

    @classmethod
    async def open(cls, server, path="/", **kw):
        opts = dict(open_timeout=TIMEOUT, close_timeout=TIMEOUT, max_size=2 ** 22)
        opts.update(kw)
        ws = await websockets.connect(server.url(path), **opts)
        try:
            data = await asyncio.wait_for(ws.recv(), TIMEOUT)
            hello = json.loads(data)
            if not isinstance(hello, dict) or hello.get("type") != "hello":
                raise AssertionError("first message is not the hello greeting: %r" % (data,))
            if type(hello.get("id")) is not int:
                raise AssertionError("hello id is not a JSON integer: %r" % (hello,))
        except BaseException:
            await ws.close()
            raise
        return cls(ws, hello)

    async def send(self, obj):
        await self.ws.send(obj if isinstance(obj, (str, bytes)) else dumps(obj))

    async def recv(self, skip=("rooms",), timeout=None):
        """Next message (a JSON object), skipping the types in `skip`."""
        t = TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + t
        for _ in range(100000):
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError()
            data = await asyncio.wait_for(self.ws.recv(), left)
            if not isinstance(data, str):
                raise AssertionError("server sent a binary frame: %r" % data[:80])
            msg = json.loads(data)
            if not isinstance(msg, dict):
                raise AssertionError("server sent a non-object: %r" % (data[:200],))
            if msg.get("type") in skip:
                continue
            return msg
        raise AssertionError("too many skipped messages")

    async def expect(self, mtype, skip=("rooms",), timeout=None):
        msg = await self.recv(skip=skip, timeout=timeout)
        if msg.get("type") != mtype:
            raise AssertionError("expected a %r message, got %r" % (mtype, msg))
        return msg

    async def expect_error(self, code, skip=("rooms",)):
        msg = await self.recv(skip=skip)
        if msg.get("type") != "error" or msg.get("code") != code:
            raise AssertionError("expected error %r, got %r" % (code, msg))
        if set(msg) != {"type", "code", "message"} or not isinstance(msg["message"], str):
            raise AssertionError("error message shape: %r" % (msg,))
        return msg

    async def sync(self, skip=("rooms",)):
        """Sends a request whose only effect is the sender's own no_such_peer error and returns
        every message (except skipped types) that arrived before that error. Messages to one
        session are delivered in order, so [] proves nothing else was queued for it until now."""
        await self.send({"type": "signal", "to": NOBODY, "data": "sync"})
        before = []
        for _ in range(10000):
            msg = await self.recv(skip=skip)
            if msg.get("type") == "error" and msg.get("code") == "no_such_peer":
                return before
            before.append(msg)
        raise AssertionError("no answer to the sync request")

    async def quiet(self, seconds=0.5, skip=()):
        """Messages (not of a skipped type) that arrive within `seconds`; [] is the hope."""
        got = []
        deadline = time.monotonic() + seconds
        for _ in range(10000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                data = await asyncio.wait_for(self.ws.recv(), left)
            except asyncio.TimeoutError:
                break
            msg = json.loads(data)
            if isinstance(msg, dict) and msg.get("type") in skip:
                continue
            got.append(msg)
        return got

    async def nickname(self, nick):
        await self.send({"type": "nickname", "nickname": nick})
        return await self.expect("nickname")

    async def join(self, room, listed=True, **fields):
        """Joins room; one this join creates is listed, like the course's rooms (private
        meetings pass listed=False and their own fields)."""
        await self.send(dict({"type": "join", "room": room, "listed": listed}, **fields))
        return await self.expect("joined")

    async def chat(self, text):
        await self.send({"type": "chat", "text": text})

    async def close(self, code=1000):
        try:
            await asyncio.wait_for(self.ws.close(code), TIMEOUT)
        except (asyncio.TimeoutError, websockets.ConnectionClosed, OSError):
            pass

    def abort(self):
        """Drops TCP without a closing handshake."""
        self.ws.transport.abort()


async def open_peers(server, n, nicks=None):
    peers = []
    try:
        for i in range(n):
            p = await Peer.open(server)
            peers.append(p)
            if nicks:
                await p.nickname(nicks[i])
    except BaseException:
        await close_all(peers)
        raise
    return peers


async def close_all(peers):
    await asyncio.gather(*(p.close() for p in peers), return_exceptions=True)


async def wait_for_rooms(peer, want, timeout=None):
    """Reads `rooms` pushes until one whose list equals `want` (order ignored). Other message
    types are an error. Returns the matching message."""
    deadline = time.monotonic() + (TIMEOUT if timeout is None else timeout)
    seen = []
    want_n = sorted_rooms(want)
    for _ in range(10000):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            msg = await peer.recv(skip=(), timeout=left)
        except asyncio.TimeoutError:
            break
        if msg.get("type") != "rooms":
            raise AssertionError("lobby session got %r while waiting for a rooms update" % (msg,))
        seen.append(msg["rooms"])
        if sorted_rooms(msg["rooms"]) == want_n:
            return msg
    raise AssertionError("no rooms update with %r; saw %r" % (want, seen[-5:]))


def sorted_rooms(rooms):
    return sorted(rooms, key=lambda r: (r.get("name"), r.get("count")))


def assert_running(server):
    """Fails with the sanitizer report (or the log tail) when the server process has died."""
    if server.proc is None or server.proc.poll() is None:
        return
    reports = sanitizer_reports(server.log())
    raise AssertionError(
        "server died (exit %r): %s\n--- log tail:\n%s"
        % (server.proc.returncode, "; ".join(reports[:5]) or "no sanitizer report",
           server.log()[-4000:])
    )


# ---------------------------------------------------------------------------------------------
# Plain HTTP


def http_request(port, path, method="GET", headers=None, host=None, timeout=None):
    """One HTTP/1.1 request with Connection: close, the request line sent exactly as given (no
    normalisation). Returns (status, {lower-case header: value}, body bytes)."""
    t = TIMEOUT if timeout is None else timeout
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % (host or "127.0.0.1:%d" % port),
             "Connection: close"]
    for k, v in (headers or {}).items():
        lines.append("%s: %s" % (k, v))
    data = b""
    deadline = time.monotonic() + t
    with socket.create_connection(("127.0.0.1", port), timeout=t) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        for _ in range(100000):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("response to %s %s did not end in time" % (method, path))
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError("no complete HTTP response for %s: %r" % (path, data[:200]))
    hl = head.decode("latin-1").split("\r\n")
    status = int(hl[0].split()[1])
    hdrs = {}
    for line in hl[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    elif "content-length" in hdrs and method != "HEAD":
        body = body[: int(hdrs["content-length"])]
    return status, hdrs, body


def dechunk(body):
    """The payload of a chunked transfer-encoded body."""
    out = b""
    for _ in range(100000):
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return out


def get_json(port, path):
    status, hdrs, body = http_request(port, path)
    if status != 200:
        raise AssertionError("GET %s answered %d: %r" % (path, status, body[:200]))
    return json.loads(body.decode("utf-8"))


def upgrade_status(port, path="/", origin=None, host=None, timeout=None):
    """Sends a WebSocket upgrade request and returns (status code, response head text). A 101
    session is ended politely: the greeting is read, a close 1000 sent and the server's close or
    EOF awaited (bounded), like a well-behaved client would."""
    t = TIMEOUT if timeout is None else timeout
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        "GET %s HTTP/1.1" % path,
        "Host: %s" % (host or "127.0.0.1:%d" % port),
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: " + key,
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append("Origin: " + origin)
    buf = b""
    deadline = time.monotonic() + t
    with socket.create_connection(("127.0.0.1", port), timeout=t) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        for _ in range(10000):
            if b"\r\n\r\n" in buf:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no response head to the upgrade request in time")
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
            raise AssertionError("no HTTP status line in %r" % head[:200])
        if m.group(1) == "101":
            _polite_close(s, buf.partition(b"\r\n\r\n")[2], deadline)
    return int(m.group(1)), head


def _polite_close(s, rest, deadline):
    """After a 101: waits for the first frame (the greeting), sends a masked close 1000 and reads
    until the server's close frame or EOF, all bounded by deadline."""
    got = rest
    sent = False
    for _ in range(10000):
        if not sent and len(got) >= 2:
            key = os.urandom(4)
            payload = struct.pack("!H", 1000)
            masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
            try:
                s.sendall(bytes([0x88, 0x80 | len(payload)]) + key + masked)
            except OSError:
                return
            sent = True
            got = b""
        if sent and b"\x88" in got:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            return
        s.settimeout(left)
        try:
            chunk = s.recv(4096)
        except OSError:
            return
        if not chunk:
            return
        got += chunk


# ---------------------------------------------------------------------------------------------
# /metrics

METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


def parse_metrics(text):
    """{'name' or 'name{labels}': float}. Raises on a line that is neither comment nor sample."""
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = METRIC_LINE.match(line.strip())
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def metrics(port):
    status, hdrs, body = http_request(port, "/metrics")
    if status != 200:
        raise AssertionError("/metrics answered %d" % status)
    return parse_metrics(body.decode("utf-8")), hdrs, body.decode("utf-8")


def wait_metric(port, key, pred, timeout=None):
    """Polls /metrics until pred(value of key) holds; returns the metrics dict."""
    deadline = time.monotonic() + (TIMEOUT if timeout is None else timeout)
    last = None
    for _ in range(10000):
        m, _, _ = metrics(port)
        last = m.get(key)
        if last is not None and pred(last):
            return m
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    raise AssertionError("metric %s never satisfied the condition (last %r)" % (key, last))


# ---------------------------------------------------------------------------------------------
# A raw client that can stop reading


class RawClient:
    """Handshake over a socket with a small receive buffer (set before connect, so the TCP window
    stays small), then text frames out; reads only when asked."""

    def __init__(self, port, rcvbuf=4096, path="/", timeout=None):
        self.timeout = TIMEOUT if timeout is None else timeout
        self.buf = b""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(self.timeout)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            raise
        self.sock = s
        key = base64.b64encode(os.urandom(16)).decode()
        req = (
            "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, port, key)
        )
        s.sendall(req.encode())
        deadline = time.monotonic() + self.timeout
        for _ in range(10000):
            if b"\r\n\r\n" in self.buf:
                break
            self._recv_some(deadline)
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            self.close()
            raise AssertionError("upgrade refused: %r" % head[:100])

    def _recv_some(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("EOF")
        self.buf += data

    def _exact(self, n, deadline):
        for _ in range(1000000):
            if len(self.buf) >= n:
                break
            self._recv_some(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_text(self, text):
        payload = text.encode("utf-8")
        key = os.urandom(4)
        n = len(payload)
        head = bytearray([0x81])
        if n < 126:
            head.append(0x80 | n)
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        head += key
        masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
        self.sock.settimeout(self.timeout)
        self.sock.sendall(bytes(head) + masked)

    def send_json(self, obj):
        self.send_text(dumps(obj))

    def send_close(self, code=1000):
        key = os.urandom(4)
        payload = struct.pack("!H", code)
        masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
        self.sock.settimeout(self.timeout)
        self.sock.sendall(bytes([0x88, 0x80 | len(payload)]) + key + masked)

    def recv_frame(self, timeout=None):
        """(opcode, payload bytes). Raises EOFError/ConnectionError at the end, socket.timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        b0, b1 = self._exact(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._exact(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._exact(8, deadline))[0]
        if b1 & 0x80:
            raise AssertionError("server sent a masked frame")
        return b0 & 0x0F, self._exact(n, deadline)

    def recv_json(self, timeout=None, skip=("rooms",)):
        for _ in range(100000):
            op, payload = self.recv_frame(timeout)
            if op != 0x1:
                raise AssertionError("expected a text frame, got opcode 0x%x" % op)
            msg = json.loads(payload.decode("utf-8"))
            if msg.get("type") not in skip:
                return msg
        raise AssertionError("too many skipped messages")

    def drain_to_end(self, timeout=None):
        """Reads everything until a close frame or the end of TCP. Returns (close code or None,
        'close' / 'eof' / 'reset' / 'timeout', number of text frames read before)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        texts = 0
        for _ in range(10000000):
            left = deadline - time.monotonic()
            if left <= 0:
                return None, "timeout", texts
            try:
                op, payload = self.recv_frame(left)
            except EOFError:
                return None, "eof", texts
            except (ConnectionResetError, BrokenPipeError):
                return None, "reset", texts
            except socket.timeout:
                return None, "timeout", texts
            if op == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return code, "close", texts
            if op == 0x1:
                texts += 1
        return None, "timeout", texts

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
