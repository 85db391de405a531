# SPDX-License-Identifier: MIT
"""HTTP on the WebSocket's port: static files with MIME types, 404, hidden dotfiles, no directory
listing, no CGI/SSI, path traversal never escapes the document root, and /healthz (issue 2)."""

import json
import os
import shutil
import stat
import tempfile
import unittest
import uuid

from harness import WWW, Server
from roomutil import http_request


def http_get(port, path, method="GET", headers=None):
    """(status, {lower-case header: value}, body bytes) of one raw request (see roomutil)."""
    return http_request(port, path, method=method, headers=headers)


class DocRoot:
    """A temporary document root with known files, and a secret planted just outside it."""

    def __init__(self):
        self.top = tempfile.mkdtemp(prefix="huddle-root-")
        self.root = os.path.join(self.top, "root")
        self.marker = "OUTSIDE-" + uuid.uuid4().hex
        self.dot_marker = "DOTFILE-" + uuid.uuid4().hex
        self.sub_marker = "LISTED-" + uuid.uuid4().hex
        os.makedirs(os.path.join(self.root, "static"))
        os.makedirs(os.path.join(self.root, "sub", "deeper"))
        os.makedirs(os.path.join(self.root, ".hidden"))
        self.write("../outside-secret.txt", self.marker)
        self.write("index.html", "<!doctype html><title>t</title><p>INDEX-PAGE</p>\n")
        self.write("app.js", "export const x = 1;\n")
        self.write("js/mod.mjs", "export const y = 2;\n")
        self.write("style.css", "body { color: red; }\n")
        self.write("static/readme.txt", "static text\n")
        self.write(".secret", self.dot_marker)
        self.write(".hidden/file.txt", self.dot_marker)
        self.write("sub/%s.txt" % self.sub_marker, "in a folder without an index\n")
        self.write("sub/deeper/x.txt", "deeper\n")
        # CGI and SSI must be off: these would print computed markers if they ran
        self.write("run.cgi", "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\necho CGI-$((6*7))-RAN\n")
        os.chmod(os.path.join(self.root, "run.cgi"), stat.S_IRWXU | stat.S_IRGRP | stat.S_IROTH)
        self.write("inc.txt", "SSI-INCLUDED-" + uuid.uuid4().hex[:8])
        self.write("page.shtml", '<p>before</p><!--#include virtual="inc.txt" --><p>after</p>\n')

    def write(self, rel, text):
        path = os.path.normpath(os.path.join(self.root, rel))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def cleanup(self):
        shutil.rmtree(self.top, ignore_errors=True)


class StaticFilesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docs = DocRoot()
        try:
            cls.server = Server(root=cls.docs.root, name="http").start()
        except Exception:
            cls.docs.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.docs.cleanup()

    def get(self, path, **kw):
        return http_get(self.server.port, path, **kw)

    def test_index_for_root(self):
        status, hdrs, body = self.get("/")
        self.assertEqual(status, 200)
        self.assertTrue(hdrs.get("content-type", "").startswith("text/html"), hdrs)
        self.assertIn(b"INDEX-PAGE", body)
        status, _, body2 = self.get("/index.html")
        self.assertEqual((status, body2), (200, body))

    def test_mime_types(self):
        for path, types in (
            ("/app.js", ("text/javascript", "application/javascript")),
            ("/js/mod.mjs", ("text/javascript", "application/javascript")),
            ("/style.css", ("text/css",)),
            ("/static/readme.txt", ("text/plain",)),
            ("/index.html", ("text/html",)),
        ):
            with self.subTest(path=path):
                status, hdrs, _ = self.get(path)
                self.assertEqual(status, 200)
                ctype = hdrs.get("content-type", "").split(";")[0].strip().lower()
                self.assertIn(ctype, types, hdrs)

    def test_unknown_path_404(self):
        for path in ("/nope-%s.html" % uuid.uuid4().hex, "/static/missing.js", "/no/such/dir/"):
            with self.subTest(path=path):
                self.assertEqual(self.get(path)[0], 404)

    def test_dotfiles_hidden(self):
        for path in ("/.secret", "/.hidden/file.txt", "/.hidden/", "/static/../.secret", "/%2esecret"):
            with self.subTest(path=path):
                status, _, body = self.get(path)
                self.assertIn(status, (403, 404), body[:200])
                self.assertNotIn(self.docs.dot_marker.encode(), body)

    def test_no_directory_listing(self):
        for path in ("/sub/", "/sub", "/sub/deeper/", "/static/"):
            with self.subTest(path=path):
                status, _, body = self.get(path)
                self.assertNotEqual(status, 200, body[:300])
                self.assertNotIn(self.docs.sub_marker.encode(), body)
                self.assertNotIn(b"x.txt", body)
                self.assertNotIn(b"readme.txt", body)

    def test_no_cgi(self):
        _, _, body = self.get("/run.cgi")
        self.assertNotIn(b"CGI-42-RAN", body)

    def test_no_ssi(self):
        _, _, body = self.get("/page.shtml")
        self.assertNotIn(b"SSI-INCLUDED-", body)

    def test_traversal_never_escapes_root(self):
        secret = "outside-secret.txt"
        paths = [
            "/../" + secret,
            "/../../" + secret,
            "/%2e%2e/" + secret,
            "/%2E%2E/" + secret,
            "/.%2e/" + secret,
            "/%2e./" + secret,
            "/..%2f" + secret,
            "/..%2F" + secret,
            "/%2e%2e%2f" + secret,
            "/..%5c" + secret,
            "/..\\" + secret,
            "/%252e%252e/" + secret,
            "/%252e%252e%252f" + secret,
            "/static/../../" + secret,
            "/static/%2e%2e/%2e%2e/" + secret,
            "/static/..%2f..%2f" + secret,
            "/sub/deeper/../../../" + secret,
            "/./../" + secret,
            "//../" + secret,
            "/....//" + secret,
            "/..;/" + secret,
            "/%c0%ae%c0%ae/" + secret,
            "/..%00/" + secret,
            "/" + self.docs.top + "/" + secret,
            "/../../../../../../../../etc/passwd",
            "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            "/static/../../../../../../etc/passwd",
        ]
        for path in paths:
            with self.subTest(path=path):
                status, _, body = self.get(path)
                self.assertNotIn(self.docs.marker.encode(), body, "status %d" % status)
                self.assertNotIn(b"root:x:0:0", body, "status %d" % status)

    def test_healthz(self):
        status, hdrs, body = self.get("/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"status": "ok"})
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"), hdrs)

    def test_head_request(self):
        status, hdrs, _ = self.get("/index.html", method="HEAD")
        self.assertEqual(status, 200)


class RepoWwwTest(unittest.TestCase):
    """The repository's own www/ is what the default document root serves."""

    def test_default_page(self):
        with Server(name="www") as server:
            status, hdrs, body = http_get(server.port, "/")
            self.assertEqual(status, 200)
            self.assertTrue(hdrs.get("content-type", "").startswith("text/html"), hdrs)
            with open(os.path.join(WWW, "index.html"), "rb") as f:
                self.assertEqual(body, f.read())
            status, _, body = http_get(server.port, "/healthz")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body), {"status": "ok"})


if __name__ == "__main__":
    unittest.main()
