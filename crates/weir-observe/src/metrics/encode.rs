//! The Prometheus text exposition format (version 0.0.4).

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Metrics, SeriesSet, SeriesSnapshot, VALUE_SEPARATOR, label, lock};
use crate::labels::SeriesKey;

/// The family kinds of one scope (entrypoint, router, service).
struct Scope<'a> {
    name: &'a str,
    what: &'a str,
}

pub(super) fn encode(m: &Metrics) -> String {
    let p = &m.config.prefix;
    let mut out = String::with_capacity(4096);

    scalar(
        &mut out,
        p,
        "config_reloads_total",
        "counter",
        "Configuration reloads.",
        m.reloads.load(Ordering::Relaxed),
    );
    scalar(
        &mut out,
        p,
        "config_last_reload_success",
        "gauge",
        "Last successful configuration reload, as a Unix timestamp.",
        Seconds(m.last_reload_success.load(Ordering::Relaxed)),
    );
    // Traefik v2's two failure families (v3 dropped them): without them nothing tells a
    // configuration that no longer loads from one that did not change.
    scalar(
        &mut out,
        p,
        "config_reloads_failure_total",
        "counter",
        "Configurations that failed to load (the last good one stays in force).",
        m.reload_failures.load(Ordering::Relaxed),
    );
    scalar(
        &mut out,
        p,
        "config_last_reload_failure",
        "gauge",
        "Last configuration that failed to load, as a Unix timestamp.",
        Seconds(m.last_reload_failure.load(Ordering::Relaxed)),
    );
    header(
        &mut out,
        p,
        "open_connections",
        "gauge",
        "Open connections per entrypoint.",
    );
    for ep in &m.entrypoints {
        let _ = writeln!(
            out,
            "{p}_open_connections{{{},protocol=\"TCP\"}} {}",
            label("entrypoint", &ep.name),
            ep.open.load(Ordering::Relaxed).max(0)
        );
    }
    header(
        &mut out,
        p,
        "tls_certs_not_after",
        "gauge",
        "Certificate expiry, as a Unix timestamp.",
    );
    for c in lock(&m.certificates).iter() {
        let _ = writeln!(
            out,
            "{p}_tls_certs_not_after{{{},{},{}}} {}",
            label("cn", &c.cn),
            label("serial", &c.serial),
            label("sans", &c.sans),
            c.not_after
        );
    }
    scalar(
        &mut out,
        p,
        "accesslog_lines_dropped_total",
        "counter",
        "Access log lines dropped because the writer fell behind or a write failed.",
        m.log_dropped.load(Ordering::Relaxed),
    );

    if m.config.entrypoints {
        let sets: Vec<Arc<SeriesSet>> = m.entrypoints.iter().map(|e| e.series.clone()).collect();
        scope(
            &mut out,
            m,
            &Scope {
                name: "entrypoint",
                what: "entrypoint",
            },
            &sets,
        );
    }
    // Taken at every scrape, shown or not, so retired sets do not pile up.
    let routers = m.routers.for_scrape();
    let services = m.services.for_scrape();
    if m.config.routers {
        scope(
            &mut out,
            m,
            &Scope {
                name: "router",
                what: "router",
            },
            &routers,
        );
    }
    if m.config.services {
        let sets = services;
        scope(
            &mut out,
            m,
            &Scope {
                name: "service",
                what: "service",
            },
            &sets,
        );
        header(
            &mut out,
            p,
            "service_server_up",
            "gauge",
            "Whether a service's server is up (1) or down (0).",
        );
        let servers = lock(&m.servers).as_ref().map(|f| f()).unwrap_or_default();
        for (service, url, up) in servers {
            let _ = writeln!(
                out,
                "{p}_service_server_up{{{},{}}} {}",
                label("service", &service),
                label("url", &url),
                u8::from(up)
            );
        }
    }
    if let Some(process) = super::process::Process::read() {
        process.encode(&mut out);
    }
    out
}

/// A request series' labels in the order of their names, as client_golang prints them:
/// `code`, `method`, `protocol`, the fixed labels of the set (`entrypoint`, or `router` and
/// `service`, or `service`; ordered by their first name) and any header labels.
fn request_labels(key: SeriesKey, fixed: &str, extra: Vec<(&str, String)>) -> String {
    let mut pieces = vec![
        ("code", format!("code=\"{}\"", key.code())),
        ("method", format!("method=\"{}\"", key.method())),
        ("protocol", format!("protocol=\"{}\"", key.protocol())),
    ];
    pieces.extend(
        split_labels(fixed).map(|l| (l.split('=').next().unwrap_or_default(), l.to_owned())),
    );
    pieces.extend(extra);
    pieces.sort_by(|a, b| a.0.cmp(b.0));
    let rendered: Vec<String> = pieces.into_iter().map(|(_, l)| l).collect();
    rendered.join(",")
}

/// The labels of rendered `a="x",b="y"`, each as rendered: split at the commas between a
/// closing quote and the next name (a quote inside a value is escaped, so it never ends
/// one).
fn split_labels(rendered: &str) -> impl Iterator<Item = &str> {
    let mut rest = rendered;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut escaped = false;
        let mut quotes = 0;
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quotes += 1,
                ',' if quotes == 2 => {
                    let (label, tail) = rest.split_at(i);
                    rest = &tail[1..];
                    return Some(label);
                }
                _ => {}
            }
        }
        Some(std::mem::take(&mut rest))
    })
}

/// Milliseconds printed as seconds with three decimals.
struct Seconds(u64);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

