# SPDX-License-Identifier: MIT
"""Chat rooms (issue 3): every row of the protocol table with exact message shapes, every error
code, lengths in code points with trimming and control characters, one room at a time, signal
relay inside a room only, room_full at the 9th member, room-list pushes to the lobby, the hello
room list and GET /api/rooms, bye on disconnect (at once after a close frame, after the resume
window after a dropped connection), and 503 for a WebSocket when the server is full."""

import asyncio
import json
import time
import unittest

import websockets

from harness import TIMEOUT, Server, run_async
from roomutil import (
    NOBODY,
    Peer,
    close_all,
    get_json,
    listed_room,
    member,
    meta,
    http_request,
    metrics,
    open_peers,
    room_name,
    sorted_rooms,
    upgrade_status,
    wait_for_rooms,
)

MAX_MEMBERS = 8
RESUME_WINDOW_S = 1


def with_peers(n, body, nicks=None, server_attr="server"):
    """Decorator body: runs `async body(self, *peers)` on n fresh sessions, closing them after."""

    def run(self):
        server = getattr(self, server_attr)

        async def go():
            peers = await open_peers(server, n, nicks)
            try:
                return await body(self, *peers)
            finally:
                await close_all(peers)

        return run_async(go())

    run.__name__ = body.__name__
    run.__doc__ = body.__doc__
    return run


def peers(n, nicks=None):
    return lambda body: with_peers(n, body, nicks)


class RoomTestCase(unittest.TestCase):
    def assert_error_shape(self, msg, code):
        self.assertEqual(msg.get("type"), "error", msg)
        self.assertEqual(msg.get("code"), code, msg)
        self.assertEqual(set(msg), {"type", "code", "message"}, msg)
        self.assertIsInstance(msg["message"], str)

    async def assert_nothing_more(self, peer, skip=("rooms",), wait=0.3):
        """Nothing arrives within a short bounded wait, and nothing is queued before a sync."""
        self.assertEqual(await peer.quiet(wait, skip=skip), [], "unexpected message")
        self.assertEqual(await peer.sync(skip=skip), [], "unexpected message")

    async def join_all(self, room, *ps):
        """Joins the peers to room one after the other, consuming every welcome."""
        joined = []
        for i, p in enumerate(ps):
            joined.append(await p.join(room))
            for q in ps[:i]:
                await q.expect("welcome")
        return joined


