# SPDX-License-Identifier: MIT
"""Helpers around Debian's python3-websockets (10.x, asyncio API) for the normal message flows."""

import asyncio
import json

import websockets

from harness import TIMEOUT


async def connect(server, path="/"):
    """An open client connection to the server (a websockets client, not ours)."""
    return await websockets.connect(
        server.url(path), open_timeout=TIMEOUT, close_timeout=TIMEOUT, max_size=2 ** 22
    )


async def recv_json(ws, skip=("rooms",)):
    """Next message as a JSON object, skipping unsolicited room-list updates."""
    for _ in range(1000):
        data = await asyncio.wait_for(ws.recv(), TIMEOUT)
        if not isinstance(data, str):
            raise AssertionError("server sent a binary frame: %r" % data[:80])
        msg = json.loads(data)
        if isinstance(msg, dict) and msg.get("type") in skip:
            continue
        return msg
    raise AssertionError("too many skipped messages")


async def send_json(ws, obj):
    await ws.send(json.dumps(obj, ensure_ascii=False))


async def hello(ws):
    """Reads the greeting, which must be the first message."""
    msg = await recv_json(ws, skip=())
    if not isinstance(msg, dict) or msg.get("type") != "hello":
        raise AssertionError("first message is not the hello greeting: %r" % (msg,))
    return msg


async def nickname(ws, nick):
    """Sends a nickname request and returns the reply."""
    await send_json(ws, {"type": "nickname", "nickname": nick})
    return await recv_json(ws)


async def assert_alive(test, ws, nick="still-here"):
    """The connection still answers: a nickname request gets its nickname reply."""
    reply = await nickname(ws, nick)
    test.assertEqual(reply, {"type": "nickname", "nickname": nick})
