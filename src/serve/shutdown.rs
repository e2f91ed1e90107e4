//! SIGTERM and SIGINT become one shutdown flag every part of the service watches: the scheduler
//! stops claiming and drains, the HTTP server stops accepting.

use tokio::sync::watch;

/// The flag's sender side; `true` once a stop was asked for.
pub fn channel() -> (watch::Sender<bool>, watch::Receiver<bool>) {
    watch::channel(false)
}

/// Waits for SIGTERM (systemd, Docker, Kubernetes) or SIGINT (Ctrl-C), then raises the flag.
/// When a handler cannot be installed, the other one still works.
pub async fn on_signal(flag: watch::Sender<bool>) {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => eprintln!("serve: SIGINT: stopping"),
        () = terminate => eprintln!("serve: SIGTERM: stopping"),
    }
    let _ = flag.send(true);
}

/// Resolves once the flag is raised (or its sender is gone).
pub async fn raised(mut flag: watch::Receiver<bool>) {
    while !*flag.borrow_and_update() {
        if flag.changed().await.is_err() {
            return;
        }
    }
}