class RoomProtocolTest(RoomTestCase):
    @classmethod
    def setUpClass(cls):
        # a short resume window: a dropped connection's bye comes after it (disconnect test)
        cls.server = Server({"rate_limit_per_sec": 0, "resume_window_s": RESUME_WINDOW_S},
                            name="rooms").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    # ---- nickname ----
    @peers(3)
    async def test_nickname_reply_and_renamed_to_room_members(self, a, b, lobby):
        room = room_name()
        await self.join_all(room, a, b)
        await a.send({"type": "nickname", "nickname": "  Alice \t"})
        self.assertEqual(await a.recv(), {"type": "nickname", "nickname": "Alice"})
        self.assertEqual(
            await b.recv(), {"type": "renamed", "id": a.id, "old": "Anon", "nickname": "Alice"}
        )
        await a.send({"type": "nickname", "nickname": "Alicia 😀"})
        self.assertEqual(await a.recv(), {"type": "nickname", "nickname": "Alicia 😀"})
        self.assertEqual(
            await b.recv(),
            {"type": "renamed", "id": a.id, "old": "Alice", "nickname": "Alicia 😀"},
        )
        # the sender gets no renamed, a session outside the room hears nothing
        await self.assert_nothing_more(a)
        await self.assert_nothing_more(lobby)
        # the new name is used in later notices
        await a.send({"type": "leave"})
        await a.expect("left")
        self.assertEqual(
            await b.recv(),
            {"type": "bye", "room": room, "id": a.id, "nickname": "Alicia 😀", "count": 1},
        )

    @peers(1)
    async def test_nickname_lengths_in_code_points(self, a):
        ok32 = "é" * 16 + "😀" * 16  # 32 code points, 96 bytes
        self.assertEqual(await a.nickname(ok32), {"type": "nickname", "nickname": ok32})
        self.assertEqual(await a.nickname("x" * 32), {"type": "nickname", "nickname": "x" * 32})
        # trimming happens before counting
        padded = "  \u3000" + "y" * 32 + " \n "
        self.assertEqual(await a.nickname(padded), {"type": "nickname", "nickname": "y" * 32})
        for bad in ("😀" * 33, "x" * 33, "é" * 33):
            await a.send({"type": "nickname", "nickname": bad})
            self.assert_error_shape(await a.recv(), "bad_field")
        self.assertEqual(await a.nickname("kept"), {"type": "nickname", "nickname": "kept"})

    @peers(1)
    async def test_nickname_bad_fields(self, a):
        bad = [
            "",
            "   ",
            "\t\n",
            "a\u0007b",
            "a\nb",
            "a\tb",
            "a\u0000b",
            "a\u007fb",
            "a\u0085b",
            "a\u009fb",
            123,
            None,
            ["x"],
            {"n": "x"},
        ]
        for v in bad:
            await a.send({"type": "nickname", "nickname": v})
            self.assert_error_shape(await a.recv(), "bad_field")
        await a.send({"type": "nickname"})
        self.assert_error_shape(await a.recv(), "bad_field")
        # the nickname is unchanged and the connection alive
        await b_join_sees_nick(self, a, "Anon")

    # ---- join ----
    @peers(3)
    async def test_join_shapes(self, a, b, c):
        room = room_name("join ☕")
        await a.nickname("Ann")
        j = await a.join(room)
        self.assertEqual(
            j, dict({"type": "joined", "room": room, "id": a.id, "members": [], "count": 1},
                    **meta(a.id, for_host=True))
        )
        j = await b.join(room)
        self.assertEqual(
            j,
            {
                "type": "joined",
                "room": room,
                "id": b.id,
                "members": [member(a.id, "Ann")],
                "count": 2,
                **meta(a.id),
            },
        )
        self.assertEqual(
            await a.recv(),
            dict({"type": "welcome", "room": room, "id": b.id, "nickname": "Anon", "count": 2},
                 **meta(a.id)),
        )
        await c.nickname("Cy")
        j = await c.join("  " + room + "\u00a0 ")  # trimmed
        self.assertEqual(j["room"], room)
        self.assertEqual(j["id"], c.id)
        self.assertEqual(j["count"], 3)
        self.assertEqual(
            sorted(j["members"], key=lambda m: m["id"]),
            sorted([member(a.id, "Ann"), member(b.id)], key=lambda m: m["id"]),
        )
        for p in (a, b):
            self.assertEqual(
                await p.recv(),
                dict({"type": "welcome", "room": room, "id": c.id, "nickname": "Cy",
                      "count": 3}, **meta(a.id)),
            )
        for p in (a, b, c):
            await self.assert_nothing_more(p)

    @peers(1)
    async def test_room_name_lengths_and_bad_fields(self, a):
        ok64 = "ü" * 32 + "🚀" * 32
        self.assertEqual((await a.join(ok64))["room"], ok64)
        ok64b = "r" * 64
        self.assertEqual((await a.join(" " + ok64b + " "))["room"], ok64b)
        for bad in ("ü" * 65, "r" * 65, "🚀" * 65, "", "   ", "a\u0001b", "a\nb", "a\tb",
                    "a\u009bb", 7, None, {"room": "x"}):
            await a.send({"type": "join", "room": bad})
            self.assert_error_shape(await a.recv(), "bad_field")
        await a.send({"type": "join"})
        self.assert_error_shape(await a.recv(), "bad_field")
        # still in the last good room
        await a.send({"type": "leave"})
        self.assertEqual(await a.recv(), {"type": "left", "room": ok64b})

    @peers(3)
    async def test_joining_another_room_leaves_the_first(self, a, b, c):
        r1, r2 = room_name("one"), room_name("two")
        await self.join_all(r1, a, b)
        await c.join(r2)
        j = await a.join(r2)
        self.assertEqual(j["room"], r2)
        self.assertEqual(j["count"], 2)
        self.assertEqual(j["members"], [member(c.id)])
        self.assertEqual(
            await b.recv(),
            {"type": "bye", "room": r1, "id": a.id, "nickname": "Anon", "count": 1},
        )
        # a created r1: b, the one left, hosts it now
        self.assertEqual(await b.recv(), dict({"type": "room", "room": r1, "change": "host"},
                                              **meta(b.id, for_host=True)))
        self.assertEqual(
            await c.recv(),
            dict({"type": "welcome", "room": r2, "id": a.id, "nickname": "Anon", "count": 2},
                 **meta(c.id)),
        )
        # a got only `joined`: no `left`, no bye of its own
        await self.assert_nothing_more(a)
        # and is really out of r1: a chat there reaches b alone
        await b.chat("only me")
        msg = await b.expect("chat")
        self.assertEqual(msg["room"], r1)
        self.assertEqual(msg["from"], {"id": b.id, "nickname": "Anon"})
        await self.assert_nothing_more(a)
        await self.assert_nothing_more(c)

    @peers(3)
    async def test_rejoin_same_room_answers_joined_and_tells_no_one(self, a, b, lobby):
        room = room_name()
        await self.join_all(room, a, b)
        j = await a.join(room)
        self.assertEqual(
            j,
            {
                "type": "joined",
                "room": room,
                "id": a.id,
                "members": [member(b.id)],
                "count": 2,
                **meta(a.id, for_host=True),
            },
        )
        j = await a.join("  %s  " % room)
        self.assertEqual(j["count"], 2)
        await self.assert_nothing_more(b, wait=0.5)
        await self.assert_nothing_more(a)
        await self.assert_nothing_more(lobby)
        # chat seq unaffected: the room still works for both
        await a.chat("after rejoin")
        for p in (a, b):
            m = await p.expect("chat")
            self.assertEqual((m["text"], m["seq"]), ("after rejoin", 1))

    # ---- leave ----
    @peers(3)
    async def test_leave_and_not_in_room(self, a, b, c):
        room = room_name()
        await self.join_all(room, a, b, c)
        await b.nickname("Bea")
        await a.expect("renamed")
        await c.expect("renamed")
        await b.send({"type": "leave"})
        self.assertEqual(await b.recv(), {"type": "left", "room": room})
        for p in (a, c):
            self.assertEqual(
                await p.recv(),
                {"type": "bye", "room": room, "id": b.id, "nickname": "Bea", "count": 2},
            )
        await b.send({"type": "leave"})
        await b.expect_error("not_in_room")
        await self.assert_nothing_more(b)
        await self.assert_nothing_more(a)

    # ---- chat ----
    @peers(3)
    async def test_chat_shape_and_seq(self, a, b, lobby):
        room = room_name()
        await a.nickname("Al")
        await self.join_all(room, a, b)
        before = int(time.time() * 1000)
        await a.chat("hello ☀ there")
        # two connections are two threads: order them by waiting for the first echo
        first = {a: await a.recv()}
        await b.chat("hi Al")
        after = int(time.time() * 1000)
        for p in (a, b):
            m1 = first[p] if p in first else await p.recv()
            m2 = await p.recv()
            self.assertEqual(set(m1), {"type", "room", "from", "text", "seq", "ts"}, m1)
            self.assertEqual(m1["type"], "chat")
            self.assertEqual(m1["room"], room)
            self.assertEqual(m1["from"], {"id": a.id, "nickname": "Al"})
            self.assertEqual(m1["text"], "hello ☀ there")
            self.assertEqual(m1["seq"], 1)
            self.assertIs(type(m1["ts"]), int)
            # the clock of this machine: a sanity window, not a latency bar
            self.assertTrue(before - 60000 <= m1["ts"] <= after + 60000, m1)
            self.assertEqual(m2["from"], {"id": b.id, "nickname": "Anon"})
            self.assertEqual((m2["text"], m2["seq"]), ("hi Al", 2))
        await self.assert_nothing_more(lobby)
        # chat outside a room
        await lobby.chat("anyone?")
        await lobby.expect_error("not_in_room")

    @peers(2)
    async def test_chat_lengths_and_characters(self, a, b):
        room = room_name()
        await self.join_all(room, a, b)
        texts_ok = [
            "😀" * 2000,  # 2000 code points, 8000 bytes
            "x" * 2000,
            "line one\nline two\n\tindented\tcell",
            "crlf\r\nline",
            "  padded \n ",
        ]
        expect = texts_ok[:4] + ["padded"]
        seq = 0
        for t, want in zip(texts_ok, expect):
            await a.chat(t)
            seq += 1
            for p in (a, b):
                m = await p.expect("chat")
                self.assertEqual(m["text"], want)
                self.assertEqual(m["seq"], seq)
        for bad in ("😀" * 2001, "x" * 2001, "", "   ", "\n\t", "bell\u0007", "nul\u0000",
                    "esc\u001b[31m", "del\u007f", "c1\u0080", 5, None, ["x"]):
            await a.send({"type": "chat", "text": bad})
            self.assert_error_shape(await a.recv(), "bad_field")
        await a.send({"type": "chat"})
        self.assert_error_shape(await a.recv(), "bad_field")
        await self.assert_nothing_more(b)
        # seq did not move for refused messages
        await b.chat("next")
        self.assertEqual((await a.expect("chat"))["seq"], seq + 1)

    @peers(3)
    async def test_plain_text_in_room_is_chat_outside_no_reply(self, a, b, lobby):
        room = room_name()
        await self.join_all(room, a, b)
        await a.send("hello from the browser!")
        for p in (a, b):
            m = await p.expect("chat")
            self.assertEqual(m["text"], "hello from the browser!")
            self.assertEqual(m["from"], {"id": a.id, "nickname": "Anon"})
            self.assertEqual(m["seq"], 1)
            self.assertEqual(m["room"], room)
        # binary frames are decoded as UTF-8 too
        await b.send("bytes ✓".encode("utf-8"))
        await b.send(json.dumps({"type": "chat", "text": "json in binary"}).encode("utf-8"))
        for p in (a, b):
            m = await p.expect("chat")
            self.assertEqual((m["text"], m["seq"], m["from"]["id"]), ("bytes ✓", 2, b.id))
            m = await p.expect("chat")
            self.assertEqual((m["text"], m["seq"]), ("json in binary", 3))
        # outside a room: logged, no reply at all
        mark = self.server.mark()
        await lobby.send("plain words in the lobby")
        await self.assert_nothing_more(lobby)
        self.server.wait_log("plain words in the lobby", since=mark)
        await self.assert_nothing_more(a)

    # ---- signal ----
    @peers(4)
    async def test_signal_relay_within_room_only(self, a, b, c, lobby):
        r1, r2 = room_name(), room_name()
        await self.join_all(r1, a, b)
        await c.join(r2)
        data = {
            "sdp": "v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\ns=-\r\n",
            "kind": "offer",
            "nested": {"list": [1, -2, 3.5, True, False, None, "ünï 😀 \"q\" \\ /"],
                       "deep": {"a": {"b": {"c": []}}}, "empty": {}},
            "big": 9007199254740993,
            "名前": "値",
        }
        await a.send({"type": "signal", "to": b.id, "data": data})
        m = await b.recv()
        self.assertEqual(m, {"type": "signal", "from": a.id, "data": data})
        self.assertEqual(set(m), {"type", "from", "data"})
        self.assertIs(type(m["from"]), int)
        await self.assert_nothing_more(a)  # the sender gets nothing
        # other JSON values are relayed untouched as well
        for d in ("just a string", 42, None, [1, "two", {"three": 3}], True, 0.25):
            await b.send({"type": "signal", "to": a.id, "data": d})
            self.assertEqual(await a.recv(), {"type": "signal", "from": b.id, "data": d})
        # across rooms, to nobody, to a lobby session: no_such_peer
        for to in (c.id, NOBODY - 1, lobby.id):
            await a.send({"type": "signal", "to": to, "data": {"x": 1}})
            await a.expect_error("no_such_peer")
        # from outside any room
        await lobby.send({"type": "signal", "to": a.id, "data": {"x": 1}})
        await lobby.expect_error("no_such_peer")
        # none of that reached anyone
        for p in (a, b, c):
            await self.assert_nothing_more(p)

    def test_signal_bigger_than_max_message_bytes_closes_1009(self):
        async def go():
            a, b = await open_peers(self.server, 2)
            try:
                room = room_name()
                await self.join_all(room, a, b)
                huge = {"type": "signal", "to": b.id, "data": {"sdp": "x" * 70000}}
                await a.send(huge)
                with self.assertRaises(websockets.ConnectionClosed) as cm:
                    for _ in range(100):
                        await a.recv(skip=())
                code = a.ws.close_code
                # b sees a leave, gets no signal
                bye = await b.recv()
                return code, bye, cm.exception
            finally:
                await close_all([a, b])

        code, bye, _ = run_async(go())
        self.assertEqual(code, 1009)
        self.assertEqual(bye["type"], "bye", bye)
        self.assertEqual(bye["count"], 1)

    # ---- list ----
    @peers(1)
    async def test_list_reply_shape(self, a):
        await a.send({"type": "list"})
        m = await a.recv(skip=())
        self.assertEqual(set(m), {"type", "rooms"})
        self.assertEqual(m["type"], "rooms")
        self.assertIsInstance(m["rooms"], list)
        for r in m["rooms"]:
            self.assertEqual(set(r), {"name", "count", "capacity", "locked", "protected"}, r)
            self.assertIsInstance(r["name"], str)
            self.assertIs(type(r["count"]), int)

    # ---- error codes ----
    @peers(1)
    async def test_bad_json_and_unknown_type(self, a):
        for text in ('{"type":', "{not json}", '{"type":"chat","text":"x"', "[1, 2",
                     '{"type":"nickname","nickname":"a","nickname":"b"}'):
            await a.send(text)
            self.assert_error_shape(await a.recv(), "bad_json")
        # valid JSON that is not an object: the spec names no code, either fits
        for text in ('["chat"]', "[]"):
            await a.send(text)
            m = await a.recv()
            self.assertIn(m.get("code"), ("bad_json", "unknown_type"), m)
            self.assert_error_shape(m, m["code"])
        for obj in ({"type": "dance"}, {"no": "type"}, {"type": 5}, {"type": None},
                    {"type": ["join"]}, {}, {"type": "JOIN", "room": "x"}):
            await a.send(obj)
            self.assert_error_shape(await a.recv(), "unknown_type")
        # errors never close the connection
        self.assertEqual(await a.nickname("fine"), {"type": "nickname", "nickname": "fine"})

    def test_room_full_at_ninth_member(self):
        room = room_name("full")

        async def go():
            ps = await open_peers(self.server, MAX_MEMBERS + 1)
            try:
                members, ninth = ps[:MAX_MEMBERS], ps[MAX_MEMBERS]
                joined = await self.join_all(room, *members)
                self.assertEqual([j["count"] for j in joined], list(range(1, MAX_MEMBERS + 1)))
                await ninth.send({"type": "join", "room": room})
                await ninth.expect_error("room_full")
                for p in members:
                    await self.assert_nothing_more(p, wait=0.05)
                # still alive, not in the room
                await ninth.send({"type": "leave"})
                await ninth.expect_error("not_in_room")
                # refused while in another room: it stays where it was
                side = room_name("side")
                await ninth.join(side)
                await ninth.send({"type": "join", "room": room})
                await ninth.expect_error("room_full")
                await ninth.send({"type": "leave"})
                self.assertEqual(await ninth.recv(), {"type": "left", "room": side})
                for p in members:
                    await self.assert_nothing_more(p, wait=0.05)
                # a place frees up: the ninth gets in
                await members[0].send({"type": "leave"})
                await members[0].expect("left")
                for p in members[1:]:
                    await p.expect("bye")
                j = await ninth.join(room)
                self.assertEqual(j["count"], MAX_MEMBERS)
                self.assertEqual(len(j["members"]), MAX_MEMBERS - 1)
            finally:
                await close_all(ps)

        run_async(go(), timeout=TIMEOUT * 6)

    # ---- disconnect ----
    @peers(4)
    async def test_disconnect_sends_bye_with_count(self, a, b, c, d):
        room = room_name()
        await self.join_all(room, a, b, c, d)
        await d.nickname("Dee")
        for p in (a, b, c):
            await p.expect("renamed")
        await d.close()  # a close frame: the session ends at once
        for p in (a, b, c):
            self.assertEqual(
                await p.recv(),
                {"type": "bye", "room": room, "id": d.id, "nickname": "Dee", "count": 3},
            )
        # TCP gone without a closing handshake: the seat is kept for resume_window_s (1 s
        # here), so no bye within half of it, then the bye when the window has passed
        c.abort()
        early = await asyncio.gather(*(p.quiet(RESUME_WINDOW_S / 2) for p in (a, b)))
        self.assertEqual(early, [[], []], "bye (or anything) before the resume window ended")
        for p in (a, b):
            self.assertEqual(
                await p.recv(timeout=RESUME_WINDOW_S + TIMEOUT),
                {"type": "bye", "room": room, "id": c.id, "nickname": "Anon", "count": 2},
            )
        await self.assert_nothing_more(a)
        await self.assert_nothing_more(b)


