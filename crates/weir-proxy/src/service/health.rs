//! Active health checks (`loadBalancer.healthCheck`) and the registry that keeps their state
//! across configuration reloads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, header};
use http_body_util::BodyExt;
use tokio::sync::watch;

use crate::body;
use crate::upstream::{ServerTarget, UpstreamClient};

/// `healthCheck` settings of a load balancer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HealthCheckConfig {
    /// `scheme`: replaces the server URL's scheme for checks.
    pub scheme: Option<String>,
    /// `path` (with an optional query) requested on each server.
    pub path: String,
    /// `method` (Traefik: GET).
    pub method: Method,
    /// `status`: the one status that means healthy; none means any 2xx or 3xx.
    pub status: Option<u16>,
    /// `port`: replaces the server URL's port for checks.
    pub port: Option<u16>,
    /// `interval` between checks while healthy (Traefik: 30 s).
    pub interval: Duration,
    /// `unhealthyInterval` between checks while unhealthy (Traefik: `interval`).
    pub unhealthy_interval: Option<Duration>,
    /// `timeout` of one check (Traefik: 5 s).
    pub timeout: Duration,
    /// `hostname`: the `Host` header of checks, instead of the server's authority.
    pub hostname: Option<String>,
    /// `headers` added to checks.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Default for HealthCheckConfig {
    fn default() -> Self {
        Self {
            scheme: None,
            path: "/".into(),
            method: Method::GET,
            status: None,
            port: None,
            interval: Duration::from_secs(30),
            unhealthy_interval: None,
            timeout: Duration::from_secs(5),
            hostname: None,
            headers: Vec::new(),
        }
    }
}

/// The health of one server of one service, shared by every configuration that checks it
/// the same way. Servers start healthy; the first check runs at once, then every interval.
/// Dropping the last reference stops the checking task.
#[derive(Debug)]
pub struct ServerHealth {
    healthy: AtomicBool,
    _stop: watch::Sender<()>,
}

impl ServerHealth {
    /// Whether the last check passed (or none finished yet).
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct HealthKey {
    service: String,
    url: Arc<str>,
    config: HealthCheckConfig,
    /// The client's address: a changed transport is a new client, and a new check.
    client: usize,
}

/// Health state by (service, server URL, check settings, transport client), so that a
/// reload that keeps a service's server and check unchanged keeps its state and its single
/// checking task.
///
/// The registry holds weak references: state lives while some compiled load balancer
/// uses it. Build the next configuration while the current one is still installed and the
/// unchanged servers carry over. Cloning shares the registry.
#[derive(Debug, Clone, Default)]
pub struct HealthRegistry {
    entries: Arc<Mutex<HashMap<HealthKey, Weak<ServerHealth>>>>,
}

impl HealthRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The health of `target` in `service`, checked with `config` through `client`: the live
    /// state if one exists, else a new one whose checking task starts now. Must run inside a
    /// Tokio runtime (a `spawn_blocking` thread of one is fine); outside, the server simply
    /// stays healthy and a warning is logged.
    pub fn watch(
        &self,
        service: &str,
        target: &ServerTarget,
        client: &Arc<UpstreamClient>,
        config: &HealthCheckConfig,
    ) -> Arc<ServerHealth> {
        let key = HealthKey {
            service: service.to_owned(),
            url: target.url().clone(),
            config: config.clone(),
            client: Arc::as_ptr(client) as usize,
        };
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|_, w| w.strong_count() > 0);
        if let Some(h) = entries.get(&key).and_then(Weak::upgrade) {
            return h;
        }
        let (stop, stopped) = watch::channel(());
        let health = Arc::new(ServerHealth {
            healthy: AtomicBool::new(true),
            _stop: stop,
        });
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let check = Check::new(target, config);
                match check {
                    Ok(check) => {
                        rt.spawn(run(
                            Arc::downgrade(&health),
                            stopped,
                            client.clone(),
                            check,
                            service.to_owned(),
                        ));
                    }
                    Err(e) => {
                        tracing::warn!(service, server = %target.url(), error = %e, "invalid health check, not checking")
                    }
                }
            }
            Err(_) => {
                tracing::warn!(service, "no Tokio runtime: health checks not started");
            }
        }
        entries.insert(key, Arc::downgrade(&health));
        health
    }

    /// How many server health states are alive.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
    }

    /// Whether no state is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One server's check, resolved once.
