# SPDX-License-Identifier: MIT
"""Private meetings against the real binary (docs/protocol.md, "Private meetings"): unlisted
rooms appear in no list, no log line at INFO and no metric; `create`; passcodes (constant-time
compared, 5 wrong a minute per session); the host's lock, remove and passcode; host hand-over.
Clients are Python `websockets` (Debian's python3-websockets)."""

import asyncio
import json
import random
import string
import unittest
import uuid

from harness import TIMEOUT, Server, run_async
from roomutil import (
    Peer,
    close_all,
    get_json,
    http_request,
    listed_room,
    meta,
    open_peers,
    room_name,
    wait_for_rooms,
)
import test_rooms
from test_session import resume


def secret_name():
    """An unguessable room name, as the page's "New meeting" makes them."""
    return "quiet-otter-" + uuid.uuid4().hex[:12]


class PrivateTestCase(test_rooms.RoomTestCase):
    @classmethod
    def setUpClass(cls):
        # no general rate limit: the passcode limit is what these tests see
        cls.server = Server({"rate_limit_per_sec": 0}, name="private").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def run_peers(self, n, body):
        async def go():
            peers = await open_peers(self.server, n)
            try:
                await body(*peers)
            finally:
                await close_all(peers)

        run_async(go())


class ListingTest(PrivateTestCase):
    def test_unlisted_room_appears_nowhere(self):
        async def body(a, b, lobby):
            name = secret_name()
            listed = room_name("standup")
            j = await a.join(name, listed=False)
            self.assertEqual(
                j, dict({"type": "joined", "room": name, "id": a.id, "members": [], "count": 1},
                        **meta(a.id, listed=False, for_host=True)))
            j = await b.join(name, listed=True)  # `listed` only counts when creating
            self.assertFalse(j["listed"])
            await a.expect("welcome")
            # the lobby hears nothing about it (pushes for other tests' rooms may come), a listed
            # room is pushed with its capacity
            for m in await lobby.quiet(0.5):
                self.assertEqual(m["type"], "rooms", m)
                self.assertNotIn(name, json.dumps(m))
            c = await Peer.open(self.server)
            try:
                await c.join(listed, listed=True)
                await wait_for_rooms(lobby, [listed_room(listed, 1)])
                # hello, list, /api/rooms, /metrics: never the unlisted name
                fresh = await Peer.open(self.server)
                try:
                    self.assertEqual(fresh.hello["rooms"], [listed_room(listed, 1)])
                    await fresh.send({"type": "list"})
                    self.assertEqual((await fresh.expect("rooms", skip=()))["rooms"],
                                     [listed_room(listed, 1)])
                finally:
                    await fresh.close()
                self.assertEqual(get_json(self.server.port, "/api/rooms"),
                                 {"rooms": [listed_room(listed, 1)]})
                status, _, body = http_request(self.server.port, "/metrics")
                self.assertEqual(status, 200)
                self.assertNotIn(name.encode(), body)
            finally:
                await c.close()

        self.run_peers(3, body)

    def test_create_must_be_new_and_can_be_listed(self):
        async def body(a, b, lobby):
            name = secret_name()
            await a.join(name, listed=False, create=True)
            await b.send({"type": "join", "room": name, "create": True})
            self.assert_error_shape(await b.recv(), "room_exists")
            listed = room_name("listed")
            j = await b.join(listed, listed=True, create=True)
            self.assertEqual((j["host"], j["listed"], j["passcode"]), (b.id, True, None))
            await wait_for_rooms(lobby, [listed_room(listed, 1)])
            for bad in ({"create": 1}, {"listed": "yes"}, {"passcode": "abc"},
                        {"passcode": "x" * 65}, {"passcode": 1234}, {"passcode": "ab\ncd"}):
                await a.send(dict({"type": "join", "room": room_name()}, **bad))
                self.assert_error_shape(await a.recv(), "bad_field")
            await self.assert_nothing_more(a)

        self.run_peers(3, body)


