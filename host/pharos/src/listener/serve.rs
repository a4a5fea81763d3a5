//! The accept loop and each connection: TLS handshake, HTTP/1.1 or HTTP/2
//! (hyper), the connection's deadlines, and what every request passes
//! before the router: basic auth, the lifecycle switch, the body limits.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use http_body_util::Limited;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::ServiceExt;
use tracing::{debug, info, warn};

use super::limits::{Activity, ConnPermit, Expired, ReadDeadline, Tracked, Watched};
use super::{DRAIN_TIMEOUT, Listener, MAX_REQUEST_BODY, auth};

/// How long an idle connection told to close may take to do so.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves `app` on `tcp` until `shutdown` completes or `/-/quit` is
/// called; then stops accepting, lets requests in flight finish (up to
/// [`DRAIN_TIMEOUT`]) and returns.
pub async fn serve(
    tcp: TcpListener,
    listener: Arc<Listener>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection task holds a sender: all dropped means all closed.
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    let quit = {
        let l = listener.clone();
        async move { l.quit_requested().await }
    };
    tokio::pin!(shutdown, quit);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = &mut quit => {
                info!("shutdown requested over HTTP (/-/quit)");
                break;
            }
            p = listener.connections.acquire() => p,
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = &mut quit => {
                info!("shutdown requested over HTTP (/-/quit)");
                break;
            }
            accepted = tcp.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a
                    // moment instead of spinning, as Go's server does.
                    warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let conn = Connection {
            listener: listener.clone(),
            app: app.clone(),
            peer,
            stop: stop_rx.clone(),
            _open: open_tx.clone(),
            _permit: permit,
        };
        tokio::spawn(conn.run(stream));
    }
    drop(tcp);
    let _ = stop_tx.send(true);
    drop(open_tx);
    let open = listener.connections.active();
    if open > 0 {
        info!(connections = open, "waiting for open connections to finish");
    }
    if tokio::time::timeout(DRAIN_TIMEOUT, open_rx.recv())
        .await
        .is_err()
    {
        warn!(
            connections = listener.connections.active(),
            timeout = ?DRAIN_TIMEOUT,
            "connections still open after the drain timeout: closing them"
        );
    }
    Ok(())
}