async def b_join_sees_nick(test, a, nick):
    """A fresh room: a joins, the joined reply carries a's id (alive) and a's nickname is checked
    through the welcome seen by a second session."""
    room = room_name()
    await a.join(room)
    b = await Peer.open(test.server)
    try:
        j = await b.join(room)
        test.assertEqual(j["members"], [member(a.id, nick)])
    finally:
        await b.close()


class RoomListTest(RoomTestCase):
    """Room lists with a server of its own per test, so lists can be compared exactly."""

    def setUp(self):
        self.server = Server({"rate_limit_per_sec": 0}, name="rooms-list").start()

    def tearDown(self):
        self.server.stop()

    def api_rooms(self):
        body = get_json(self.server.port, "/api/rooms")
        self.assertEqual(set(body), {"rooms"}, body)
        return body["rooms"]

    def test_lobby_gets_room_updates_members_do_not(self):
        async def go():
            lobby, a, b = await open_peers(self.server, 3)
            try:
                self.assertEqual(lobby.hello["rooms"], [])
                await a.join("Alpha")
                m = await wait_for_rooms(lobby, [listed_room("Alpha", 1)])
                self.assertEqual(set(m), {"type", "rooms"})
                await b.join("Alpha")
                await a.expect("welcome")
                await wait_for_rooms(lobby, [listed_room("Alpha", 2)])
                await b.join("Beta")
                await a.expect("bye")
                await wait_for_rooms(lobby, [listed_room("Alpha", 1),
                                             listed_room("Beta", 1)])
                await a.send({"type": "leave"})
                await a.expect("left")
                await wait_for_rooms(lobby, [listed_room("Beta", 1)])
                # a is in the lobby now and gets pushes too
                await wait_for_rooms(a, [listed_room("Beta", 1)])
                # a rename changes no count
                await b.nickname("Bob")
                await b.close()
                await wait_for_rooms(lobby, [])
                await wait_for_rooms(a, [])
                # nothing more (updates are at most 200 ms late: wait longer than that)
                self.assertEqual(await lobby.quiet(0.5), [])
            finally:
                await close_all([lobby, a, b])

        run_async(go())

    def test_members_get_no_room_list_pushes(self):
        async def go():
            a, b, c = await open_peers(self.server, 3)
            try:
                await self.join_all("Stay", a, b)
                # changes to the list while a and b sit in a room
                await c.join("Other")
                await c.join("Third")
                await c.send({"type": "leave"})
                await c.expect("left")
                await c.join("Stay")
                for p in (a, b):
                    await p.expect("welcome", skip=())
                # more than the 200 ms an update may be late; skip nothing
                self.assertEqual(await a.quiet(0.6), [])
                self.assertEqual(await b.quiet(0.1), [])
                self.assertEqual(await a.sync(skip=()), [])
                self.assertEqual(await b.sync(skip=()), [])
            finally:
                await close_all([a, b, c])

        run_async(go())

    def test_hello_api_and_list_agree(self):
        async def go():
            ps = await open_peers(self.server, 4)
            try:
                a, b, c, d = ps
                self.assertEqual(self.api_rooms(), [])
                await self.join_all("Kitchen 🍳", a, b)
                await c.join("garden")
                want = [listed_room("Kitchen 🍳", 2), listed_room("garden", 1)]
                self.assertEqual(sorted_rooms(self.api_rooms()), sorted_rooms(want))
                e = await Peer.open(self.server)
                try:
                    self.assertEqual(sorted_rooms(e.hello["rooms"]), sorted_rooms(want))
                    for r in e.hello["rooms"]:
                        self.assertEqual(set(r), {"name", "count", "capacity", "locked",
                                                  "protected"})
                    await e.send({"type": "list"})
                    m = await wait_for_rooms(e, want)
                    self.assertEqual(set(m), {"type", "rooms"})
                finally:
                    await e.close()
                # the list of a member equals the API's too
                await a.send({"type": "list"})
                m = await a.recv(skip=())
                self.assertEqual(m["type"], "rooms")
                self.assertEqual(sorted_rooms(m["rooms"]), sorted_rooms(want))
                status, hdrs, _ = http_request(self.server.port, "/api/rooms")
                self.assertEqual(status, 200)
                self.assertTrue(hdrs.get("content-type", "").startswith("application/json"), hdrs)
                await close_all(ps)
                deadline = time.monotonic() + TIMEOUT
                while self.api_rooms() != [] and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                self.assertEqual(self.api_rooms(), [])
            finally:
                await close_all(ps)

        run_async(go())