struct Check {
    target: ServerTarget,
    path: http::Uri,
    method: Method,
    host: Option<HeaderValue>,
    headers: Vec<(HeaderName, HeaderValue)>,
    status: Option<u16>,
    timeout: Duration,
    interval: Duration,
    unhealthy_interval: Duration,
}

impl Check {
    fn new(target: &ServerTarget, config: &HealthCheckConfig) -> Result<Self, String> {
        let target = if config.scheme.is_some() || config.port.is_some() {
            let scheme = config.scheme.clone().unwrap_or_else(|| {
                target
                    .url()
                    .split("://")
                    .next()
                    .unwrap_or("http")
                    .to_owned()
            });
            let host = target.authority().host();
            let port = config.port.unwrap_or_else(|| target.port());
            ServerTarget::parse(&format!("{scheme}://{host}:{port}"), false)
                .map_err(|e| e.to_string())?
        } else {
            ServerTarget::parse(target.url(), false).map_err(|e| e.to_string())?
        };
        let path = if config.path.starts_with('/') {
            config.path.clone()
        } else {
            format!("/{}", config.path)
        };
        Ok(Self {
            target,
            path: path.parse().map_err(|e| format!("path {path:?}: {e}"))?,
            method: config.method.clone(),
            host: config
                .hostname
                .as_deref()
                .map(HeaderValue::from_str)
                .transpose()
                .map_err(|e| format!("hostname: {e}"))?,
            headers: config.headers.clone(),
            status: config.status,
            timeout: config.timeout,
            interval: config.interval.max(Duration::from_millis(10)),
            unhealthy_interval: config
                .unhealthy_interval
                .unwrap_or(config.interval)
                .max(Duration::from_millis(10)),
        })
    }

    async fn probe(&self, client: &UpstreamClient) -> Result<(), String> {
        let mut req = Request::new(body::empty());
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.path.clone();
        for (name, value) in &self.headers {
            req.headers_mut().insert(name.clone(), value.clone());
        }
        if let Some(host) = &self.host {
            req.headers_mut().insert(header::HOST, host.clone());
        }
        let exchange = async {
            let resp = client
                .forward(req, &self.target)
                .await
                .map_err(|e| e.to_string())?;
            let status = resp.status();
            // Read a little of the body so a small answer leaves the connection reusable.
            let mut body = resp.into_body();
            let mut read = 0usize;
            while read < 64 * 1024 {
                match body.frame().await {
                    Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len()),
                    _ => break,
                }
            }
            let ok = match self.status {
                Some(want) => status.as_u16() == want,
                None => status.is_success() || status.is_redirection(),
            };
            if ok {
                Ok(())
            } else {
                Err(format!("status {status}"))
            }
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("timed out after {:?}", self.timeout)))
    }
}

async fn run(
    health: Weak<ServerHealth>,
    mut stopped: watch::Receiver<()>,
    client: Arc<UpstreamClient>,
    check: Check,
    service: String,
) {
    loop {
        let result = tokio::select! {
            biased;
            _ = stopped.changed() => return,
            r = check.probe(&client) => r,
        };
        let Some(h) = health.upgrade() else { return };
        let healthy = result.is_ok();
        let was = h.healthy.swap(healthy, Ordering::Relaxed);
        drop(h);
        if was != healthy {
            match &result {
                Ok(()) => {
                    tracing::info!(service, server = %check.target.url(), "server is healthy again")
                }
                Err(e) => {
                    tracing::warn!(service, server = %check.target.url(), error = %e, "server is unhealthy")
                }
            }
        }
        let wait = if healthy {
            check.interval
        } else {
            check.unhealthy_interval
        };
        tokio::select! {
            biased;
            _ = stopped.changed() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