class PasscodeTest(PrivateTestCase):
    def test_passcode_join_change_and_clear(self):
        async def body(a, b, c, d):
            name, pw = secret_name(), "tea & biscuits"
            j = await a.join(name, listed=False, create=True, passcode=pw)
            self.assertEqual((j["protected"], j["passcode"]), (True, pw))
            # missing, wrong, off by a space: all the same answer
            for attempt in (None, "tea & biscuit", " tea & biscuits"):
                await b.send({"type": "join", "room": name, "passcode": attempt})
                self.assert_error_shape(await b.recv(), "bad_passcode")
            j = await b.join(name, passcode=pw)
            self.assertEqual((j["host"], j["protected"]), (a.id, True))
            self.assertNotIn("passcode", j)
            w = await a.expect("welcome")
            self.assertNotIn("passcode", w)
            # the host changes it: both are told, only the host sees it
            await a.send({"type": "passcode", "passcode": "n3w-passcode"})
            # "change" tells b that the passcode it joined with may no longer open the room
            r = await a.expect("room")
            self.assertEqual(r, dict({"type": "room", "room": name, "change": "passcode"},
                                     **meta(a.id, listed=False, protected=True,
                                            passcode="n3w-passcode", for_host=True)))
            r = await b.expect("room")
            self.assertEqual(r, dict({"type": "room", "room": name, "change": "passcode"},
                                     **meta(a.id, listed=False, protected=True)))
            await c.send({"type": "join", "room": name, "passcode": pw})
            self.assert_error_shape(await c.recv(), "bad_passcode")
            await c.join(name, passcode="n3w-passcode")
            for p in (a, b):
                await p.expect("welcome")
            # cleared: anyone with the name comes in
            await a.send({"type": "passcode", "passcode": None})
            r = await a.expect("room")
            self.assertEqual((r["change"], r["protected"], r["passcode"]), ("passcode", False, None))
            j = await d.join(name)
            self.assertFalse(j["protected"])
            self.assertFalse((await b.expect("room"))["protected"])
            self.assertEqual((await b.expect("welcome"))["id"], d.id)
            # a non-host cannot change it
            await b.send({"type": "passcode", "passcode": "mine-now"})
            self.assert_error_shape(await b.recv(), "not_host")

        self.run_peers(4, body)

    def test_invite_link_recreates_the_room_with_its_passcode(self):
        async def body(a, b, c):
            name, pw = secret_name(), "open sesame"
            await a.join(name, listed=False, passcode=pw)
            await a.send({"type": "leave"})
            await a.expect("left")
            # the room is gone; the first one back with the link makes it again, passcode and all
            j = await b.join(name, listed=False, passcode=pw)
            self.assertEqual((j["host"], j["protected"], j["passcode"], j["count"]),
                             (b.id, True, pw, 1))
            await c.send({"type": "join", "room": name})
            self.assert_error_shape(await c.recv(), "bad_passcode")

        self.run_peers(3, body)

    def test_a_thousand_guesses_get_rate_limited_after_five(self):
        async def body(a, guesser):
            name = secret_name()
            await a.join(name, listed=False, passcode="correct horse battery")
            rnd = random.Random(20261129)
            alphabet = string.ascii_letters + string.digits
            for _ in range(1000):
                guess = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(4, 20)))
                await guesser.send({"type": "join", "room": name, "passcode": guess})
            codes = []
            for _ in range(1000):
                m = await guesser.recv(timeout=TIMEOUT)
                self.assertEqual(m["type"], "error", m)
                codes.append(m["code"])
            self.assertEqual(codes[:5], ["bad_passcode"] * 5)
            self.assertEqual(codes[5:], ["rate_limited"] * 995)
            # the right one is not even checked within the minute; the connection stays open
            await guesser.send({"type": "join", "room": name,
                                "passcode": "correct horse battery"})
            self.assert_error_shape(await guesser.recv(), "rate_limited")
            self.assertEqual((await guesser.nickname("still here"))["nickname"], "still here")
            # a's room saw nobody
            await self.assert_nothing_more(a)

        self.run_peers(2, body)


