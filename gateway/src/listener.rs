//! The HTTP accept loop: bounded, so slow or idle clients cannot hold the
//! process's descriptors.
//!
//! `axum::serve` sets no header-read timeout and no connection cap: 5,000
//! connections that sent half their headers stayed open indefinitely, and
//! with a 1,024-descriptor limit they made `/healthz` fail ("Too many open
//! files"). Here every connection holds a permit of a fixed pool for as long as
//! its socket lives (through a websocket upgrade too); past the pool, new
//! connections are closed at accept, and a client that does not finish its
//! request headers in time is dropped.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::Service;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A connection that has not sent a whole request head in this time is
    /// closed (also an idle keep-alive connection between requests).
    pub header_read_timeout: Duration,
    /// Sockets held at once, upgraded websockets included.
    pub max_connections: usize,
    /// Sockets one client address may hold, so one address cannot take every
    /// slot; the proxies in `exempt` (all clients arrive through them) are not counted.
    pub max_per_address: usize,
}

/// Descriptors kept free for the store, mail connections and files.
const DESCRIPTOR_RESERVE: usize = 256;

impl Limits {
    /// `configured`, or when 0 the open-file limit less a reserve.
    pub fn connections_for(configured: usize) -> usize {
        if configured > 0 {
            return configured;
        }
        open_file_limit()
            .unwrap_or(1024)
            .saturating_sub(DESCRIPTOR_RESERVE)
            .max(64)
    }
}

/// The soft `RLIMIT_NOFILE`, read from `/proc` (no `unsafe` needed).
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Serves `app` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    exempt: Vec<IpAddr>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_address = PerAddress::default();
    // Dropped senders tell connections to finish; closed receivers tell us they did.
    let (signal_tx, signal_rx) = watch::channel(());
    let (close_tx, close_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    let mut refused: u64 = 0;
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept:
                    // wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let address_slot = if exempt.contains(&peer.ip()) {
            None
        } else if let Some(slot) = per_address.take(peer.ip(), limits.max_per_address) {
            Some(slot)
        } else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(refused, address = %peer.ip(), limit = limits.max_per_address,
                    "connections per address reached: closing new ones");
            }
            drop(stream);
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(
                    refused,
                    limit = limits.max_connections,
                    "connection limit reached: closing new connections"
                );
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Counted {
            stream,
            _permit: permit,
            _address_slot: address_slot,
        });
        let router = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move {
                Ok::<_, Infallible>(
                    router
                        .call(request.map(axum::body::Body::new))
                        .await
                        .unwrap_or_else(|e| match e {}),
                )
            }
        });
        let mut signal = signal_rx.clone();
        let close = close_rx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(Some(limits.header_read_timeout));
            let mut connection = std::pin::pin!(builder.serve_connection(io, service).with_upgrades());
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::trace!(error = %e, %peer, "connection ended");
                    }
                }
                _ = signal.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(close);
        });
    }
    drop(listener);
    drop(signal_rx);
    drop(signal_tx);
    drop(close_rx);
    close_tx.closed().await;
    Ok(())
}

/// A socket that holds a connection permit until it is dropped, whoever owns
/// it by then (hyper, or the websocket it was upgraded to).
struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    _address_slot: Option<AddressSlot>,
}

/// Open sockets per client address.
#[derive(Clone, Default)]
struct PerAddress(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One socket of an address; counted until dropped.
struct AddressSlot {
    table: PerAddress,
    addr: IpAddr,
}

impl PerAddress {
    fn take(&self, addr: IpAddr, limit: usize) -> Option<AddressSlot> {
        let mut table = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let open = table.entry(addr).or_insert(0);
        if *open >= limit.max(1) {
            return None;
        }
        *open += 1;
        Some(AddressSlot {
            table: self.clone(),
            addr,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut table = self.table.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(open) = table.get_mut(&self.addr) {
            *open -= 1;
            if *open == 0 {
                table.remove(&self.addr);
            }
        }
    }
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_share_and_gets_it_back() {
        let table = PerAddress::default();
        let a: IpAddr = [192, 0, 2, 1].into();
        let first = table.take(a, 2);
        let second = table.take(a, 2);
        assert!(first.is_some() && second.is_some());
        assert!(table.take(a, 2).is_none());
        assert!(table.take([192, 0, 2, 2].into(), 2).is_some(), "another address");
        drop(first);
        assert!(table.take(a, 2).is_some(), "a closed socket frees its slot");
    }

    #[test]
    fn the_connection_cap_defaults_below_the_descriptor_limit() {
        assert_eq!(Limits::connections_for(500), 500);
        let derived = Limits::connections_for(0);
        if let Some(limit) = open_file_limit() {
            assert!(derived < limit.max(64 + DESCRIPTOR_RESERVE), "{derived} vs {limit}");
        }
        assert!(derived >= 64);
    }
}
