//! What bounds a connection: how many may be open ([`ConnLimit`]), how long
//! one may take to send a request's headers or sit idle ([`Activity`], fed
//! by [`Watched`] reads and by requests starting and finishing), and how
//! long a request body may take to arrive ([`ReadDeadline`]).
//!
//! The deadlines follow Go's `net/http` server: a new connection must send
//! its first request's headers (after its TLS handshake) within the
//! header timeout; between requests a keep-alive connection may wait the
//! idle timeout for the next request's first byte, from which its headers
//! again have the header timeout. HTTP/2 connections (found by their
//! preface, or by ALPN) only have the first and the idle deadline: their
//! frames arrive at any time.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};

/// Open connections at most; `None`: no limit. The accept loop waits for
/// a slot before it accepts, so connections beyond the limit wait in the
/// kernel's backlog, as with Go's `netutil.LimitListener`.
pub struct ConnLimit {
    limit: Mutex<Option<usize>>,
    active: AtomicUsize,
    released: Notify,
    /// When reaching the limit was last logged (at most once a minute).
    warned: Mutex<Option<Instant>>,
}

/// A slot, given back when dropped.
pub struct ConnPermit(Arc<ConnLimit>);

impl Drop for ConnPermit {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
        self.0.released.notify_one();
    }
}

impl ConnLimit {
    pub fn new(limit: Option<usize>) -> Self {
        ConnLimit {
            limit: Mutex::new(limit),
            active: AtomicUsize::new(0),
            released: Notify::new(),
            warned: Mutex::new(None),
        }
    }

    /// A new limit; open connections beyond it are not closed.
    pub fn set_limit(&self, limit: Option<usize>) {
        *self.limit.lock() = limit;
        self.released.notify_one();
    }

    /// Open connections now.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    fn try_acquire(self: &Arc<Self>) -> Option<ConnPermit> {
        let limit = *self.limit.lock();
        let mut n = self.active.load(Ordering::Acquire);
        loop {
            if limit.is_some_and(|l| n >= l) {
                return None;
            }
            match self
                .active
                .compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(ConnPermit(self.clone())),
                Err(now) => n = now,
            }
        }
    }

    /// Waits for a slot. One waiter (the accept loop): a release between
    /// the failed try and the wait leaves a stored notification.
    pub async fn acquire(self: &Arc<Self>) -> ConnPermit {
        loop {
            if let Some(p) = self.try_acquire() {
                return p;
            }
            self.warn();
            self.released.notified().await;
        }
    }

    fn warn(&self) {
        let mut warned = self.warned.lock();
        if warned.is_some_and(|at| at.elapsed() < Duration::from_secs(60)) {
            return;
        }
        *warned = Some(Instant::now());
        tracing::warn!(
            limit = ?*self.limit.lock(),
            "connection limit reached: new connections wait until one closes (logged at most once a minute)"
        );
    }
}

/// Where a connection stands, for its deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request's headers since this instant.
    Headers(Instant),
    /// Requests in flight: their own deadlines apply.
    Busy,
    /// No request since this instant.
    Idle(Instant),
}

/// Why a connection is closed by its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// Headers did not arrive in time: close now.
    Headers,
    /// Idle too long: close gracefully.
    Idle,
}

/// One connection's activity: requests in flight and its phase.
pub struct Activity {
    state: Mutex<State>,
    /// Wakes the connection's watchdog when a deadline moves earlier.
    pub changed: Notify,
}

struct State {
    phase: Phase,
    in_flight: usize,
    /// HTTP/2: reads do not start a header deadline.
    h2: bool,
    /// Nothing read yet (to recognize HTTP/2's preface).
    fresh: bool,
    header_timeout: Duration,
    idle_timeout: Duration,
}

impl Activity {
    /// A connection accepted now.
    pub fn new(header_timeout: Duration, idle_timeout: Duration) -> Self {
        Activity {
            state: Mutex::new(State {
                phase: Phase::Headers(Instant::now()),
                in_flight: 0,
                h2: false,
                fresh: true,
                header_timeout,
                idle_timeout,
            }),
            changed: Notify::new(),
        }
    }

    /// The connection speaks HTTP/2 (negotiated by ALPN).
    pub fn set_h2(&self) {
        self.state.lock().h2 = true;
    }

    /// Bytes arrived: an idle HTTP/1 connection starts a request.
    fn on_read(&self, data: &[u8]) {
        let mut s = self.state.lock();
        if s.fresh {
            s.fresh = false;
            if data.starts_with(b"PRI * HTTP/2") {
                s.h2 = true;
            }
        }
        if !s.h2 && matches!(s.phase, Phase::Idle(_)) {
            s.phase = Phase::Headers(Instant::now());
            drop(s);
            self.changed.notify_one();
        }
    }

