//! TLS in the server: the current rustls contexts, rebuilt atomically by CONFIG SET, and the
//! stream types the connection loop, the replication feeder and the replica link run over.
//!
//! Where TLS sits (see ARCHITECTURE.md, "TLS"): `net.rs` binds `tls-port` beside `port`; a
//! worker that accepts on it performs the handshake in the connection's own task
//! ([`accept`]) and then runs the same `conn::serve` as for plain TCP, monomorphised over the
//! stream type ([`Transport`]), so the plain path has no TLS branch and no dynamic dispatch.
//! A replica with `tls-replication yes` wraps its link to the primary ([`connect`]). The
//! contexts live behind one lock that is read once per accepted connection or outgoing link;
//! CONFIG SET of a `tls-*` directive builds new contexts from the new values first and swaps
//! them in only if that succeeded, so a bad certificate leaves the old context serving.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use tern_config::Config;
use tern_tls::{ClientAuth, Contexts, Settings};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::server::Server;

/// A TLS handshake that has not finished after this long is dropped, so a peer that stops
/// halfway holds no connection for long.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The current contexts (None until TLS is configured).
#[derive(Default)]
pub struct Tls {
    ctx: RwLock<Option<Arc<Contexts>>>,
}

impl Tls {
    /// The current contexts.
    pub fn get(&self) -> Option<Arc<Contexts>> {
        self.ctx.read().clone()
    }

    fn set(&self, c: Contexts) {
        *self.ctx.write() = Some(Arc::new(c));
    }
}

/// The `tls-*` directives that shape the contexts.
pub fn settings(c: &Config) -> Settings {
    let s = |name: &str| {
        c.get_string_bytes(name)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    };
    let need_ca = c.get_bool("tls-replication").unwrap_or(false)
        || c.get_bool("tls-cluster").unwrap_or(false);
    Settings {
        cert_file: s("tls-cert-file"),
        key_file: s("tls-key-file"),
        key_file_pass: s("tls-key-file-pass"),
        client_cert_file: s("tls-client-cert-file"),
        client_key_file: s("tls-client-key-file"),
        client_key_file_pass: s("tls-client-key-file-pass"),
        ca_cert_file: s("tls-ca-cert-file"),
        ca_cert_dir: s("tls-ca-cert-dir"),
        auth_clients: match c.get_str("tls-auth-clients").as_deref() {
            Some("no") => ClientAuth::No,
            Some("optional") => ClientAuth::Optional,
            _ => ClientAuth::Yes,
        },
        protocols: s("tls-protocols"),
        ciphers: s("tls-ciphers"),
        ciphersuites: s("tls-ciphersuites"),
        prefer_server_ciphers: c.get_bool("tls-prefer-server-ciphers").unwrap_or(false),
        session_caching: c.get_bool("tls-session-caching").unwrap_or(true),
        session_cache_size: c.get_u64("tls-session-cache-size").unwrap_or(20480) as usize,
        need_ca,
    }
}

/// Whether the configuration uses TLS at all (a TLS port, or TLS for outgoing links), as
/// Redis decides whether to configure its TLS context.
pub fn wanted(c: &Config) -> bool {
    c.get_u64("tls-port").unwrap_or(0) > 0
        || c.get_bool("tls-replication").unwrap_or(false)
        || c.get_bool("tls-cluster").unwrap_or(false)
}

/// Builds the contexts from `config` when TLS is wanted, without installing them.
pub fn build(config: &Config) -> Result<Option<Contexts>, tern_tls::Error> {
    if !wanted(config) {
        return Ok(None);
    }
    tern_tls::build(&settings(config)).map(Some)
}

/// Installs contexts built by [`build`].
pub fn install(srv: &Server, ctx: Option<Contexts>) {
    if let Some(c) = ctx {
        srv.tls.set(c);
    }
}

/// A stream a connection is served over: plain TCP or TLS over TCP. The connection loop is
/// generic over it, so each kind gets its own compiled copy.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// The TCP socket underneath (addresses, the fd for CLIENT KILL).
    fn tcp(&self) -> &TcpStream;
}

impl Transport for TcpStream {
    #[inline]
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Transport for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

impl Transport for Link {
    fn tcp(&self) -> &TcpStream {
        match self {
            Link::Plain(s) => s,
            Link::Tls(s) => s.get_ref().0,
        }
    }
}

/// Performs the server side of the handshake on an accepted connection, then serves it.
/// A failed or stalled handshake closes the socket and is logged at debug level (a port
/// scanner or a plain-text client is no event).
pub async fn accept(srv: Arc<Server>, tcp: TcpStream, stats: Arc<crate::stats::WorkerStats>) {
    let Some(ctx) = srv.tls.get() else {
        return;
    };
    let _ = tcp.set_nodelay(true);
    let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let acceptor = tokio_rustls::TlsAcceptor::from(ctx.server.clone());
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => crate::conn::serve(srv, stream, stats).await,
        Ok(Err(e)) => {
            tracing::debug!(peer, error = %e, "Error accepting a client connection: TLS handshake failed");
        }
        Err(_) => {
            tracing::debug!(
                peer,
                "Error accepting a client connection: TLS handshake timed out"
            );
        }
    }
}

/// An outgoing connection (a replica's link to its primary): plain, or TLS.
pub enum Link {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Opens a connection to `host:port`, over TLS when `tls` is set (verifying the peer against
/// the configured CA, presenting the client certificate).
pub async fn connect(srv: &Server, host: &str, port: u16, tls: bool) -> std::io::Result<Link> {
    let tcp = TcpStream::connect((host, port)).await?;
    let _ = tcp.set_nodelay(true);
    if !tls {
        return Ok(Link::Plain(tcp));
    }
    let Some(ctx) = srv.tls.get() else {
        return Err(std::io::Error::other(
            "tls-replication is set but TLS is not configured",
        ));
    };
    let name = tern_tls::server_name(host, None).map_err(std::io::Error::other)?;
    let connector = tokio_rustls::TlsConnector::from(ctx.client.clone());
    let s = connector.connect(name, tcp).await.map_err(|e| {
        std::io::Error::other(format!("TLS handshake with the primary failed: {e}"))
    })?;
    Ok(Link::Tls(Box::new(s)))
}

impl AsyncRead for Link {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Link::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Link::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Link {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Link::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            Link::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Link::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Link::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Link::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Link::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
