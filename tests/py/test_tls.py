"""TLS with redis-py: ``ssl=True`` with CA verification and client certificates, against a
server with a ``tls-port`` (``tls-auth-clients`` yes, optional and no).

Certificates come from ``scripts/gen-test-certs.sh`` (the ``openssl`` CLI) in a temporary
directory. ``TERN_PY_TARGET=redis`` runs the same tests against Debian's redis-server.
"""

from __future__ import annotations

import pathlib
import shutil
import socket
import ssl
import subprocess
import tempfile

import pytest
import redis

from conftest import ROOT, TARGET, free_port, start_tern


@pytest.fixture(scope="module")
def certs():
    if shutil.which("openssl") is None:
        pytest.fail("openssl is missing (apt-get install openssl; ./scripts/test installs it)")
    d = pathlib.Path(tempfile.mkdtemp(prefix="pytest-tls-"))
    subprocess.run(["bash", str(ROOT / "scripts" / "gen-test-certs.sh"), str(d)], check=True,
                   stdout=subprocess.DEVNULL)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def tls_server(certs: pathlib.Path, *extra: str):
    """A server with a plain port (for the harness) and a TLS port; returns (server, tls_port)."""
    tls_port = free_port()
    args = ["--tls-port", str(tls_port),
            "--tls-cert-file", str(certs / "server.crt"),
            "--tls-key-file", str(certs / "server.key"),
            "--tls-ca-cert-file", str(certs / "ca.crt"), *extra]
    if TARGET != "redis":
        # `port 0` beside a tls-port would mean "no plain port", as in Redis.
        args = ["--port", str(free_port())] + args
    return start_tern(args), tls_port


def client(srv, port: int, certs: pathlib.Path, cert: str | None = "client", **kw) -> redis.Redis:
    kw.setdefault("ssl_ca_certs", str(certs / "ca.crt"))
    kw.setdefault("ssl_cert_reqs", "required")
    if cert is not None:
        kw["ssl_certfile"] = str(certs / f"{cert}.crt")
        kw["ssl_keyfile"] = str(certs / f"{cert}.key")
    return srv(port=port, ssl=True, decode_responses=True, **kw)


@pytest.fixture(scope="module")
def mutual(certs):
    s, port = tls_server(certs)
    yield s, port
    s.stop()


@pytest.mark.parametrize("protocol", [2, 3])
def test_commands_and_pipelines_over_tls_with_a_client_certificate(mutual, certs, protocol):
    srv, port = mutual
    c = client(srv, port, certs, protocol=protocol)
    assert c.ping() is True
    assert c.set(f"tls:{protocol}", "secret") is True
    assert c.get(f"tls:{protocol}") == "secret"
    p = c.pipeline(transaction=False)
    for i in range(500):
        p.set(f"tls:{protocol}:{i}", i)
    for i in range(500):
        p.get(f"tls:{protocol}:{i}")
    out = p.execute()
    assert out[:500] == [True] * 500
    assert out[500:] == [str(i) for i in range(500)]
    with c.pipeline() as tx:
        tx.incr(f"tls:{protocol}:n").incr(f"tls:{protocol}:n")
        assert tx.execute() == [1, 2]
    # A big value crosses many TLS records both ways.
    big = "x" * (3 * 1024 * 1024 + 17)
    c.set(f"tls:{protocol}:big", big)
    assert c.get(f"tls:{protocol}:big") == big
    # Visible over the plain port too.
    assert srv(decode_responses=True).get(f"tls:{protocol}") == "secret"


def test_a_client_without_a_certificate_is_refused_when_required(mutual, certs):
    srv, port = mutual
    c = client(srv, port, certs, cert=None)
    with pytest.raises(redis.ConnectionError):
        c.ping()
    # A certificate signed by another CA is refused as well.
    c = client(srv, port, certs, cert="other-server")
    with pytest.raises(redis.ConnectionError):
        c.ping()
    # And the server keeps serving certificate holders.
    assert client(srv, port, certs).ping() is True


def test_the_server_certificate_is_verified_by_the_client(mutual, certs):
    srv, port = mutual
    c = client(srv, port, certs, ssl_ca_certs=str(certs / "other-ca.crt"))
    with pytest.raises(redis.ConnectionError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        c.ping()
    # With host name checking on: the certificate names 127.0.0.1.
    c = client(srv, port, certs, ssl_check_hostname=True)
    assert c.ping() is True


def test_optional_client_authentication_serves_both(certs):
    srv, port = tls_server(certs, "--tls-auth-clients", "optional")
    try:
        assert client(srv, port, certs).ping() is True
        assert client(srv, port, certs, cert=None).ping() is True
        with pytest.raises(redis.ConnectionError):
            client(srv, port, certs, cert="other-server").ping()
        assert srv(decode_responses=True).config_get("tls-auth-clients") == {"tls-auth-clients": "optional"}
    finally:
        srv.stop()


def test_no_client_authentication_and_tls13_only(certs):
    srv, port = tls_server(certs, "--tls-auth-clients", "no", "--tls-protocols", "TLSv1.3")
    try:
        c = client(srv, port, certs, cert=None, ssl_min_version=ssl.TLSVersion.TLSv1_2)
        assert c.ping() is True
        conn = c.connection_pool.get_connection()
        try:
            assert conn._sock.version() == "TLSv1.3"
        finally:
            c.connection_pool.release(conn)
        # A client that only speaks TLS 1.2 is refused (redis-py has no maximum version: the
        # handshake is made with Python's ssl module directly).
        ctx = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with pytest.raises(ssl.SSLError):
                ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    finally:
        srv.stop()
