# SPDX-License-Identifier: MIT
"""Starts the real huddle binary for integration tests.

Server(...) writes a temporary config file, starts `huddle --config FILE --bind 127.0.0.1 --port 0
--root DIR`, collects its log (stdout and stderr) in a thread, waits for "listening on ...:PORT",
and on stop() sends SIGTERM and checks the exit status and that no sanitizer reported anything.
Environment: HUDDLE_BIN (default <repo>/build/huddle), HUDDLE_TEST_TIMEOUT (seconds per wait,
default 10), HUDDLE_ARTIFACTS (server logs are saved in its integration/, integration-asan/ or
integration-tsan/, default <repo>/tests/artifacts),
HUDDLE_SANITIZED (the binary is instrumented: "asan" (or "1") for ASan+UBSan, "tsan" for
ThreadSanitizer; tests may then loosen resource bounds or shorten load, never drop a check).
"""

import asyncio
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# absolute: the servers start in their own temporary directories
BIN = os.path.abspath(os.environ.get("HUDDLE_BIN") or os.path.join(REPO, "build", "huddle"))
WWW = os.path.join(REPO, "www")
TIMEOUT = float(os.environ.get("HUDDLE_TEST_TIMEOUT", "10"))
_SANITIZED = os.environ.get("HUDDLE_SANITIZED", "").strip().lower()
# None for a plain build, else "asan" or "tsan" (HUDDLE_SANITIZED=1 means asan, as it always did).
SANITIZER = None if _SANITIZED in ("", "0") else ("asan" if _SANITIZED == "1" else _SANITIZED)

# integration/ for a plain build, integration-asan/ or integration-tsan/ for the others: the test
# command runs the three at once, with servers of the same names
ARTIFACTS = os.path.join(
    os.environ.get("HUDDLE_ARTIFACTS") or os.path.join(REPO, "tests", "artifacts"),
    "integration" + ("-" + SANITIZER if SANITIZER else ""),
)

LISTENING_RE = re.compile(r"listening on https?://[^ ]+:(\d+)")
# Any sanitizer report fails the test that stops the server. ThreadSanitizer writes
# "WARNING: ThreadSanitizer: data race ..." for each report (and exits 66 with halt_on_error=1),
# "ThreadSanitizer: reported N warnings" at exit, and "FATAL: ThreadSanitizer" when its runtime
# cannot start (e.g. shadow memory under high-entropy ASLR).
SANITIZER_RE = re.compile(
    r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:"
    r"|(WARNING|ERROR|FATAL): ThreadSanitizer|ThreadSanitizer: reported \d+ warning"
)


def sanitizer_reports(text):
    """Lines of `text` where a sanitizer reported a problem."""
    return [line for line in text.splitlines() if SANITIZER_RE.search(line)]


def write_config(path, config):
    """Writes a dict (or a ready string) as `key = value` lines."""
    with open(path, "w", encoding="utf-8") as f:
        if isinstance(config, str):
            f.write(config)
        else:
            f.write("# written by tests/integration/harness.py\n")
            for k, v in config.items():
                f.write("%s = %s\n" % (k, v))


class ServerError(AssertionError):
    pass


