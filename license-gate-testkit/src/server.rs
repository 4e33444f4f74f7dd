//! Serving an emulator on loopback: plain or TLS, with fault injection at the
//! connection level (a service that is down closes connections at once).

use std::io;
use std::net::SocketAddr;

use axum::Router;
use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::faults::FaultControl;
use crate::tls::TestCertificate;

/// A running emulator server. It stops when dropped.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    stop: Option<oneshot::Sender<()>>,
}

impl RunningServer {
    /// Serves `router` on a free loopback port of the current tokio runtime.
    pub async fn start(
        router: Router,
        faults: FaultControl,
        tls: Option<&TestCertificate>,
    ) -> io::Result<Self> {
        Self::start_on_port(0, router, faults, tls).await
    }

    /// Serves `router` on loopback port `port` (0 picks a free one) of the
    /// current tokio runtime.
    pub async fn start_on_port(
        port: u16,
        router: Router,
        faults: FaultControl,
        tls: Option<&TestCertificate>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        match tls {
            None => {
                let listener = FaultyListener {
                    inner: listener,
                    faults,
                };
                tokio::spawn(async move {
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(shutdown)
                        .await;
                });
            }
            Some(cert) => {
                let listener = TlsListener {
                    inner: FaultyListener {
                        inner: listener,
                        faults,
                    },
                    acceptor: TlsAcceptor::from(cert.server_config()),
                };
                tokio::spawn(async move {
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(shutdown)
                        .await;
                });
            }
        }
        Ok(RunningServer {
            addr,
            tls: tls.is_some(),
            stop: Some(stop),
        })
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL: `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS.
    pub fn url(&self) -> String {
        if self.tls {
            format!("https://localhost:{}", self.addr.port())
        } else {
            format!("http://{}", self.addr)
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A loopback address with nothing listening: connecting to it is refused.
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}")
}

struct FaultyListener {
    inner: TcpListener,
    faults: FaultControl,
}

impl Listener for FaultyListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) if !self.faults.is_down() => return (stream, addr),
                // Down: close the connection before any byte is read.
                Ok((stream, _)) => drop(stream),
                Err(error) => tracing::debug!(%error, "accept failed"),
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

struct TlsListener {
    inner: FaultyListener,
    acceptor: TlsAcceptor,
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, SocketAddr) {
        loop {
            let (stream, addr) = self.inner.accept().await;
            match self.acceptor.accept(stream).await {
                Ok(tls) => return (tls, addr),
                Err(error) => tracing::debug!(%error, "TLS handshake failed"),
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}