    /// A request's headers arrived; the guard marks its end (response
    /// sent or dropped).
    pub fn start_request(self: &Arc<Self>) -> InFlight {
        let mut s = self.state.lock();
        s.in_flight += 1;
        s.phase = Phase::Busy;
        InFlight(self.clone())
    }

    fn finish_request(&self) {
        let mut s = self.state.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.in_flight == 0 {
            s.phase = Phase::Idle(Instant::now());
            drop(s);
            self.changed.notify_one();
        }
    }

    /// The next deadline and what it means, `None` while busy.
    pub fn deadline(&self) -> Option<(Instant, Expired)> {
        let s = self.state.lock();
        match s.phase {
            Phase::Headers(since) => Some((since + s.header_timeout, Expired::Headers)),
            Phase::Idle(since) => Some((since + s.idle_timeout, Expired::Idle)),
            Phase::Busy => None,
        }
    }
}

/// Ends a request's activity when dropped.
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.finish_request();
    }
}

/// A connection's I/O, reporting reads to its [`Activity`].
pub struct Watched<IO> {
    io: IO,
    activity: Arc<Activity>,
}

impl<IO> Watched<IO> {
    pub fn new(io: IO, activity: Arc<Activity>) -> Self {
        Watched { io, activity }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled
            && buf.filled().len() > before
        {
            self.activity.on_read(&buf.filled()[before..]);
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// The request body took longer than `read_timeout`.
#[derive(Debug, thiserror::Error)]
#[error("request body not received within the read timeout of {0:?}")]
pub struct ReadTimedOut(Duration);

/// A request body that fails once its deadline passes (Go's
/// `ReadTimeout`, counted from the request's start).
pub struct ReadDeadline<B> {
    inner: B,
    sleep: Pin<Box<Sleep>>,
    timeout: Duration,
}

impl<B> ReadDeadline<B> {
    pub fn new(inner: B, timeout: Duration) -> Self {
        ReadDeadline {
            inner,
            sleep: Box::pin(tokio::time::sleep(timeout)),
            timeout,
        }
    }
}

impl<B> Body for ReadDeadline<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(ReadTimedOut(self.timeout))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that ends its request's activity when dropped (sent
/// whole, or the connection gone).
pub struct Tracked<B> {
    inner: B,
    _in_flight: InFlight,
}

impl<B> Tracked<B> {
    pub fn new(inner: B, in_flight: InFlight) -> Self {
        Tracked {
            inner,
            _in_flight: in_flight,
        }
    }
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The deadline's kind and how far away it is, in whole seconds.
    fn due(a: &Activity) -> Option<(u64, Expired)> {
        a.deadline().map(|(at, why)| {
            let left = at.saturating_duration_since(Instant::now());
            ((left.as_millis() as u64 + 500) / 1000, why)
        })
    }

    #[test]
    fn deadlines_follow_go() {
        let a = Arc::new(Activity::new(
            Duration::from_secs(10),
            Duration::from_secs(300),
        ));
        assert_eq!(due(&a), Some((10, Expired::Headers)));
        let req = a.start_request();
        assert_eq!(due(&a), None);
        // Bytes of a request body do not start a header deadline.
        a.on_read(b"GET / HTTP/1.1\r\n");
        assert_eq!(due(&a), None);
        drop(req);
        assert_eq!(due(&a), Some((300, Expired::Idle)));
        // The next request's first byte: its headers have 10s.
        a.on_read(b"G");
        assert_eq!(due(&a), Some((10, Expired::Headers)));
    }

    #[test]
    fn http2_reads_keep_the_idle_deadline() {
        let a = Arc::new(Activity::new(
            Duration::from_secs(10),
            Duration::from_secs(300),
        ));
        a.on_read(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        drop(a.start_request());
        a.on_read(b"\x00\x00\x08\x06");
        assert_eq!(due(&a), Some((300, Expired::Idle)));
    }

    #[tokio::test]
    async fn the_limit_waits_for_a_slot() {
        let limit = Arc::new(ConnLimit::new(Some(1)));
        let first = limit.acquire().await;
        assert!(limit.try_acquire().is_none());
        let waiter = {
            let limit = limit.clone();
            tokio::spawn(async move { limit.acquire().await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(first);
        let second = waiter.await;
        assert!(second.is_ok());
        assert_eq!(limit.active(), 1);
        limit.set_limit(None);
        let more: Vec<_> = (0..5).filter_map(|_| limit.try_acquire()).collect();
        assert_eq!(more.len(), 5);
    }
}
