//! Connections that a handler can cut: the listener behind the drop-connection fault.
//!
//! axum hands a handler no way to close its connection, so the listener wraps each TCP
//! stream with a flag the handler can set (reached through `ConnectInfo`); once set, every
//! write fails, and hyper closes the socket before a byte of the answer is sent.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Lets a handler close its connection without answering (the drop-connection fault).
#[derive(Debug, Clone)]
pub(crate) struct ConnectionControl(Arc<AtomicBool>);

impl ConnectionControl {
    pub(crate) fn drop_connection(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Connected<IncomingStream<'_, FaultListener>> for ConnectionControl {
    fn connect_info(stream: IncomingStream<'_, FaultListener>) -> Self {
        Self(stream.io().dropped.clone())
    }
}

/// A TCP listener whose connections can be cut from inside a handler.
pub(crate) struct FaultListener(pub(crate) TcpListener);

impl Listener for FaultListener {
    type Io = FaultIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let io = FaultIo {
                        stream,
                        dropped: Arc::new(AtomicBool::new(false)),
                    };
                    return (io, addr);
                }
                // Out of file descriptors or similar: wait a little rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection that fails every write once its handler asked to drop it, so hyper closes
/// the socket before a single byte of the answer is sent.
pub(crate) struct FaultIo {
    stream: TcpStream,
    dropped: Arc<AtomicBool>,
}

impl FaultIo {
    fn check(&self) -> io::Result<()> {
        if self.dropped.load(Ordering::SeqCst) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection dropped by an injected fault",
            ))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for FaultIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
