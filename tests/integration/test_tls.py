# SPDX-License-Identifier: MIT
"""HTTPS and wss:// on Debian's CivetWeb + OpenSSL 3 (issue 5): a certificate from
scripts/make-cert.sh, curl --cacert, Python websockets over TLS, the optional HTTP -> HTTPS
redirect, and TLS config errors."""

import json
import os
import socket
import ssl
import subprocess
import tempfile
import unittest
import urllib.request

import websockets

from harness import REPO, Server, run_async, run_to_exit, TIMEOUT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="huddle-tls-")
        subprocess.run(
            [os.path.join(REPO, "scripts", "make-cert.sh"), cls.tmp.name],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cls.pem = os.path.join(cls.tmp.name, "huddle.pem")
        cls.crt = os.path.join(cls.tmp.name, "huddle.crt")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def server(self, **extra):
        self.ssl_port = free_port()
        config = {"ssl_port": self.ssl_port, "ssl_certificate": self.pem}
        config.update(extra)
        return Server(config=config, name="tls-" + self._testMethodName)

    def test_curl_with_cacert(self):
        with self.server() as srv:
            srv.wait_log(r"listening on https://[^ ]+:%d" % self.ssl_port)
            out = subprocess.run(
                ["curl", "-sS", "--max-time", "10", "--cacert", self.crt,
                 "https://localhost:%d/healthz" % self.ssl_port],
                check=True, capture_output=True, text=True,
            ).stdout
            self.assertEqual(json.loads(out), {"status": "ok"})
            page = subprocess.run(
                ["curl", "-sS", "--max-time", "10", "--cacert", self.crt,
                 "https://localhost:%d/" % self.ssl_port],
                check=True, capture_output=True, text=True,
            ).stdout
            self.assertIn("<html", page.lower())
            # the plain port keeps working when no redirect is asked for
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % srv.port, timeout=TIMEOUT) as r:
                self.assertEqual(r.status, 200)

    def test_untrusted_certificate_is_refused_by_curl(self):
        with self.server():
            p = subprocess.run(
                ["curl", "-sS", "--max-time", "10", "https://localhost:%d/healthz" % self.ssl_port],
                capture_output=True, text=True,
            )
            self.assertNotEqual(p.returncode, 0, "curl accepted a self-signed certificate")

    def test_wss_round_trip(self):
        ctx = ssl.create_default_context(cafile=self.crt)

        async def talk(port):
            async with websockets.connect("wss://localhost:%d/" % port, ssl=ctx) as ws:
                hello = json.loads(await ws.recv())
                self.assertEqual(hello["type"], "hello")
                self.assertEqual(hello["text"], "hello!")
                await ws.send(json.dumps({"type": "nickname", "nickname": " Zoë "}))
                while True:
                    msg = json.loads(await ws.recv())
                    if msg["type"] != "rooms":
                        break
                self.assertEqual(msg, {"type": "nickname", "nickname": "Zoë"})
                await ws.send("hello from the browser!")

        with self.server() as srv:
            mark = srv.mark()
            run_async(talk(self.ssl_port))
            srv.wait_log(r"recv text 23 B: hello from the browser!", since=mark)

    def test_redirect_to_https(self):
        with self.server(redirect_to_https="yes") as srv:
            with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as s:
                s.sendall(b"GET /index.html HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % srv.port)
                head = s.recv(4096).decode("latin-1")
            status = head.split("\r\n", 1)[0]
            self.assertRegex(status, r"^HTTP/1\.[01] 30[1278] ")
            self.assertRegex(head, r"(?i)\r\nLocation: https://localhost:%d/index\.html\r\n" % self.ssl_port)

    def test_ssl_port_without_certificate_is_a_config_error(self):
        status, out = run_to_exit(["--config", "{tmp}/huddle.conf", "--root", os.path.join(REPO, "www")],
                                  config={"ssl_port": free_port(), "listening_port": 0,
                                          "bind_address": "127.0.0.1"})
        self.assertEqual(status, 2, out)
        self.assertIn("ssl_certificate", out)

    def test_missing_certificate_file_exits_2(self):
        status, out = run_to_exit(["--config", "{tmp}/huddle.conf", "--root", os.path.join(REPO, "www")],
                                  config={"ssl_port": free_port(), "listening_port": 0,
                                          "bind_address": "127.0.0.1",
                                          "ssl_certificate": "/nonexistent/huddle.pem"})
        self.assertEqual(status, 2, out)
        self.assertIn("/nonexistent/huddle.pem", out)


if __name__ == "__main__":
    unittest.main()