class Server:
    """One running huddle. Use as a context manager or call start()/stop().
    config: extra config file keys; args: extra flags; env: extra environment (other HUDDLE_*
    variables are removed); root: document root (default the repo's www/); port: the --port flag
    (None leaves it out)."""

    def __init__(self, config=None, args=None, env=None, root=None, name="server", port=0):
        self.config = {"log_level": "debug", "bind_address": "127.0.0.1"}
        self.config.update(config or {})
        self.args = list(args or [])
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("HUDDLE_") and k not in ("HUDDLE_BIN", "HUDDLE_TEST_TIMEOUT"):
                del self.env[k]
        self.env.update(env or {})
        self.root = root or WWW
        self.name = name
        self.want_port = port
        self.port = None
        self.proc = None
        self._buf = []
        self._cond = threading.Condition()
        self._reader = None
        self._tmp = tempfile.TemporaryDirectory(prefix="huddle-it-")
        self.config_path = os.path.join(self._tmp.name, "huddle.conf")

    # ---- life cycle ----
    def command(self):
        argv = [BIN, "--config", self.config_path, "--bind", "127.0.0.1", "--root", self.root]
        if self.want_port is not None:
            argv += ["--port", str(self.want_port)]
        return argv + self.args

    def start(self):
        if not os.access(BIN, os.X_OK):
            raise ServerError("no server binary at %s (set HUDDLE_BIN)" % BIN)
        write_config(self.config_path, self.config)
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self._tmp.name,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            m = self.wait_log(LISTENING_RE, TIMEOUT)
        except ServerError:
            self._kill()
            raise ServerError(
                "server did not log 'listening on ...:PORT' (exit %r); log:\n%s"
                % (self.proc.poll(), self.log())
            )
        self.port = int(m.group(1))
        if self.port <= 0:
            raise ServerError("logged port %d" % self.port)
        return self

    def _read(self):
        for line in iter(self.proc.stdout.readline, b""):
            with self._cond:
                self._buf.append(line.decode("utf-8", errors="replace"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def log(self):
        """All output so far, decoded as UTF-8 (invalid bytes shown as U+FFFD)."""
        with self._cond:
            return "".join(self._buf)

    def mark(self):
        """A position in the log for wait_log(since=...)."""
        with self._cond:
            return len(self._buf)

    def wait_log(self, pattern, timeout=None, since=0):
        """Waits until a log line at index >= since matches pattern (regex or str); returns the
        match. Raises ServerError on timeout or when the process has exited without a match."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + (timeout if timeout is not None else TIMEOUT)
        with self._cond:
            i = since
            while True:
                while i < len(self._buf):
                    m = rx.search(self._buf[i])
                    if m:
                        return m
                    i += 1
                left = deadline - time.monotonic()
                reader_done = self._reader is not None and not self._reader.is_alive()
                if left <= 0 or reader_done:
                    raise ServerError("no log line matching %r" % rx.pattern)
                self._cond.wait(min(left, 0.5))

    def stop(self, timeout=None):
        """SIGTERM, then checks: exit within timeout, status 0, no sanitizer report.
        Saves the log under tests/artifacts/integration*/. Raises ServerError on any failure."""
        if self.proc is None:
            return
        problems = []
        if self.proc.poll() is not None:
            problems.append("server had already exited with %r before stop()" % self.proc.returncode)
        else:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout if timeout is not None else max(TIMEOUT, 20))
        except subprocess.TimeoutExpired:
            problems.append("server did not exit after SIGTERM")
            self._kill()
        self._reader.join(5)
        if not self._reader.is_alive():
            self.proc.stdout.close()
        rc = self.proc.returncode
        if rc != 0 and not problems:
            problems.append("exit status %r after SIGTERM (want 0)" % rc)
        reports = sanitizer_reports(self.log())
        if reports:
            problems.append("sanitizer reports:\n  " + "\n  ".join(reports[:20]))
        self._save_log()
        self.proc = None
        self._tmp.cleanup()
        if problems:
            raise ServerError("; ".join(problems) + "\n--- server log tail:\n" + self.log()[-6000:])

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def _save_log(self):
        try:
            os.makedirs(ARTIFACTS, exist_ok=True)
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name)
            with open(os.path.join(ARTIFACTS, safe + ".log"), "w", encoding="utf-8") as f:
                f.write(self.log())
        except OSError:
            pass

    def url(self, path="/"):
        return "ws://127.0.0.1:%d%s" % (self.port, path)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            try:
                self.stop()
            except ServerError:
                pass


_rng = random.SystemRandom()


def free_port():
    """A TCP port that is free now and that the kernel does not hand out by itself (below the
    ephemeral range, where port 0 binds and outgoing connections of the tests running beside this
    one take theirs), for a server flag that cannot be 0 (ssl_port). Random, so that two tests
    at once hardly ever pick the same one."""
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    lo, hi = (10000, low - 1) if low > 12000 else (1025, low - 1)
    for _ in range(1000):
        port = _rng.randint(lo, hi)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise ServerError("no free TCP port between %d and %d" % (lo, hi))


def run_to_exit(args, config=None, env=None, timeout=None, cwd=None):
    """Runs the binary expecting it to exit by itself (config errors). Returns (status, output).
    Raises ServerError when it is still running after timeout (it is then killed)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    full_env.update(env or {})
    with tempfile.TemporaryDirectory(prefix="huddle-it-") as tmp:
        argv = [BIN]
        for a in args:
            argv.append(a.replace("{tmp}", tmp))
        if config is not None:
            write_config(os.path.join(tmp, "huddle.conf"), config)
        p = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=cwd or tmp,
        )
        try:
            out, _ = p.communicate(timeout=timeout if timeout is not None else max(TIMEOUT, 15))
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            raise ServerError(
                "%s still running (expected it to exit); output:\n%s"
                % (" ".join(argv), out.decode("utf-8", "replace"))
            )
        return p.returncode, out.decode("utf-8", errors="replace")


def run_async(coro, timeout=None):
    """Runs a coroutine with an overall time limit (TIMEOUT * 3 by default)."""
    return asyncio.run(asyncio.wait_for(coro, timeout if timeout is not None else TIMEOUT * 3))
