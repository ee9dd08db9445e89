//! Running the daemon: the HTTP server, the background tick, and graceful shutdown.
//!
//! On shutdown the listener stops accepting, in-flight requests get the configured grace
//! period to finish (an Alertmanager POST that is mid-enqueue completes and is answered),
//! and the tick loop stops after its current round, so no outbox claim is abandoned
//! half-way (an abandoned claim is retried after its lease anyway).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::http::{self, alertmanager::record_deliveries};

/// A running daemon.
#[derive(Debug)]
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    ticker: JoinHandle<()>,
    rbm_worker: Option<JoinHandle<()>>,
    grace: std::time::Duration,
}

/// Serves `app` on `listener` and starts the tick loop.
///
/// # Errors
/// The listener's address cannot be read.
pub fn start(app: Arc<App>, listener: TcpListener) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = watch::channel(false);
    let router = http::router(Arc::clone(&app));
    let mut server_stop = stop.subscribe();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = server_stop.wait_for(|s| *s).await;
        })
        .await
    });
    let rbm_worker = app
        .rbm
        .as_ref()
        .and_then(crate::rbm::RbmInbound::take_receiver)
        .map(|rx| tokio::spawn(crate::rbm::worker(Arc::clone(&app), rx, stop.subscribe())));
    let ticker_app = Arc::clone(&app);
    let ticker = tokio::spawn(async move {
        let mut interval = tokio::time::interval(ticker_app.tick_interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
            match ticker_app.orchestrator.tick().await {
                Ok(report) => {
                    record_deliveries(&ticker_app.metrics, &report.escalated);
                    record_deliveries(&ticker_app.metrics, &report.released);
                }
                Err(e) => tracing::warn!(error = %e, "pipeline tick failed; retrying next tick"),
            }
        }
    });
    tracing::info!(%addr, "alertd listening");
    Ok(Running {
        addr,
        stop,
        server,
        ticker,
        rbm_worker,
        grace: app.shutdown_grace,
    })
}

impl Running {
    /// Stops accepting, lets in-flight requests finish within the grace period, stops the
    /// tick loop.
    ///
    /// # Errors
    /// The server failed, or did not drain within the grace period.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        let _ = self.ticker.await;
        if let Some(worker) = self.rbm_worker {
            // Events already answered 200 are applied before the process exits.
            let _ = worker.await;
        }
        match tokio::time::timeout(self.grace, self.server).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(std::io::Error::other(join)),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "in-flight requests did not finish within the shutdown grace period",
            )),
        }
    }
}
