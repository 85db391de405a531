# SPDX-License-Identifier: MIT
"""Member state, reactions and resuming a session (docs/protocol.md: the `state`, `react` and
`resume` rows, "Resuming", close code 4000): state goes to the other members of the room only and
into a newcomer's joined.members; reactions go to the whole room, are checked and rate-limited; a
dropped connection keeps its seat for resume_window_s and a new connection takes it over with the
token (same id, nickname and room, a new token, no bye or welcome for the others), while a close
frame, an expired window, a used or unknown token, or resume after other messages do not."""

import asyncio
import json
import os
import ssl
import subprocess
import tempfile
import unittest
import uuid

import websockets

import test_rooms
from harness import REPO, TIMEOUT, Server, free_port, run_async
from rawws import OP_CLOSE, RawWS
from roomutil import Peer, close_all, member, meta, open_peers, room_name

TOKEN_RE = r"\A[0-9a-fA-F]{32}\Z"
# waits for something that must NOT happen: bounded, and far below the windows used here
QUIET_S = 0.5


async def resume(server, token):
    """A new connection whose first message is resume with token: (peer, first reply)."""
    p = await Peer.open(server)
    try:
        await p.send({"type": "resume", "token": token})
        return p, await p.recv()
    except BaseException:
        await p.close()
        raise


async def close_code(peer, timeout=None):
    """Waits (bounded) until the server closed peer's connection; returns its close code."""
    await asyncio.wait_for(peer.ws.wait_closed(), TIMEOUT if timeout is None else timeout)
    return peer.ws.close_code


async def p_nickname(p):
    await p.expect("nickname")


async def p_not_in_room(p):
    await p.expect_error("not_in_room")


class SessionTestCase(test_rooms.RoomTestCase):
    def assert_resumed(self, msg, peer_id, nickname, room, old_token):
        self.assertEqual(msg.get("type"), "resumed", msg)
        self.assertEqual(set(msg), {"type", "id", "nickname", "room", "token"}, msg)
        self.assertIs(type(msg["id"]), int, msg)
        self.assertEqual((msg["id"], msg["nickname"], msg["room"]), (peer_id, nickname, room))
        self.assertIsInstance(msg["token"], str, msg)
        self.assertRegex(msg["token"], TOKEN_RE)
        self.assertNotEqual(msg["token"], old_token, "resumed kept the old token")

    async def assert_fresh(self, p):
        """p (whose resume was refused) goes on as the fresh session of its hello."""
        self.assertEqual(await p.nickname("fresh"), {"type": "nickname", "nickname": "fresh"})
        room = room_name("fresh")
        j = await p.join(room)
        self.assertEqual(j, dict({"type": "joined", "room": room, "id": p.id, "members": [],
                                  "count": 1}, **meta(p.id, for_host=True)))

    async def assert_new_host(self, p, room):
        """p, the one left after the room's creator, is told it hosts the room now."""
        self.assertEqual(await p.recv(timeout=TIMEOUT),
                         dict({"type": "room", "room": room, "change": "host"}, **meta(p.id, for_host=True)))