/// A family of one unlabelled sample, `{prefix}_{name}`.
pub(super) fn scalar(
    out: &mut String,
    prefix: &str,
    name: &str,
    kind: &str,
    help: &str,
    value: impl std::fmt::Display,
) {
    header(out, prefix, name, kind, help);
    let _ = writeln!(out, "{prefix}_{name} {value}");
}

fn header(out: &mut String, prefix: &str, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {prefix}_{name} {help}");
    let _ = writeln!(out, "# TYPE {prefix}_{name} {kind}");
}

fn scope(out: &mut String, m: &Metrics, scope: &Scope<'_>, sets: &[Arc<SeriesSet>]) {
    let p = &m.config.prefix;
    let n = scope.name;
    let snaps: Vec<(&str, Vec<SeriesSnapshot>)> =
        sets.iter().map(|s| (s.labels(), s.snapshot())).collect();
    let labels = |s: &SeriesSnapshot, fixed: &str| request_labels(s.key, fixed, Vec::new());

    header(
        out,
        p,
        &format!("{n}_requests_total"),
        "counter",
        &format!("Requests per {}.", scope.what),
    );
    for ((fixed, series), set) in snaps.iter().zip(sets) {
        if set.has_header_labels() {
            for (key, values, count) in set.header_snapshot() {
                let extra = m
                    .config
                    .header_labels
                    .iter()
                    .zip(values.split(VALUE_SEPARATOR))
                    .map(|((name, _), value)| (name.as_str(), label(name, value)))
                    .collect();
                let l = request_labels(key, fixed, extra);
                let _ = writeln!(out, "{p}_{n}_requests_total{{{l}}} {count}");
            }
            continue;
        }
        for s in series {
            let _ = writeln!(
                out,
                "{p}_{n}_requests_total{{{}}} {}",
                labels(s, fixed),
                s.count
            );
        }
    }
    header(
        out,
        p,
        &format!("{n}_requests_tls_total"),
        "counter",
        &format!(
            "HTTPS requests per {}, by TLS version and cipher.",
            scope.what
        ),
    );
    for set in sets {
        for ((version, cipher), count) in set.tls_snapshot() {
            let _ = writeln!(
                out,
                "{p}_{n}_requests_tls_total{{{},tls_cipher=\"{cipher}\",tls_version=\"{version}\"}} {count}",
                set.labels()
            );
        }
    }
    if n == "service" {
        header(
            out,
            p,
            "service_retries_total",
            "counter",
            "Request retries per service.",
        );
        for set in sets.iter().filter(|s| s.retries() > 0) {
            let _ = writeln!(
                out,
                "{p}_service_retries_total{{{}}} {}",
                set.labels(),
                set.retries()
            );
        }
    }
    header(
        out,
        p,
        &format!("{n}_request_duration_seconds"),
        "histogram",
        &format!("Request durations per {}, in seconds.", scope.what),
    );
    for (fixed, series) in &snaps {
        for s in series {
            let l = labels(s, fixed);
            for (bound, count) in m.config.buckets.iter().zip(&s.cumulative) {
                let _ = writeln!(
                    out,
                    "{p}_{n}_request_duration_seconds_bucket{{{l},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "{p}_{n}_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "{p}_{n}_request_duration_seconds_sum{{{l}}} {}",
                s.sum_seconds
            );
            let _ = writeln!(
                out,
                "{p}_{n}_request_duration_seconds_count{{{l}}} {}",
                s.count
            );
        }
    }
    for (family, pick, help) in [
        ("requests_bytes_total", 0, "Request body bytes"),
        ("responses_bytes_total", 1, "Response body bytes"),
    ] {
        header(
            out,
            p,
            &format!("{n}_{family}"),
            "counter",
            &format!("{help} per {}.", scope.what),
        );
        for (fixed, series) in &snaps {
            for s in series {
                let v = if pick == 0 {
                    s.request_bytes
                } else {
                    s.response_bytes
                };
                let _ = writeln!(out, "{p}_{n}_{family}{{{}}} {v}", labels(s, fixed));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls_labels::TlsLabel;
    use crate::{MetricsConfig, RouteObservability};
    use std::time::Duration;

    #[test]
    fn labels_are_printed_in_name_order() {
        let config = MetricsConfig {
            routers: true,
            ..MetricsConfig::default()
        };
        let m = Metrics::new(config, &["web".into()]);
        let key = SeriesKey::new(200, 0, 0);
        let Some(ep) = m.entrypoint(0) else {
            panic!("no entrypoint")
        };
        ep.series().record(key, Duration::from_millis(5), 0, 10);
        ep.series()
            .record_tls(TlsLabel::new("TLSv1_3", "TLS13_AES_128_GCM_SHA256"));
        let handles = m.route_handles("r@file", "s@file", false, RouteObservability::default());
        if let Some(router) = &handles.router {
            router.record(key, Duration::from_millis(5), 0, 10);
        }
        let text = m.encode();
        assert_eq!(
            split_labels(r#"router="a\",b=\\",service="s,t""#).collect::<Vec<_>>(),
            [r#"router="a\",b=\\""#, r#"service="s,t""#]
        );
        for line in [
            r#"weir_entrypoint_requests_total{code="200",entrypoint="web",method="GET",protocol="http"} 1"#,
            r#"weir_entrypoint_requests_tls_total{entrypoint="web",tls_cipher="TLS_AES_128_GCM_SHA256",tls_version="1.3"} 1"#,
            r#"weir_router_requests_total{code="200",method="GET",protocol="http",router="r@file",service="s@file"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }
}