/// One accepted connection and what it holds until it closes.
struct Connection {
    listener: Arc<Listener>,
    app: Router,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
    _open: mpsc::Sender<()>,
    _permit: ConnPermit,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let settings = self.listener.settings();
        let activity = Arc::new(Activity::new(
            settings.read_header_timeout,
            settings.idle_timeout,
        ));
        let Some(acceptor) = self.listener.tls.acceptor() else {
            let io = Watched::new(stream, activity.clone());
            return self.serve_http(io, activity).await;
        };
        // The handshake counts against the header deadline.
        let deadline = tokio::time::Instant::now() + settings.read_header_timeout;
        match tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => {
                if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                    activity.set_h2();
                }
                let io = Watched::new(tls, activity.clone());
                self.serve_http(io, activity).await;
            }
            Ok(Err(e)) if refused_client_certificate(&e) => {
                // Worth an operator's eye: a client that means to connect.
                info!(peer = %self.peer, error = %e, "client certificate refused");
            }
            Ok(Err(e)) => debug!(peer = %self.peer, error = %e, "TLS handshake failed"),
            Err(_) => debug!(peer = %self.peer, "TLS handshake timed out"),
        }
    }

    async fn serve_http<IO>(self, io: IO, activity: Arc<Activity>)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            listener,
            app,
            peer,
            mut stop,
            ..
        } = self;
        let listener_http2 = listener.settings().http2;
        let service = {
            let activity = activity.clone();
            hyper::service::service_fn(move |req: Request<Incoming>| {
                let listener = listener.clone();
                let app = app.clone();
                let in_flight = activity.start_request();
                async move {
                    let resp = handle(&listener, app, req).await;
                    Ok::<_, Infallible>(resp.map(|b| Body::new(Tracked::new(b, in_flight))))
                }
            })
        };
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // The connection's own deadlines replace hyper's header timeout.
        builder.http1().header_read_timeout(None);
        if !listener_http2 {
            builder = builder.http1_only();
        }
        let conn = builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(conn);
        let mut closing: Option<tokio::time::Instant> = None;
        loop {
            let changed = activity.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let deadline = match closing {
                Some(at) => Some(at),
                None => activity.deadline().map(|(at, _)| at),
            };
            let far = tokio::time::Instant::now() + std::time::Duration::from_secs(86_400);
            tokio::select! {
                done = conn.as_mut() => {
                    if let Err(e) = done {
                        debug!(peer = %peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                () = tokio::time::sleep_until(deadline.unwrap_or(far)), if deadline.is_some() => {
                    if closing.is_some() {
                        debug!(peer = %peer, "connection did not close in time: dropped");
                        return;
                    }
                    match activity.deadline() {
                        Some((at, why)) if at <= tokio::time::Instant::now() => match why {
                            Expired::Headers => {
                                debug!(peer = %peer, "no request headers within read_header_timeout: connection closed");
                                return;
                            }
                            Expired::Idle => {
                                debug!(peer = %peer, "idle longer than idle_timeout: connection closed");
                                conn.as_mut().graceful_shutdown();
                                closing = Some(tokio::time::Instant::now() + CLOSE_GRACE);
                            }
                        },
                        _ => {}
                    }
                }
                () = &mut changed => {}
                res = stop.changed(), if closing.is_none() => {
                    if res.is_ok() {
                        conn.as_mut().graceful_shutdown();
                    }
                    // Requests in flight finish; the drain timeout bounds them.
                    closing = Some(tokio::time::Instant::now() + DRAIN_TIMEOUT);
                }
            }
        }
    }
}

/// Whether a failed handshake refused the client's certificate (or its
/// absence), rather than failing on a scanner or a plain-HTTP client.
fn refused_client_certificate(e: &std::io::Error) -> bool {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    matches!(
        inner,
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
    )
}

/// What a request passes before the router: the rate limit, its body
/// limits, basic auth, the lifecycle endpoints; the configured headers are
/// set on every answer past the rate limit (in exporter-toolkit's order).
async fn handle(listener: &Listener, app: Router, req: Request<Incoming>) -> Response<Body> {
    if !listener.rate_allows() {
        return (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests\n").into_response();
    }
    let settings = listener.settings();
    let mut resp = answer(listener, &settings, app, req).await;
    for (name, value) in &settings.headers {
        resp.headers_mut().insert(name.clone(), value.clone());
    }
    resp
}

async fn answer(
    listener: &Listener,
    settings: &super::Settings,
    app: Router,
    req: Request<Incoming>,
) -> Response<Body> {
    let req = req.map(|b| {
        Body::new(ReadDeadline::new(
            Limited::new(b, MAX_REQUEST_BODY),
            settings.read_timeout,
        ))
    });
    if !listener.auth.allows(req.headers()).await {
        return auth::unauthorized();
    }
    let path = req.uri().path();
    if path == "/-/reload" || path == "/-/quit" {
        let lifecycle = *req.method() == Method::POST || *req.method() == Method::PUT;
        if !lifecycle {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "Only POST or PUT requests allowed",
            );
        }
        if !settings.enable_lifecycle {
            return text(StatusCode::FORBIDDEN, "Lifecycle API is not enabled.");
        }
        if path == "/-/quit" {
            return if listener.request_quit() {
                text(StatusCode::OK, "Requesting termination... Goodbye!")
            } else {
                text(StatusCode::OK, "Termination already in progress.")
            };
        }
    }
    match app.oneshot(req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    }
}

/// A plain-text answer as Prometheus' lifecycle handlers write it (no
/// trailing newline).
fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}