class RateLimitTest(RoomTestCase):
    def test_rate_limited(self):
        with Server({"rate_limit_per_sec": 1, "rate_limit_burst": 3}, name="rooms-rate") as srv:

            async def go():
                a = await Peer.open(srv)
                try:
                    n = 10
                    await asyncio.gather(*(a.send({"type": "list"}) for _ in range(n)))
                    replies = [await a.recv(skip=()) for _ in range(n)]
                    kinds = [r["type"] if r["type"] != "error" else r["code"] for r in replies]
                    # the burst passes
                    self.assertEqual(kinds[:3], ["rooms"] * 3, kinds)
                    limited = [r for r in replies if r["type"] == "error"]
                    self.assertTrue(limited, kinds)
                    for r in limited:
                        self.assert_error_shape(r, "rate_limited")
                    self.assertTrue(set(kinds) <= {"rooms", "rate_limited"}, kinds)
                    # errors never close the connection; at 1/s a token is back after 1.5 s
                    await asyncio.sleep(1.5)
                    self.assertEqual(await a.nickname("ok"), {"type": "nickname", "nickname": "ok"})
                    m, _, _ = metrics(srv.port)
                    self.assertGreaterEqual(m.get('huddle_errors_total{code="rate_limited"}', 0),
                                            len(limited))
                finally:
                    await a.close()

            run_async(go())