class StateReactTest(SessionTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server({"rate_limit_per_sec": 0}, name="session-state").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    # ---- state ----
    @test_rooms.peers(5)
    async def test_state_relayed_to_the_other_members_only(self, a, b, other, lobby, newcomer):
        room = room_name("state")
        await self.join_all(room, a, b)
        await other.join(room_name("elsewhere"))
        await a.nickname("Ann")
        await b.expect("renamed")
        await a.send({"type": "state", "mic": False, "cam": True, "hand": True})
        m = await b.recv()
        self.assertEqual(
            m, {"type": "state", "id": a.id, "mic": False, "cam": True, "hand": True})
        self.assertIs(type(m["id"]), int)
        # the sender gets nothing, nor does a member of another room or a lobby session
        for p in (a, b, other, lobby):
            await self.assert_nothing_more(p)
        # the last state is what a newcomer sees; b never sent one: the default
        await a.send({"type": "state", "mic": True, "cam": False, "hand": False})
        self.assertEqual(
            await b.recv(),
            {"type": "state", "id": a.id, "mic": True, "cam": False, "hand": False})
        j = await newcomer.join(room)
        self.assertEqual(j["count"], 3)
        self.assertEqual(
            j["members"],
            [member(a.id, "Ann", {"mic": True, "cam": False, "hand": False}), member(b.id)],
        )
        for p in (a, b):
            await p.expect("welcome")
        # the newcomer's state reaches both earlier members
        await newcomer.send({"type": "state", "mic": False, "cam": False, "hand": True})
        for p in (a, b):
            self.assertEqual(
                await p.recv(),
                {"type": "state", "id": newcomer.id, "mic": False, "cam": False, "hand": True})
        for p in (a, b, newcomer, other, lobby):
            await self.assert_nothing_more(p)

    @test_rooms.peers(3)
    async def test_state_outside_a_room_and_bad_fields(self, a, b, lobby):
        await lobby.send({"type": "state", "mic": False, "cam": False, "hand": False})
        await lobby.expect_error("not_in_room")
        room = room_name("state-bad")
        await self.join_all(room, a, b)
        good = {"mic": False, "cam": False, "hand": True}
        bad = []
        for key in good:
            missing = dict(good)
            del missing[key]
            bad.append(missing)
            for v in (0, 1, "true", "false", None, [], {}):
                bad.append(dict(good, **{key: v}))
        for fields in bad:
            await a.send(dict({"type": "state"}, **fields))
            self.assert_error_shape(await a.recv(), "bad_field")
        await self.assert_nothing_more(b)
        # nothing of that changed a's state: a newcomer sees the default
        c = await Peer.open(self.server)
        try:
            j = await c.join(room)
            self.assertEqual(j["members"], [member(a.id), member(b.id)])
        finally:
            await c.close()

    # ---- react ----
    @test_rooms.peers(4)
    async def test_react_to_every_member_including_the_sender(self, a, b, other, lobby):
        room = room_name("react")
        await self.join_all(room, a, b)
        await other.join(room_name("elsewhere"))
        # one emoji: 1..8 code points (flags, ZWJ sequences, keycaps, variation selectors)
        emojis = ["👍", "❤️", "🇫🇷", "👨‍👩‍👧‍👦", "😀" * 8]
        for e in emojis:  # five: the reaction burst, no more
            await a.send({"type": "react", "emoji": e})
            for p in (a, b):
                self.assertEqual(await p.recv(), {"type": "react", "id": a.id, "emoji": e})
        await b.send({"type": "react", "emoji": "1️⃣"})
        for p in (a, b):
            self.assertEqual(await p.recv(), {"type": "react", "id": b.id, "emoji": "1️⃣"})
        for p in (a, b, other, lobby):
            await self.assert_nothing_more(p)
        await lobby.send({"type": "react", "emoji": "👍"})
        await lobby.expect_error("not_in_room")

    @test_rooms.peers(2)
    async def test_react_bad_emoji(self, a, b):
        room = room_name("react-bad")
        await self.join_all(room, a, b)
        bad = ["a", "", "😀" * 9, "👍 ", " 👍", "👍 👍", "👍\u00a0", "A👍", "👍\n", "\u0007",
               "x", 5, None, ["👍"], {"e": "👍"}]
        for e in bad:
            await a.send({"type": "react", "emoji": e})
            self.assert_error_shape(await a.recv(), "bad_field")
        await a.send({"type": "react"})
        self.assert_error_shape(await a.recv(), "bad_field")
        await self.assert_nothing_more(b)
        # refused reactions used none of the burst: five still go through
        for k in range(5):
            await a.send({"type": "react", "emoji": "🎉"})
            for p in (a, b):
                self.assertEqual(await p.recv(), {"type": "react", "id": a.id, "emoji": "🎉"})

    @test_rooms.peers(2)
    async def test_sixth_quick_reaction_rate_limited(self, a, b):
        room = room_name("react-rate")
        await self.join_all(room, a, b)
        # six at once: the bucket holds five and refills one per 0.6 s
        await asyncio.gather(*(a.send({"type": "react", "emoji": "🔥"}) for _ in range(6)))
        mine = [await a.recv() for _ in range(6)]
        want = {"type": "react", "id": a.id, "emoji": "🔥"}
        self.assertEqual(mine[:5], [want] * 5, mine)
        self.assert_error_shape(mine[5], "rate_limited")
        self.assertEqual([await b.recv() for _ in range(5)], [want] * 5)
        await self.assert_nothing_more(b)
        await self.assert_nothing_more(a)
        # the session's other messages are not limited by it
        await a.chat("still chatting")
        for p in (a, b):
            self.assertEqual((await p.expect("chat"))["text"], "still chatting")


class ResumeTest(SessionTestCase):
    """Resuming on a server with the default window (30 s): every resume here is well within
    it."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"rate_limit_per_sec": 0}, name="session-resume").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_resume_after_a_drop_takes_the_seat_back(self):
        async def go():
            a, b = await open_peers(self.server, 2, ["Ann", "Bob"])
            a2 = stale = None
            try:
                room = room_name("resume")
                await self.join_all(room, a, b)
                token = a.hello["token"]
                a.abort()  # TCP gone without a close frame
                self.assertEqual(await b.quiet(QUIET_S), [], "b heard of the drop")
                # a chat while a is away is not kept for it
                await b.chat("while you were away")
                self.assertEqual((await b.expect("chat"))["seq"], 1)
                a2, r = await resume(self.server, token)
                self.assert_resumed(r, a.id, "Ann", room, token)
                self.assertEqual(
                    await a2.recv(),
                    dict({"type": "joined", "room": room, "id": a.id,
                          "members": [member(b.id, "Bob")], "count": 2},
                         **meta(a.id, for_host=True)),
                )
                self.assertEqual(await a2.sync(), [], "something replayed or extra")
                # b saw no bye and no welcome
                await self.assert_nothing_more(b)
                # the room works both ways with a's old id
                await b.chat("welcome back")
                for p in (a2, b):
                    m = await p.expect("chat")
                    self.assertEqual((m["text"], m["seq"], m["from"]),
                                     ("welcome back", 2, {"id": b.id, "nickname": "Bob"}))
                await a2.chat("thanks")
                for p in (a2, b):
                    m = await p.expect("chat")
                    self.assertEqual((m["from"], m["seq"]), ({"id": a.id, "nickname": "Ann"}, 3))
                await b.send({"type": "signal", "to": a.id, "data": "ping"})
                self.assertEqual(await a2.recv(),
                                 {"type": "signal", "from": b.id, "data": "ping"})
                # the old token is used up: refused, and that connection is a fresh session
                stale, r = await resume(self.server, token)
                self.assert_error_shape(r, "bad_token")
                await self.assert_fresh(stale)
                # the refused attempt took nothing from a2
                await self.assert_nothing_more(a2)
                await self.assert_nothing_more(b)
                # the session a2's hello announced was dropped when a2 resumed: its token is dead
                gone, r = await resume(self.server, a2.hello["token"])
                self.assert_error_shape(r, "bad_token")
                await gone.close()
                await self.assert_nothing_more(a2)
            finally:
                await close_all([p for p in (a, b, a2, stale) if p])

        run_async(go())

    def test_new_token_resumes_again(self):
        async def go():
            a, b = await open_peers(self.server, 2)
            ps = [a, b]
            try:
                room = room_name("again")
                await self.join_all(room, a, b)
                token = a.hello["token"]
                for _ in range(3):
                    ps[0].abort()
                    p, r = await resume(self.server, token)
                    ps[0] = p
                    self.assert_resumed(r, a.id, "Anon", room, token)
                    await p.expect("joined")
                    token = r["token"]
                await self.assert_nothing_more(b)
                await b.chat("three drops later")
                self.assertEqual((await ps[0].expect("chat"))["text"], "three drops later")
            finally:
                await close_all(ps)

        run_async(go())

    def test_resume_in_the_lobby(self):
        async def go():
            a = await Peer.open(self.server)
            a2 = None
            try:
                await a.nickname("Lou")
                a.abort()
                a2, r = await resume(self.server, a.hello["token"])
                self.assert_resumed(r, a.id, "Lou", None, a.hello["token"])
                # no room: no joined
                self.assertEqual(await a2.sync(), [])
                j = await a2.join(room_name("later"))
                self.assertEqual((j["id"], j["members"]), (a.id, []))
            finally:
                await close_all([p for p in (a, a2) if p])

        run_async(go())

    def test_second_resume_on_a_connection_is_refused_even_after_a_silent_session(self):
        """A session that never sent anything before it dropped, once resumed, is no fresh
        connection: a second resume on that connection is `resume` after another message."""

        async def go():
            quiet, b, c = await open_peers(self.server, 3)
            ps = [quiet, b, c]
            try:
                room = room_name("twice")
                await self.join_all(room, b, c)
                quiet.abort()  # it never sent a message
                c.abort()
                self.assertEqual(await b.quiet(QUIET_S), [])
                p, r = await resume(self.server, quiet.hello["token"])
                ps.append(p)
                self.assert_resumed(r, quiet.id, "Anon", None, quiet.hello["token"])
                await p.send({"type": "resume", "token": c.hello["token"]})
                await p.expect_error("bad_token")
                # c's seat was not taken: b heard nothing and c's own resume works
                await self.assert_nothing_more(b)
                c2, r = await resume(self.server, c.hello["token"])
                ps.append(c2)
                self.assert_resumed(r, c.id, "Anon", room, c.hello["token"])
                # and p is still the resumed session in the lobby
                self.assertEqual((await p.nickname("still me"))["nickname"], "still me")
                j = await p.join(room)
                self.assertEqual((j["id"], j["count"]), (quiet.id, 3))
            finally:
                await close_all(ps)

        run_async(go())

    def test_seat_kept_counts_and_gets_nothing(self):
        async def go():
            a, b = await open_peers(self.server, 2, ["Ann", "Bob"])
            c = a2 = None
            try:
                room = room_name("kept")
                await self.join_all(room, a, b)
                await a.send({"type": "state", "mic": False, "cam": True, "hand": False})
                await b.expect("state")
                a.abort()
                self.assertEqual(await b.quiet(QUIET_S), [])
                # still a member while away: counted, listed with its last state
                c = await Peer.open(self.server)
                j = await c.join(room)
                self.assertEqual(j["count"], 3)
                self.assertEqual(j["members"], [
                    member(a.id, "Ann", {"mic": False, "cam": True, "hand": False}),
                    member(b.id, "Bob")])
                await b.expect("welcome")
                # chat and signals to it go nowhere, without an error to the sender
                await c.send({"type": "signal", "to": a.id, "data": "lost"})
                await c.chat("lost too")
                self.assertEqual((await c.expect("chat"))["text"], "lost too")
                self.assertEqual((await b.expect("chat"))["text"], "lost too")
                self.assertEqual(await c.sync(), [])
                a2, r = await resume(self.server, a.hello["token"])
                self.assert_resumed(r, a.id, "Ann", room, a.hello["token"])
                j = await a2.recv()
                self.assertEqual(j["type"], "joined", j)
                self.assertEqual(j["members"], [member(b.id, "Bob"), member(c.id)])
                self.assertEqual(await a2.sync(), [], "messages replayed after resuming")
                await self.assert_nothing_more(b)
                await self.assert_nothing_more(c)
                # its state is what it was
                d = await Peer.open(self.server)
                try:
                    j = await d.join(room)
                    self.assertEqual(j["members"][0],
                                     member(a.id, "Ann", {"mic": False, "cam": True,
                                                          "hand": False}))
                finally:
                    await d.close()
            finally:
                await close_all([p for p in (a, b, c, a2) if p])

        run_async(go())

    def test_unknown_or_foreign_token(self):
        async def go():
            with Server(name="session-foreign") as other:
                o = await Peer.open(other)
                try:
                    foreign = o.hello["token"]
                    o.abort()  # its seat is kept there, not here
                    for t in (foreign, uuid.uuid4().hex, "0" * 32, foreign[:-1], "not a token",
                              "f" * 33):
                        p, r = await resume(self.server, t)
                        try:
                            self.assert_error_shape(r, "bad_token")
                            await self.assert_fresh(p)
                        finally:
                            await p.close()
                finally:
                    await o.close()
            return True

        self.assertTrue(run_async(go()))

    def test_resume_not_as_the_first_message(self):
        async def go():
            a, b = await open_peers(self.server, 2)
            ps = [a, b]
            try:
                room = room_name("late")
                await self.join_all(room, a, b)
                token = a.hello["token"]
                a.abort()
                firsts = [({"type": "nickname", "nickname": "x"}, p_nickname),
                          ({"type": "chat", "text": "x"}, p_not_in_room), ("plain words", None)]
                for first, answer in firsts:
                    p = await Peer.open(self.server)
                    ps.append(p)
                    await p.send(first)
                    if answer:
                        await answer(p)
                    await p.send({"type": "resume", "token": token})
                    await p.expect_error("bad_token")
                    self.assertEqual(await p.sync(), [])
                await self.assert_nothing_more(b)
                # those attempts did not use the token up
                p, r = await resume(self.server, token)
                ps.append(p)
                self.assert_resumed(r, a.id, "Anon", room, token)
                await p.expect("joined")
                # and resume is not allowed a second time on that connection either
                await p.send({"type": "resume", "token": r["token"]})
                await p.expect_error("bad_token")
                await self.assert_nothing_more(b)
            finally:
                await close_all(ps)

        run_async(go())

    def test_resume_while_the_first_connection_is_open_closes_it_4000(self):
        async def go():
            a, b = await open_peers(self.server, 2, ["Ann", "Bob"])
            a2 = None
            try:
                room = room_name("evict")
                await self.join_all(room, a, b)
                a2, r = await resume(self.server, a.hello["token"])
                self.assert_resumed(r, a.id, "Ann", room, a.hello["token"])
                self.assertEqual((await a2.recv())["type"], "joined")
                self.assertEqual(await close_code(a), 4000)
                await self.assert_nothing_more(b)
                await self.assert_nothing_more(a2)
                await b.chat("who is there?")
                for p in (a2, b):
                    self.assertEqual((await p.expect("chat"))["text"], "who is there?")
                await a2.chat("me, on the new connection")
                for p in (a2, b):
                    m = await p.expect("chat")
                    self.assertEqual(m["from"], {"id": a.id, "nickname": "Ann"})
                # the evicted connection's end is no goodbye: the session lives on
                await self.assert_nothing_more(b)
            finally:
                await close_all([p for p in (a, b, a2) if p])

        run_async(go())

    def test_close_frame_ends_the_session_at_once(self):
        async def go():
            a, b = await open_peers(self.server, 2, ["Ann", "Bob"])
            a2 = None
            try:
                room = room_name("closed")
                await self.join_all(room, a, b)
                await a.close()  # close 1000: a goodbye, not a drop
                # at once: well before the 30 s window
                self.assertEqual(
                    await b.recv(timeout=TIMEOUT),
                    {"type": "bye", "room": room, "id": a.id, "nickname": "Ann", "count": 1},
                )
                await self.assert_new_host(b, room)
                a2, r = await resume(self.server, a.hello["token"])
                self.assert_error_shape(r, "bad_token")
                await self.assert_nothing_more(b)
            finally:
                await close_all([p for p in (a, b, a2) if p])

        run_async(go())

    def test_leave_is_at_once_and_a_drop_after_it_keeps_the_lobby_session(self):
        async def go():
            a, b = await open_peers(self.server, 2)
            a2 = None
            try:
                room = room_name("leave")
                await self.join_all(room, a, b)
                await a.send({"type": "leave"})
                await a.expect("left")
                self.assertEqual((await b.expect("bye"))["id"], a.id)
                await self.assert_new_host(b, room)
                a.abort()
                a2, r = await resume(self.server, a.hello["token"])
                self.assert_resumed(r, a.id, "Anon", None, a.hello["token"])
                self.assertEqual(await a2.sync(), [])
                await self.assert_nothing_more(b)
            finally:
                await close_all([p for p in (a, b, a2) if p])

        run_async(go())


class ResumeWindowTest(SessionTestCase):
    """Servers of their own with a short window (1 s) and with resuming off (0)."""

    def test_expired_window_bye_then_bad_token(self):
        with Server({"resume_window_s": 1}, name="session-window-1") as srv:

            async def go():
                a, b = await open_peers(srv, 2, ["Ann", "Bob"])
                a2 = None
                try:
                    room = room_name("expire")
                    await self.join_all(room, a, b)
                    a.abort()
                    self.assertEqual(await b.quiet(QUIET_S), [], "bye before the window ended")
                    self.assertEqual(
                        await b.recv(timeout=1 + TIMEOUT),
                        {"type": "bye", "room": room, "id": a.id, "nickname": "Ann",
                         "count": 1},
                    )
                    await self.assert_new_host(b, room)
                    a2, r = await resume(srv, a.hello["token"])
                    self.assert_error_shape(r, "bad_token")
                    await self.assert_fresh(a2)
                    await self.assert_nothing_more(b)
                finally:
                    await close_all([p for p in (a, b, a2) if p])

            run_async(go())

    def test_missed_pongs_keep_the_seat(self):
        """A client that stops answering pings (its network, not the person) is closed with 1001
        after three silent intervals (ping_interval = 1 here) but keeps its seat."""
        with Server({"ping_interval": 1}, name="session-pongs") as srv:

            async def go():
                b = await Peer.open(srv)  # websockets answers the pings by itself
                loop = asyncio.get_running_loop()
                silent = RawWS(srv.port, timeout=TIMEOUT)
                a2 = None
                try:
                    hello = silent.recv_json(skip=())
                    room = room_name("pongs")
                    await b.join(room)
                    silent.send_json({"type": "join", "room": room})
                    self.assertEqual((await b.expect("welcome"))["id"], hello["id"])
                    # never answer a ping: the server gives up with 1001
                    close = await loop.run_in_executor(
                        None, lambda: silent.recv_until(OP_CLOSE, timeout=TIMEOUT))
                    self.assertEqual(close.close_code()[0], 1001)
                    silent.close()
                    self.assertEqual(await b.quiet(QUIET_S), [], "b heard of the drop")
                    a2, r = await resume(srv, hello["token"])
                    self.assert_resumed(r, hello["id"], "Anon", room, hello["token"])
                    self.assertEqual((await a2.recv())["type"], "joined")
                    await self.assert_nothing_more(b)
                finally:
                    silent.close()
                    await close_all([p for p in (b, a2) if p])

            run_async(go())

    def test_window_0_drop_is_bye_at_once(self):
        with Server({"resume_window_s": 0}, name="session-window-0") as srv:

            async def go():
                a, b = await open_peers(srv, 2, ["Ann", "Bob"])
                a2 = None
                try:
                    room = room_name("nowindow")
                    await self.join_all(room, a, b)
                    a.abort()
                    self.assertEqual(
                        await b.recv(timeout=TIMEOUT),
                        {"type": "bye", "room": room, "id": a.id, "nickname": "Ann",
                         "count": 1},
                    )
                    await self.assert_new_host(b, room)
                    a2, r = await resume(srv, a.hello["token"])
                    self.assert_error_shape(r, "bad_token")
                    await self.assert_fresh(a2)
                finally:
                    await close_all([p for p in (a, b, a2) if p])

            run_async(go())


class TlsResumeTest(SessionTestCase):
    """Resuming over wss: CivetWeb's TLS sessions take another path through the server."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="huddle-session-tls-")
        subprocess.run([os.path.join(REPO, "scripts", "make-cert.sh"), cls.tmp.name],
                       check=True, stdout=subprocess.DEVNULL)
        cls.ctx = ssl.create_default_context(cafile=os.path.join(cls.tmp.name, "huddle.crt"))
        cls.ssl_port = free_port()
        cls.server = Server({"ssl_port": cls.ssl_port,
                             "ssl_certificate": os.path.join(cls.tmp.name, "huddle.pem"),
                             "rate_limit_per_sec": 0}, name="session-tls").start()
        cls.server.wait_log(r"listening on https://[^ ]+:%d" % cls.ssl_port)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.tmp.cleanup()

    async def open_wss(self):
        ws = await websockets.connect("wss://localhost:%d/" % self.ssl_port, ssl=self.ctx,
                                      open_timeout=TIMEOUT, close_timeout=TIMEOUT)
        try:
            hello = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            self.assertEqual(hello.get("type"), "hello", hello)
        except BaseException:
            await ws.close()
            raise
        return Peer(ws, hello)

    def test_wss_drop_resumed_over_ws(self):
        async def go():
            a = await self.open_wss()
            b = await Peer.open(self.server)
            a2 = None
            try:
                room = room_name("tls-drop")
                await a.nickname("Tia")
                await self.join_all(room, a, b)
                a.abort()
                self.assertEqual(await b.quiet(QUIET_S), [], "b heard of the drop")
                a2, r = await resume(self.server, a.hello["token"])
                self.assert_resumed(r, a.id, "Tia", room, a.hello["token"])
                self.assertEqual((await a2.recv())["type"], "joined")
                await self.assert_nothing_more(b)
                await b.chat("over plain ws now")
                self.assertEqual((await a2.expect("chat"))["text"], "over plain ws now")
            finally:
                await close_all([p for p in (a, b, a2) if p])

        run_async(go())

    def test_wss_connection_evicted_with_4000(self):
        async def go():
            a = await self.open_wss()
            b = await Peer.open(self.server)
            a2 = None
            try:
                room = room_name("tls-evict")
                await self.join_all(room, a, b)
                a2, r = await resume(self.server, a.hello["token"])
                self.assert_resumed(r, a.id, "Anon", room, a.hello["token"])
                self.assertEqual((await a2.recv())["type"], "joined")
                self.assertEqual(await close_code(a), 4000)
                await self.assert_nothing_more(b)
                await b.chat("still one seat")
                self.assertEqual((await a2.expect("chat"))["text"], "still one seat")
            finally:
                await close_all([p for p in (a, b, a2) if p])

        run_async(go())

    def test_wss_close_frame_is_bye_at_once(self):
        async def go():
            a = await self.open_wss()
            b = await Peer.open(self.server)
            a2 = None
            try:
                room = room_name("tls-close")
                await self.join_all(room, a, b)
                await a.close()
                self.assertEqual(
                    await b.recv(timeout=TIMEOUT),
                    {"type": "bye", "room": room, "id": a.id, "nickname": "Anon", "count": 1})
                a2, r = await resume(self.server, a.hello["token"])
                self.assert_error_shape(r, "bad_token")
            finally:
                await close_all([p for p in (a, b, a2) if p])

        run_async(go())


if __name__ == "__main__":
    unittest.main()
