# SPDX-License-Identifier: MIT
"""Configuration from the real binary's point of view: errors exit 2 and name where they came from;
--port 0 logs the chosen port; precedence defaults < file < environment < flags (issue 2)."""

import os
import re
import socket
import unittest

from harness import WWW, Server, run_async, run_to_exit, sanitizer_reports
from wsutil import connect, hello


def busy_socket():
    """A socket listening on 127.0.0.1 at a free port (the caller closes it)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s


def greeting_of(server):
    async def go():
        ws = await connect(server)
        try:
            return (await hello(ws))["text"]
        finally:
            await ws.close()

    return run_async(go())


class ConfigErrorTest(unittest.TestCase):
    def exits_2(self, args, config=None, env=None):
        base = ["--bind", "127.0.0.1", "--root", WWW]
        if config is not None:
            base = ["--config", "{tmp}/huddle.conf"] + base
        rc, out = run_to_exit(base + args, config=config, env=env)
        self.assertEqual(rc, 2, "exit status; output:\n" + out)
        self.assertEqual(sanitizer_reports(out), [])
        return out

    def test_unknown_key_names_file_line_and_key(self):
        out = self.exits_2(
            ["--port", "0"], config="# a comment\n\ngreeting = hi\nlisten_port = 3004\nlog_level = info\n"
        )
        self.assertRegex(out, r"huddle\.conf:4\b")
        self.assertIn("listen_port", out)

    def test_bad_values_name_file_line_and_key(self):
        for line in (
            "listening_port = abc",
            "listening_port = 70000",
            "listening_port = -1",
            "log_level = loud",
            "num_threads = many",
            "max_message_bytes = 12abc",
            "max_message_bytes = 0",
        ):
            key = line.split()[0]
            with self.subTest(line=line):
                out = self.exits_2(["--port", "0"], config="greeting = hi\n" + line + "\n")
                self.assertRegex(out, r"huddle\.conf:2\b")
                self.assertIn(key, out)

    def test_line_without_equals(self):
        out = self.exits_2(["--port", "0"], config="greeting = hi\n\njust some words\n")
        self.assertRegex(out, r"huddle\.conf:3\b")

    def test_missing_config_file_given_explicitly(self):
        rc, out = run_to_exit(
            ["--config", "{tmp}/does-not-exist.conf", "--bind", "127.0.0.1", "--port", "0", "--root", WWW]
        )
        self.assertEqual(rc, 2, out)
        self.assertIn("does-not-exist.conf", out)

    def test_missing_document_root(self):
        out = self.exits_2(["--port", "0", "--root", "/nonexistent/huddle-www"])
        self.assertIn("/nonexistent/huddle-www", out)

    def test_document_root_is_a_file(self):
        out = self.exits_2(["--port", "0", "--root", os.path.abspath(__file__)])
        self.assertIn("test_config.py", out)

    def test_port_in_use(self):
        s = busy_socket()
        try:
            port = s.getsockname()[1]
            out = self.exits_2(["--port", str(port)])
            self.assertIn(str(port), out)
        finally:
            s.close()

    def test_bad_flag_value(self):
        out = self.exits_2(["--port", "notaport"])
        self.assertIn("--port", out)

    def test_bad_environment_value_names_variable(self):
        out = self.exits_2(["--port", "0"], env={"HUDDLE_MAX_MESSAGE_BYTES": "lots"})
        self.assertIn("HUDDLE_MAX_MESSAGE_BYTES", out)

    def test_unknown_flag(self):
        rc, out = run_to_exit(["--no-such-flag"])
        self.assertEqual(rc, 2, out)

    def test_help_and_version(self):
        rc, out = run_to_exit(["--help"])
        self.assertEqual(rc, 0, out)
        self.assertIn("--config", out)
        rc, out = run_to_exit(["--version"])
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"\d+\.\d+")


class ConfigPrecedenceTest(unittest.TestCase):
    def test_port_zero_logs_chosen_port(self):
        with Server(name="port0") as server:
            self.assertGreater(server.port, 0)
            with socket.create_connection(("127.0.0.1", server.port), timeout=5):
                pass

    def test_file_greeting_used(self):
        with Server({"greeting": "from the file"}, name="greet-file") as server:
            self.assertEqual(greeting_of(server), "from the file")

    def test_environment_overrides_file(self):
        with Server(
            {"greeting": "from the file"}, env={"HUDDLE_GREETING": "from the environment ✓"}, name="greet-env"
        ) as server:
            self.assertEqual(greeting_of(server), "from the environment ✓")

    def test_flag_overrides_environment(self):
        # the environment names a port that is taken: the server can only start if --port 0 wins
        s = busy_socket()
        try:
            env = {"HUDDLE_LISTENING_PORT": str(s.getsockname()[1])}
            with Server(env=env, name="port-flag") as server:
                self.assertNotEqual(server.port, s.getsockname()[1])
        finally:
            s.close()

    def test_environment_overrides_file_port(self):
        s = busy_socket()
        try:
            # the file names a taken port, the environment picks 0: must start
            with Server(
                {"listening_port": s.getsockname()[1]},
                env={"HUDDLE_LISTENING_PORT": "0"},
                port=None,
                name="port-env",
            ) as server:
                self.assertGreater(server.port, 0)
        finally:
            s.close()

    def test_log_level_flag_overrides_file(self):
        # at "error" the server would not log its start-up line (nor decoded messages)
        with Server({"log_level": "error"}, args=["--log-level", "debug"], name="loglevel") as server:
            text = "log level check " + os.urandom(4).hex()

            async def go():
                ws = await connect(server)
                try:
                    await hello(ws)
                    await ws.send(text)
                finally:
                    await ws.close()

            run_async(go())
            server.wait_log(re.escape(text))


if __name__ == "__main__":
    unittest.main()
