//! Serving a data directory that cannot be written (a read-only mount, a
//! filesystem the kernel remounted read-only after errors): a daemon
//! starts on it with what it can do without writing, and the full daemon
//! takes over, with no restart, once the directory is writable.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use tower::ServiceExt;

use crate::durable;

/// How often a daemon serving a read-only directory checks whether it is
/// writable again; also the `Retry-After` it gives meanwhile.
pub const EVERY: Duration = Duration::from_secs(2);

/// Why `dir` cannot be written, if the reason is that it is read-only (or
/// not the daemon's to write); `None` when it can be, or when creating a
/// file fails otherwise (no directory at all), which opening the daemon
/// reports more precisely.
pub fn read_only(dir: &Path) -> Option<String> {
    match durable::check_writable(dir) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
            ) =>
        {
            Some(format!(
                "the data directory {} is read-only ({e}): writes resume by themselves once it is writable",
                dir.display()
            ))
        }
        _ => None,
    }
}

/// The daemon being served (`T`) and its router, replaced once.
pub struct Takeover<T> {
    current: Arc<RwLock<(Arc<T>, Router)>>,
}

impl<T> Clone for Takeover<T> {
    fn clone(&self) -> Self {
        Takeover {
            current: self.current.clone(),
        }
    }
}

impl<T: Send + Sync + 'static> Takeover<T> {
    /// Serving `daemon` through `router`.
    pub fn new(daemon: Arc<T>, router: Router) -> Takeover<T> {
        Takeover {
            current: Arc::new(RwLock::new((daemon, router))),
        }
    }

    /// The daemon served now.
    pub fn current(&self) -> Arc<T> {
        self.current.read().expect("lock").0.clone()
    }

    /// A router that hands each request to the current daemon's.
    pub fn router(&self) -> Router {
        let current = self.current.clone();
        Router::new().fallback_service(tower::service_fn(move |request: Request| {
            let router = current.read().expect("lock").1.clone();
            router.oneshot(request)
        }))
    }

    /// Serves `daemon` through `router` from now on.
    pub fn replace(&self, daemon: Arc<T>, router: Router) {
        *self.current.write().expect("lock") = (daemon, router);
    }

    /// Checks every [`EVERY`] whether `dir` is writable; once it is,
    /// opens the full daemon with `open` (on the blocking pool), calls
    /// `started` on it, and serves it through `router_of` from then on. A
    /// daemon that does not open is logged and tried again.
    pub fn once_writable(
        &self,
        dir: PathBuf,
        open: impl Fn(&Path) -> Result<T, String> + Clone + Send + 'static,
        started: impl FnOnce(&T) + Send + 'static,
        router_of: impl FnOnce(Arc<T>) -> Router + Send + 'static,
    ) {
        let takeover = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(EVERY).await;
                if durable::check_writable(&dir).is_err() {
                    continue;
                }
                let (open, dir) = (open.clone(), dir.clone());
                match tokio::task::spawn_blocking(move || open(&dir)).await {
                    Ok(Ok(daemon)) => {
                        started(&daemon);
                        let daemon = Arc::new(daemon);
                        let router = router_of(daemon.clone());
                        takeover.replace(daemon, router);
                        tracing::warn!("the data directory is writable again: writes resumed");
                        return;
                    }
                    Ok(Err(e)) => tracing::error!(
                        error = e,
                        "the data directory is writable again, but opening it failed; still serving reads only"
                    ),
                    Err(e) => tracing::error!(error = %e, "opening the data directory failed"),
                }
            }
        });
    }
}