class PerAddressTest(test_rooms.RoomTestCase):
    """New connections are cheap, so wrong passcodes are also counted per client address: 20 a
    minute, then every session from there is refused unchecked; another address is not."""

    def test_reconnecting_does_not_buy_more_guesses(self):
        with Server({"rate_limit_per_sec": 0}, name="private-per-address") as srv:

            async def go():
                name = secret_name()
                host = await Peer.open(srv)
                try:
                    await host.join(name, listed=False, passcode="correct horse")
                    codes = []
                    for c in range(5):
                        p = await Peer.open(srv)
                        try:
                            for k in range(5):
                                await p.send({"type": "join", "room": name,
                                              "passcode": "guess-%d-%d" % (c, k)})
                                codes.append((await p.recv())["code"])
                        finally:
                            await p.close()
                    self.assertEqual(codes[:20], ["bad_passcode"] * 20)
                    self.assertEqual(codes[20:], ["rate_limited"] * 5)
                    # from 127.0.0.2 (a different client): its own count
                    other = await Peer.open(srv, local_addr=("127.0.0.2", 0))
                    try:
                        await other.send({"type": "join", "room": name, "passcode": "nope"})
                        self.assert_error_shape(await other.recv(), "bad_passcode")
                        j = await other.join(name, passcode="correct horse")
                        self.assertEqual(j["count"], 2)
                    finally:
                        await other.close()
                finally:
                    await host.close()

            run_async(go())


class HostTest(PrivateTestCase):
    def test_lock_remove_and_no_rejoin_while_locked(self):
        async def body(a, b, c, d):
            name = room_name("locked")
            await a.join(name, listed=True, create=True)
            await b.join(name)
            await a.expect("welcome")
            # only the host
            for msg in ({"type": "lock", "locked": True}, {"type": "remove", "id": a.id},
                        {"type": "passcode", "passcode": "1234"}):
                await b.send(msg)
                self.assert_error_shape(await b.recv(), "not_host")
                await d.send(msg)
                self.assert_error_shape(await d.recv(), "not_in_room")
            await a.send({"type": "lock", "locked": True})
            for p in (a, b):
                r = await p.expect("room")
                self.assertEqual((r["change"], r["host"], r["locked"]), ("lock", a.id, True))
            self.assertEqual(get_json(self.server.port, "/api/rooms")["rooms"],
                             [listed_room(name, 2, locked=True)])
            await c.send({"type": "join", "room": name})
            self.assert_error_shape(await c.recv(), "room_locked")
            # removed: told, out of the room, connection open, cannot come back while locked
            await a.send({"type": "remove", "id": b.id})
            self.assertEqual(await b.recv(), {"type": "removed", "room": name})
            bye = await a.expect("bye")
            self.assertEqual((bye["id"], bye["count"]), (b.id, 1))
            await b.send({"type": "join", "room": name})
            self.assert_error_shape(await b.recv(), "room_locked")
            await b.chat("let me in")
            self.assert_error_shape(await b.recv(), "not_in_room")
            for bad_id in (a.id, b.id, d.id, 10 ** 12):
                await a.send({"type": "remove", "id": bad_id})
                self.assert_error_shape(await a.recv(), "no_such_peer")
            # unlocked: open to anyone again, b included
            await a.send({"type": "lock", "locked": False})
            self.assertFalse((await a.expect("room"))["locked"])
            await b.join(name)
            await c.join(name)
            self.assertEqual(get_json(self.server.port, "/api/rooms")["rooms"],
                             [listed_room(name, 3)])

        self.run_peers(4, body)

    def test_host_hand_over_on_leave_and_close(self):
        async def body(a, b, c):
            name = secret_name()
            await a.join(name, listed=False, passcode="sekrit")
            await b.join(name, passcode="sekrit")
            await c.join(name, passcode="sekrit")
            await a.expect("welcome")
            await a.expect("welcome")
            await b.expect("welcome")
            await a.send({"type": "leave"})
            await a.expect("left")
            # everyone told; the longest present (b) hosts, and its copy has the passcode
            for p in (b, c):
                self.assertEqual((await p.expect("bye"))["id"], a.id)
            self.assertEqual(await b.expect("room"),
                             dict({"type": "room", "room": name, "change": "host"},
                                  **meta(b.id, listed=False, protected=True, passcode="sekrit",
                                         for_host=True)))
            self.assertEqual(await c.expect("room"),
                             dict({"type": "room", "room": name, "change": "host"},
                                  **meta(b.id, listed=False, protected=True)))
            await b.close()
            self.assertEqual((await c.expect("bye"))["id"], b.id)
            r = await c.expect("room")
            self.assertEqual((r["host"], r["passcode"]), (c.id, "sekrit"))
            await c.send({"type": "lock", "locked": True})
            self.assertTrue((await c.expect("room"))["locked"])

        self.run_peers(3, body)

    def test_host_keeps_the_room_across_a_resume(self):
        async def body(a, b):
            name = secret_name()
            await a.join(name, listed=False, passcode="sekrit")
            await b.join(name, passcode="sekrit")
            await a.expect("welcome")
            token = a.hello["token"]
            a.abort()  # a drop, not a goodbye: the seat and the host are kept
            self.assertEqual(await b.quiet(0.5), [])
            a2, r = await resume(self.server, token)
            try:
                self.assertEqual(r["type"], "resumed", r)
                j = await a2.recv()
                self.assertEqual((j["type"], j["host"], j["passcode"]), ("joined", a.id, "sekrit"))
                await a2.send({"type": "remove", "id": b.id})
                self.assertEqual(await b.recv(), {"type": "removed", "room": name})
            finally:
                await a2.close()

        self.run_peers(2, body)


