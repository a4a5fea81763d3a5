//! Server lifecycle: open storage, bind, serve until SIGINT/SIGTERM, then
//! drain connections and close the storage so everything is flushed.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use tokio::net::TcpListener;
use tracing::info;

use crate::api::{AppState, router};
use crate::build_info;
use crate::cli::RunArgs;
use crate::storage::{ServerStorage, open_storage};

/// `pharos run`.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.config {
        bail!(
            "configuration files are not supported yet (got --config {}); \
             run without --config to use the embedded default",
            path.display()
        );
    }
    let server = Server::start(&args.listen, &args.data).await?;
    server.serve(shutdown_signal()).await
}

/// A bound server with its storage open.
pub struct Server {
    listener: TcpListener,
    storage: Arc<dyn ServerStorage>,
    addr: SocketAddr,
}

impl Server {
    /// Opens the storage in `data_dir` and binds `listen` (`host:port`;
    /// port 0 picks a free one).
    pub async fn start(listen: &str, data_dir: &Path) -> anyhow::Result<Self> {
        // Bind first: a taken port fails fast, before a long WAL replay.
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let storage = open_storage(data_dir)?;
        let addr = listener.local_addr()?;
        info!(
            version = build_info::VERSION,
            revision = build_info::REVISION,
            listen = %addr,
            data_dir = %data_dir.display(),
            "pharos started"
        );
        Ok(Server {
            listener,
            storage,
            addr,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, lets in-flight requests finish,
    /// then closes the storage.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = AppState::new(self.storage.clone());
        let served = axum::serve(self.listener, router(state))
            .with_graceful_shutdown(shutdown)
            .await;
        info!("shutting down: closing storage");
        let closed = self.storage.close();
        served.context("HTTP server failed")?;
        closed.context("closing storage failed")?;
        info!("storage closed, bye");
        Ok(())
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => info!(signal = "SIGINT", "shutdown requested"),
        () = term => info!(signal = "SIGTERM", "shutdown requested"),
    }
}