class MaxRoomsTest(RoomTestCase):
    def test_max_rooms(self):
        with Server({"max_rooms": 2}, name="rooms-max") as srv:

            async def go():
                a, b, c = await open_peers(srv, 3)
                try:
                    await a.join("one")
                    await b.join("two")
                    await c.send({"type": "join", "room": "three"})
                    err = await c.recv()
                    self.assert_error_shape(err, "room_full")
                    # existing rooms can still be joined
                    j = await c.join("one")
                    self.assertEqual(j["count"], 2)
                    await a.expect("welcome")
                    self.assertEqual(sorted_rooms(get_json(srv.port, "/api/rooms")["rooms"]),
                                     [listed_room("one", 2), listed_room("two", 1)])
                    # a room is gone with its last member, and a new one fits again
                    await b.send({"type": "leave"})
                    await b.expect("left")
                    j = await c.join("three")
                    self.assertEqual(j["count"], 1)
                    await a.expect("bye")
                finally:
                    await close_all([a, b, c])

            run_async(go())


class FullServerTest(unittest.TestCase):
    def test_third_websocket_gets_503_http_still_served(self):
        with Server({"max_connections": 2, "num_threads": 8}, name="rooms-full") as srv:

            async def go():
                a, b = await open_peers(srv, 2)
                try:
                    status, head = upgrade_status(srv.port)
                    self.assertEqual(status, 503, head)
                    self.assertNotIn("sec-websocket-accept", head.lower())
                    with self.assertRaises(Exception):
                        extra = await Peer.open(srv)
                        await extra.close()
                    st, _, body = http_request(srv.port, "/")
                    self.assertEqual(st, 200)
                    self.assertIn(b"<", body)
                    st, _, body = http_request(srv.port, "/healthz")
                    self.assertEqual(st, 200)
                    m, _, _ = metrics(srv.port)
                    self.assertGreaterEqual(m["huddle_websocket_refused_total"], 2)
                    self.assertEqual(m["huddle_websocket_sessions"], 2)
                    # the sessions in place work normally
                    await a.join("r")
                    await b.join("r")
                    await a.expect("welcome")
                    # a place frees up: a new WebSocket is accepted again (the server notices
                    # the close a moment later: retry, bounded)
                    await b.close()
                    deadline = time.monotonic() + TIMEOUT
                    c = None
                    for _ in range(200):
                        try:
                            c = await Peer.open(srv)
                            break
                        except Exception:
                            if time.monotonic() > deadline:
                                raise
                            await asyncio.sleep(0.05)
                    self.assertIsNotNone(c)
                    await c.close()
                finally:
                    await close_all([a, b])

            run_async(go())


if __name__ == "__main__":
    unittest.main()
