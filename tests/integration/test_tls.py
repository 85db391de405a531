# SPDX-License-Identifier: MIT
"""HTTPS and wss:// on Debian's CivetWeb + OpenSSL 3 (issue 5): a certificate from
scripts/make-cert.sh, curl --cacert, Python websockets over TLS, the optional HTTP -> HTTPS
redirect, and TLS config errors."""

import json
import os
import re
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import websockets

from harness import REPO, Server, free_port, run_async, run_to_exit, TIMEOUT


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


def s_client(port, *flags):
    """Runs Debian's `openssl s_client` against 127.0.0.1:port with flags; returns (handshake
    completed, protocol, cipher, output)."""
    p = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "localhost"]
        + list(flags),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT + 5,
    )
    out = p.stdout + p.stderr
    # "New, TLSv1.3, Cipher is ..." comes right after the handshake; the "Protocol :" line of the
    # session block may be missing when stdin's end closes the connection before a TLS 1.3
    # session ticket arrived (seen against the slow ThreadSanitizer build)
    m = re.search(r"^New, (TLSv[0-9.]+), Cipher is", out, re.M) or re.search(
        r"^\s*Protocol\s*:\s*(\S+)", out, re.M)
    proto = m.group(1) if m else None
    m = re.search(r"Cipher is (\S+)", out)
    cipher = m.group(1) if m else None
    ok = p.returncode == 0 and cipher not in (None, "(NONE)")
    return ok, proto, cipher, out


class TlsHardeningTest(unittest.TestCase):
    """Protocol versions and cipher suites on the HTTPS port, and HSTS (abuse hardening)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="huddle-tls-")
        subprocess.run(
            [os.path.join(REPO, "scripts", "make-cert.sh"), cls.tmp.name],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cls.pem = os.path.join(cls.tmp.name, "huddle.pem")
        cls.ssl_port = free_port()
        cls.srv = Server(config={"ssl_port": cls.ssl_port, "ssl_certificate": cls.pem},
                         name="tls-hardening").start()
        cls.srv.wait_log(r"listening on https://[^ ]+:%d" % cls.ssl_port)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.tmp.cleanup()

    def client_can(self, *flags):
        """True when this openssl client completes a handshake with `flags` against an
        `openssl s_server` that allows the same: the control proving that a refusal by huddle is
        the server's doing, not the client's (OpenSSL 3 clients refuse old protocols at their
        default security level by themselves)."""
        port = free_port()
        # s_server ends when its stdin does: keep a pipe open until it is killed
        srv = subprocess.Popen(
            ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert", self.pem,
             "-key", self.pem] + list(flags),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        try:
            ready = threading.Event()

            def wait_accept():
                for line in srv.stdout:
                    if line.startswith("ACCEPT"):
                        ready.set()
                        return

            threading.Thread(target=wait_accept, daemon=True).start()
            if not ready.wait(TIMEOUT):
                return False
            ok, _, _, _ = s_client(port, *flags)
            return ok
        finally:
            srv.kill()
            srv.wait(5)
            srv.stdin.close()
            srv.stdout.close()

    def test_tls12_ecdhe_aes_gcm(self):
        for suite in ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"):
            with self.subTest(suite=suite):
                ok, proto, cipher, out = s_client(self.ssl_port, "-tls1_2", "-cipher", suite)
                self.assertTrue(ok, out[-2000:])
                self.assertEqual((proto, cipher), ("TLSv1.2", suite))

    def test_tls13(self):
        ok, proto, cipher, out = s_client(self.ssl_port, "-tls1_3")
        self.assertTrue(ok, out[-2000:])
        self.assertEqual(proto, "TLSv1.3")
        self.assertTrue(cipher.startswith("TLS_"), cipher)

    def test_tls10_and_tls11_refused(self):
        for flag in ("-tls1", "-tls1_1"):
            with self.subTest(version=flag):
                flags = (flag, "-cipher", "DEFAULT:@SECLEVEL=0")
                if not self.client_can(*flags):
                    self.skipTest("this openssl client cannot speak %s at all" % flag)
                ok, proto, cipher, out = s_client(self.ssl_port, *flags)
                self.assertFalse(ok, "%s accepted: %s %s" % (flag, proto, cipher))

    def test_static_rsa_and_cbc_suites_refused(self):
        for suite in ("AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA",
                      "ECDHE-RSA-AES256-SHA384"):
            with self.subTest(suite=suite):
                flags = ("-tls1_2", "-cipher", suite + ":@SECLEVEL=0")
                if not self.client_can(*flags):
                    self.skipTest("this openssl client cannot use %s at all" % suite)
                ok, proto, cipher, out = s_client(self.ssl_port, *flags)
                self.assertFalse(ok, "%s accepted: %s %s" % (suite, proto, cipher))

    def hsts(self, **extra):
        port = free_port()
        cfg = {"ssl_port": port, "ssl_certificate": self.pem}
        cfg.update(extra)
        with Server(config=cfg, name="tls-hsts-" + self._testMethodName) as srv:
            srv.wait_log(r"listening on https://[^ ]+:%d" % port)
            heads = []
            for path in ("/", "/index.html"):
                out = subprocess.run(
                    ["curl", "-sS", "--max-time", "10", "-k", "-D", "-", "-o", os.devnull,
                     "https://127.0.0.1:%d%s" % (port, path)],
                    check=True, capture_output=True, text=True,
                ).stdout
                heads.append(out)
            return heads

    def test_hsts_with_redirect_to_https(self):
        for head in self.hsts(redirect_to_https="yes"):
            self.assertRegex(head, r"^HTTP/1\.1 200", head)
            self.assertRegex(head, r"(?im)^Strict-Transport-Security: max-age=\d{6,}", head)

    def test_no_hsts_without_redirect(self):
        for head in self.hsts():
            self.assertRegex(head, r"^HTTP/1\.1 200", head)
            self.assertNotRegex(head, r"(?im)^Strict-Transport-Security:", head)


if __name__ == "__main__":
    unittest.main()
