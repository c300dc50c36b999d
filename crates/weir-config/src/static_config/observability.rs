//! `api`, `ping`, `metrics`, `log`, `accessLog`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration::Duration;

/// `api`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Api {
    /// Serve the API and dashboard on entrypoint `traefik` without a router.
    pub insecure: bool,
    /// Dashboard (default true when `api` is set).
    pub dashboard: bool,
    /// `/debug/vars`, `/debug/pprof`.
    pub debug: bool,
    /// Base path (default `/`).
    pub base_path: String,
    /// Hide the dashboard advertisement.
    pub disable_dashboard_ad: bool,
    /// Dashboard title.
    pub dashboard_name: String,
}

impl Default for Api {
    fn default() -> Self {
        Api {
            insecure: false,
            dashboard: true,
            debug: false,
            base_path: "/".into(),
            disable_dashboard_ad: false,
            dashboard_name: String::new(),
        }
    }
}

/// `ping`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Ping {
    /// Entrypoint serving `/ping` (default `traefik`).
    pub entry_point: String,
    /// Do not create the router; route to `ping@internal` yourself.
    pub manual_routing: bool,
    /// Status during graceful shutdown (default 503).
    pub terminating_status_code: i64,
}

impl Default for Ping {
    fn default() -> Self {
        Ping {
            entry_point: "traefik".into(),
            manual_routing: false,
            terminating_status_code: 503,
        }
    }
}

/// `metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Metrics {
    /// Prometheus exposition.
    pub prometheus: Option<Prometheus>,
    /// Not supported by weir (kept opaque).
    pub datadog: Option<serde_json::Value>,
    /// Not supported by weir (kept opaque).
    #[serde(rename = "statsD")]
    pub statsd: Option<serde_json::Value>,
    /// Not supported by weir (kept opaque).
    #[serde(rename = "influxDB2")]
    pub influxdb2: Option<serde_json::Value>,
    /// Not supported by weir (kept opaque).
    pub otlp: Option<serde_json::Value>,
    /// Add internal routers/services to metrics.
    pub add_internals: bool,
}

/// `metrics.prometheus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Prometheus {
    /// Histogram buckets in seconds (default 0.1, 0.3, 1.2, 5).
    pub buckets: Vec<f64>,
    /// Entrypoint labels (default true).
    pub add_entry_points_labels: bool,
    /// Router labels (default false).
    pub add_routers_labels: bool,
    /// Service labels (default true).
    pub add_services_labels: bool,
    /// Entrypoint serving `/metrics` (weir's default: `metrics`, created on `:9100` when
    /// missing; Traefik's is `traefik`).
    pub entry_point: String,
    /// Do not create the router; route to `prometheus@internal` yourself.
    pub manual_routing: bool,
    /// Label name → request header, on `*_requests_total`.
    pub header_labels: BTreeMap<String, String>,
    /// Metric name prefix (weir's addition; default `weir`, set `traefik` for drop-in
    /// dashboards).
    pub prefix: String,
}

impl Default for Prometheus {
    fn default() -> Self {
        Prometheus {
            buckets: vec![0.1, 0.3, 1.2, 5.0],
            add_entry_points_labels: true,
            add_routers_labels: false,
            add_services_labels: true,
            entry_point: super::METRICS_ENTRYPOINT.into(),
            manual_routing: false,
            header_labels: BTreeMap::new(),
            prefix: "weir".into(),
        }
    }
}

/// `log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Log {
    /// TRACE, DEBUG, INFO, WARN, ERROR (default), FATAL, PANIC.
    pub level: String,
    /// `common` (default) or `json`.
    pub format: String,
    /// Log file (default stdout).
    pub file_path: String,
    /// No colours.
    pub no_color: bool,
    /// Rotation: max size in MB (default 100).
    pub max_size: i64,
    /// Rotation: max age in days.
    pub max_age: i64,
    /// Rotation: max backups.
    pub max_backups: i64,
    /// Rotation: compress.
    pub compress: bool,
    /// Not supported by weir (kept opaque).
    pub otlp: Option<serde_json::Value>,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            level: "ERROR".into(),
            format: "common".into(),
            file_path: String::new(),
            no_color: false,
            max_size: 100,
            max_age: 0,
            max_backups: 0,
            compress: false,
            otlp: None,
        }
    }
}

/// `accessLog`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AccessLog {
    /// File (default stdout).
    pub file_path: String,
    /// `common` (default), `genericCLF`, `json`.
    pub format: String,
    /// Lines queued for writing before new ones are dropped (0: 4096; weir never writes on
    /// the request's path, where Traefik writes synchronously for 0).
    pub buffering_size: i64,
    /// Log internal routers too.
    pub add_internals: bool,
    /// Which requests are logged.
    pub filters: AccessLogFilters,
    /// Which fields are kept.
    pub fields: AccessLogFields,
    /// Not supported by weir (kept opaque).
    pub otlp: Option<serde_json::Value>,
}

impl Default for AccessLog {
    fn default() -> Self {
        AccessLog {
            file_path: String::new(),
            format: "common".into(),
            buffering_size: 0,
            add_internals: false,
            filters: AccessLogFilters::default(),
            fields: AccessLogFields::default(),
            otlp: None,
        }
    }
}

/// `accessLog.filters`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AccessLogFilters {
    /// Status codes or ranges (`"400-499"`).
    pub status_codes: Vec<String>,
    /// Log requests that were retried.
    pub retry_attempts: bool,
    /// Log requests slower than this.
    pub min_duration: Duration,
}

/// `accessLog.fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AccessLogFields {
    /// `keep` (default) or `drop`.
    pub default_mode: String,
    /// Per-field mode.
    pub names: BTreeMap<String, String>,
    /// Header fields.
    pub headers: AccessLogHeaders,
}

impl Default for AccessLogFields {
    fn default() -> Self {
        AccessLogFields {
            default_mode: "keep".into(),
            names: BTreeMap::new(),
            headers: AccessLogHeaders::default(),
        }
    }
}

/// `accessLog.fields.headers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AccessLogHeaders {
    /// `drop` (default), `keep`, `redact`.
    pub default_mode: String,
    /// Per-header mode.
    pub names: BTreeMap<String, String>,
}

impl Default for AccessLogHeaders {
    fn default() -> Self {
        AccessLogHeaders {
            default_mode: "drop".into(),
            names: BTreeMap::new(),
        }
    }
}
