# SPDX-License-Identifier: MIT
"""What the call page needs from the server (issue 4): GET /api/config reflects the config file
(ICE servers, TURN credentials, limits); the signaling relay itself is covered in test_rooms."""

import unittest

from harness import Server
from roomutil import get_json, http_request


class ApiConfigTest(unittest.TestCase):
    def test_defaults(self):
        with Server(name="api-config-defaults") as srv:
            cfg = get_json(srv.port, "/api/config")
        self.assertEqual(
            cfg,
            {
                "iceServers": [{"urls": ["stun:stun.l.google.com:19302"]}],
                "maxRoomMembers": 8,
                "maxMessageBytes": 65536,
            },
        )

    def test_reflects_the_config_file(self):
        config = {
            "ice_servers": "stun:stun.example.org:3478,turn:turn.example.org:3478?transport=udp,"
            "turns:turn.example.org:5349",
            "turn_username": "huddle",
            "turn_credential": "s3cret",
            "max_room_members": 4,
            "max_message_bytes": 32768,
            "send_queue_bytes": 1048576,
        }
        with Server(config=config, name="api-config-file") as srv:
            cfg = get_json(srv.port, "/api/config")
        self.assertEqual(
            cfg,
            {
                "iceServers": [
                    {"urls": ["stun:stun.example.org:3478"]},
                    {
                        "urls": [
                            "turn:turn.example.org:3478?transport=udp",
                            "turns:turn.example.org:5349",
                        ],
                        "username": "huddle",
                        "credential": "s3cret",
                    },
                ],
                "maxRoomMembers": 4,
                "maxMessageBytes": 32768,
            },
        )

    def test_no_ice_servers(self):
        with Server(config={"ice_servers": '""'}, name="api-config-empty") as srv:
            cfg = get_json(srv.port, "/api/config")
        self.assertEqual(cfg["iceServers"], [])

    def test_only_get_and_head(self):
        with Server(name="api-config-post") as srv:
            status, hdrs, _ = http_request(srv.port, "/api/config", method="POST")
            self.assertEqual(status, 405)
            self.assertIn("GET", hdrs.get("allow", ""))
            status, hdrs, body = http_request(srv.port, "/api/config", method="HEAD")
            self.assertEqual(status, 200)
            self.assertEqual(body, b"")
            self.assertEqual(hdrs["content-type"], "application/json")


if __name__ == "__main__":
    unittest.main()
