"""Fixtures for the redis-py tests.

* ``tern``: a session-wide tern server (binary from ``TERN_BIN``, default ``target/debug/tern``
  relative to the repository root) started with ``--port 0``; the port is parsed from its
  ``Ready to accept connections tcp port=N`` log line. The fixture is a client factory:
  ``tern(protocol=3, decode_responses=False)`` returns a new ``redis.Redis`` on it.
* ``redis_server``: the same for Debian's ``redis-server`` (free port picked here), used for the
  differential tests.
* ``tern_auth``: a tern started with ``--requirepass`` (module scope).
* ``r``: a ``decode_responses=True`` client on ``tern``, run once in RESP2 and once in RESP3
  (redis-py 8 speaks RESP3 by default).
* ``k``: a key-name factory unique to the test, so tests need no FLUSHALL to stay independent.

``TERN_PY_TARGET=redis`` runs the whole suite against redis-server instead of tern, to check the
tests themselves against the reference implementation; tests marked ``tern_only`` are skipped.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = os.environ.get("TERN_PY_TARGET", "tern")
READY_RE = re.compile(rb"Ready to accept connections tcp port=(\d+)")


def pytest_configure(config):
    config.addinivalue_line("markers", "tern_only: checks a tern-specific behaviour (skipped against redis-server)")
    # redis-py marks SETEX/PSETEX deprecated; they are Redis commands we test on purpose.
    config.addinivalue_line("filterwarnings", "ignore:Call to deprecated:DeprecationWarning")


def pytest_collection_modifyitems(config, items):
    if TARGET == "redis":
        skip = pytest.mark.skip(reason="tern-specific; TERN_PY_TARGET=redis")
        for item in items:
            if "tern_only" in item.keywords:
                item.add_marker(skip)


def tern_bin() -> pathlib.Path:
    p = pathlib.Path(os.environ.get("TERN_BIN", "target/debug/tern"))
    if not p.is_absolute():
        p = ROOT / p
    return p


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process on 127.0.0.1 and a factory of clients for it."""

    def __init__(self, name: str, argv: list[str], port: int | None, password: str | None = None):
        self.name = name
        self.argv = argv
        self.port = port
        self.password = password
        self.proc: subprocess.Popen | None = None
        self.output = bytearray()
        self._clients: list[redis.Redis] = []
        self.dir = tempfile.mkdtemp(prefix=f"pytest-{name}-")

    def start(self, timeout: float = 30.0) -> "Server":
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise

    def _start(self, timeout: float) -> "Server":
        self.proc = subprocess.Popen(
            self.argv, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + timeout
        if self.port is None:
            while self.port is None:
                m = READY_RE.search(bytes(self.output))
                if m:
                    self.port = int(m.group(1))
                    break
                self._check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name}: no 'Ready to accept connections' line:\n{self.log()}")
                time.sleep(0.02)
        while True:
            try:
                c = redis.Redis(host="127.0.0.1", port=self.port, password=self.password, protocol=2,
                                socket_timeout=5, retry=Retry(NoBackoff(), 0))
                try:
                    c.ping()
                    # The port may have gone to another test's server between free_port() and
                    # our bind (ours then exits): the one answering must be our child.
                    pid = c.info("server").get("process_id")
                    if pid is not None and pid != self.proc.pid:
                        raise RuntimeError(f"{self.name}: port {self.port} answered by pid {pid}, not ours")
                except (redis.AuthenticationError, redis.ResponseError):
                    pass  # up, and wants a password (or INFO is not allowed)
                finally:
                    c.close()
                return self
            except redis.ConnectionError:
                self._check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not answer PING on port {self.port}:\n{self.log()}")
                time.sleep(0.05)

    def _drain(self):
        assert self.proc and self.proc.stdout
        for line in iter(self.proc.stdout.readline, b""):
            self.output += line

    def _check_alive(self):
        assert self.proc
        if self.proc.poll() is not None:
            time.sleep(0.1)
            raise RuntimeError(f"{self.name} exited with status {self.proc.returncode}:\n{self.log()}")

    def log(self) -> str:
        return bytes(self.output).decode(errors="replace")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __call__(self, **kwargs) -> redis.Redis:
        kwargs.setdefault("host", "127.0.0.1")
        kwargs.setdefault("port", self.port)
        kwargs.setdefault("socket_timeout", 10)
        # No retries: redis-py 8 retries connection errors (AuthenticationError is one) with
        # backoff by default, which would hide flakiness and make failures slow.
        kwargs.setdefault("retry", Retry(NoBackoff(), 0))
        if self.password is not None:
            kwargs.setdefault("password", self.password)
        c = redis.Redis(**kwargs)
        self._clients.append(c)
        return c

    def stop(self):
        for c in self._clients:
            try:
                c.close()
            except Exception:
                pass
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def start_tern(extra: list[str] | None = None, password: str | None = None) -> Server:
    if TARGET == "redis":
        return start_redis(extra, password)
    b = tern_bin()
    if not b.exists():
        pytest.exit(f"tern binary not found at {b}: build it (cargo build -p tern) or set TERN_BIN", 2)
    argv = [str(b), "server", "--port", "0", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return Server("tern", argv + (extra or []), None, password).start()


def start_redis(extra: list[str] | None = None, password: str | None = None) -> Server:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    last: Exception | None = None
    for _ in range(5):
        port = free_port()
        argv = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--logfile", ""]
        try:
            return Server("redis-server", argv + (extra or []), port, password).start()
        except RuntimeError as e:  # port taken between free_port() and bind: try another
            last = e
    raise RuntimeError(f"redis-server did not start: {last}")


@pytest.fixture(scope="session")
def tern():
    s = start_tern()
    yield s
    alive = s.alive()
    s.stop()
    assert alive, f"tern died during the session:\n{s.log()[-4000:]}"


@pytest.fixture(scope="session")
def redis_server():
    s = start_redis()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def tern_auth():
    s = start_tern(["--requirepass", "s3cret"], password=None)
    yield s
    s.stop()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(request, tern):
    c = tern(protocol=request.param, decode_responses=True)
    yield c
    c.close()


@pytest.fixture
def k(request):
    """k("a") -> a key name unique to this test (and run)."""
    # No glob characters ([resp2] would be one), so that KEYS/SCAN patterns can use the prefix.
    name = re.sub(r"[^A-Za-z0-9_.:-]", "_", request.node.name)
    base = f"{uuid.uuid4().hex[:8]}:{name}:"

    def key(name: str = "k") -> str:
        return base + name

    return key


def err_text(text: str) -> str:
    """The message redis-py puts in the exception for a server error reply `text`.

    redis-py strips the error code for the codes it knows (ERR, NOAUTH, WRONGPASS, ...)."""
    code = text.split(" ")[0]
    if code in ("ERR", "NOAUTH", "WRONGPASS", "EXECABORT", "NOPERM", "READONLY", "LOADING", "NOSCRIPT", "OOM"):
        return text[len(code) + 1:]
    return text


def raises_err(text: str, exc=redis.ResponseError):
    """pytest.raises for a server error reply whose full text (e.g. "ERR syntax error") is `text`."""
    return pytest.raises(exc, match="^" + re.escape(err_text(text)) + "$")


def raw_cmd(client: redis.Redis, *args):
    """Sends one command and returns redis-py's parse of the reply without the per-command
    response callbacks (PING's, for example, turns any reply into a bool)."""
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        client.connection_pool.release(conn)


class Resp:
    """A minimal RESP2/RESP3 client on a plain socket that keeps every reply's type:
    ("+", b"OK"), ("-", b"ERR ..."), (":", 1), ("$", b"bulk" or None), ("*", [...] or None),
    and for RESP3 ("%", [(k, v), ...]), ("~", [...]), ("_", None), (",", b"1.5"), ("#", True),
    ("(", b"123"), ("=", b"txt:..."), (">", [...]), ("|", attrs) -- for exact comparisons."""

    def __init__(self, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def call(self, *args):
        self.send(*args)
        return self.read()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by server")
        self.buf += chunk

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        t, rest = chr(line[0]), line[1:]
        if t in "+-":
            return (t, rest)
        if t == ":":
            return (t, int(rest))
        if t in "$=!":
            n = int(rest)
            return (t, None if n < 0 else self._exact(n))
        if t in "*~>":
            n = int(rest)
            return (t, None if n < 0 else [self.read() for _ in range(n)])
        if t in "%|":
            return (t, [(self.read(), self.read()) for _ in range(int(rest))])
        if t == "_":
            return (t, None)
        if t == "#":
            return (t, rest == b"t")
        if t in ",(":
            return (t, rest)
        raise ValueError(f"bad RESP type byte in {line!r}")