class LogTest(test_rooms.RoomTestCase):
    """What the log may say: at INFO never an unlisted room's name; at any level never a
    passcode or a resume token."""

    def scenario(self, server):
        name, pw = secret_name(), "pw-" + uuid.uuid4().hex[:10]
        tokens = []

        async def go():
            a, b, c = await open_peers(server, 3)
            a2 = None
            try:
                tokens.extend(p.hello["token"] for p in (a, b, c))
                await a.join(name, listed=False, passcode=pw)
                await b.send({"type": "join", "room": name, "passcode": "wrong-one"})
                await b.expect_error("bad_passcode")
                await b.join(name, passcode=pw)
                await a.send({"type": "lock", "locked": True})
                await a.send({"type": "passcode", "passcode": pw + "-2"})
                await c.send({"type": "join", "room": name, "passcode": pw + "-2"})
                await c.expect_error("room_locked")
                await a.send({"type": "remove", "id": b.id})
                await b.expect("removed", skip=("rooms", "room"))
                await a.ws.send("plain words in a private room")
                a.abort()
                a2, r = await resume(server, tokens[0])
                self.assertEqual(r["type"], "resumed")
                tokens.append(r["token"])
                await a2.send({"type": "leave"})
                await a2.expect("left", skip=("rooms", "joined", "room", "welcome", "bye",
                                              "chat"))
            finally:
                await close_all([p for p in (a, b, c, a2) if p])

        run_async(go())
        return name, [pw, pw + "-2"], tokens

    def test_info_log_names_no_unlisted_room(self):
        with Server({"log_level": "info", "rate_limit_per_sec": 0}, name="private-log") as srv:
            name, pws, tokens = self.scenario(srv)
            srv.wait_log(r"left room #[0-9a-f]{8} \(\d+ B\)")
            log = srv.log()
            self.assertNotIn(name, log)
            for secret in pws + tokens:
                self.assertNotIn(secret, log)
            self.assertRegex(log, r"created room #[0-9a-f]{8} \(%d B\) \(unlisted, with a "
                             r"passcode\)" % len(name))
            self.assertIn("wrong or missing passcode for room #", log)

    def test_debug_log_has_no_passcode_or_token(self):
        with Server({"log_level": "debug", "rate_limit_per_sec": 0}, name="private-debug") as srv:
            name, pws, tokens = self.scenario(srv)
            srv.wait_log(r"left room #[0-9a-f]{8}")
            log = srv.log()
            for secret in pws + tokens:
                self.assertNotIn(secret, log)
            self.assertIn("is '%s'" % name, log)  # DEBUG may name it, once


if __name__ == "__main__":
    unittest.main()
