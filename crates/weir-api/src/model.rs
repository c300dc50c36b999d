//! Traefik's API shapes, built from the compile report and the raw configuration.

use std::collections::{BTreeMap, HashMap};
use std::time::UNIX_EPOCH;

use serde::Serialize;
use serde_json::{Map, Value, json};
use weir_config::static_config::StaticConfiguration;
use weir_observe::Metrics;
use weir_observe::metrics::SeriesSnapshot;
use weir_proxy::compile::{ElementReport, Report, Status, qualify};

use crate::layer4::{Kind, Proto};
use crate::query::Params;
use crate::{ApiState, Providers};

/// What one API answer is built from.
pub(crate) struct View<'a> {
    pub report: &'a Report,
    pub providers: &'a Providers,
    pub static_config: &'a StaticConfiguration,
}

/// Serializes `v` and drops what Go's `omitempty` would: nulls, `false`, empty strings
/// and empty lists (empty objects stay: `tls: {}` means something). A `false` stays in
/// the fields Traefik declares as pointers to booleans ([`POINTER_BOOLS`]).
pub(crate) fn plain<T: Serialize>(v: &T) -> Map<String, Value> {
    match prune(serde_json::to_value(v).unwrap_or(Value::Null)) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Dynamic-configuration fields that are `*bool` in Traefik's model, defaulting to true:
/// Go's `omitempty` keeps a pointer to `false`, so `passHostHeader: false` shows.
const POINTER_BOOLS: [&str; 3] = ["passHostHeader", "followRedirects", "mirrorBody"];

fn prune(v: Value) -> Option<Value> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(a) if a.is_empty() => None,
        Value::Array(a) => Some(Value::Array(a.into_iter().filter_map(prune).collect())),
        Value::Object(m) => Some(Value::Object(
            m.into_iter()
                .filter_map(|(k, v)| match v {
                    Value::Bool(false) if POINTER_BOOLS.contains(&k.as_str()) => Some((k, v)),
                    v => prune(v).map(|v| (k, v)),
                })
                .collect(),
        )),
        v => Some(v),
    }
}

pub(crate) fn status_str(s: Status) -> &'static str {
    match s {
        Status::Enabled => "enabled",
        Status::Warning => "warning",
        Status::Disabled => "disabled",
    }
}

fn add_common(
    m: &mut Map<String, Value>,
    name: &str,
    provider: &str,
    status: Status,
    errors: &[String],
) {
    m.insert("name".into(), name.into());
    m.insert("provider".into(), provider.into());
    m.insert("status".into(), status_str(status).into());
    if !errors.is_empty() {
        m.insert("error".into(), json!(errors));
    }
}

impl View<'_> {
    fn raw<T: Serialize>(
        &self,
        pick: impl Fn(&weir_config::dynamic::Configuration) -> Vec<(&String, &T)>,
    ) -> HashMap<String, Map<String, Value>> {
        let mut out = HashMap::new();
        for (provider, config) in self.providers.iter() {
            for (name, item) in pick(config) {
                out.insert(qualify(name, provider), plain(item));
            }
        }
        out
    }

    /// Routers sorted by name, filtered by `search`, `status`, `serviceName`,
    /// `middlewareName`.
    pub fn routers(&self, p: &Params) -> Vec<(String, Value)> {
        let raw = self.raw(|c| c.http.routers.iter().collect());
        let mut out = Vec::new();
        for (name, r) in &self.report.routers {
            if !p.keeps(name, &r.rule, status_str(r.status)) {
                continue;
            }
            let configured = match &r.applied {
                Some(applied) => Some(plain(applied)),
                None => raw.get(name).cloned(),
            };
            let mut m = configured.unwrap_or_else(|| {
                let mut m = Map::new();
                m.insert("rule".into(), r.rule.clone().into());
                m.insert("service".into(), r.service.clone().into());
                m
            });
            if !p.keeps_links(&m) {
                continue;
            }
            // Every router shows its switches, its entrypoint's defaults applied, as Traefik
            // (false included: Go's pointers to false are not omitted).
            m.insert(
                "observability".into(),
                json!({
                    "accessLogs": r.observability.access_log,
                    "metrics": r.observability.metrics,
                    "tracing": r.tracing,
                }),
            );
            // Traefik reports the options a TLS router gets when it names none.
            if let Some(Value::Object(tls)) = m.get_mut("tls")
                && !tls.contains_key("options")
            {
                tls.insert("options".into(), "default".into());
            }
            // As Traefik: `priority` only when configured, and `priorityStr` the configured
            // one as text (0 when none; the effective one, the rule's length, is not shown).
            let configured = m.get("priority").and_then(Value::as_i64).unwrap_or(0);
            m.insert("priorityStr".into(), configured.to_string().into());
            add_common(&mut m, name, &r.provider, r.status, &r.errors);
            m.insert("using".into(), json!(r.entry_points));
            out.push((name.clone(), Value::Object(m)));
        }
        out
    }

    /// Services sorted by name, with `serverStatus` for load balancers.
    pub fn services(&self, p: &Params) -> Vec<(String, Value)> {
        let raw = self.raw(|c| c.http.services.iter().collect());
        let mut out = Vec::new();
        for (name, s) in &self.report.services {
            if !p.keeps(name, "", status_str(s.status)) {
                continue;
            }
            let mut m = element(raw.get(name), name, s);
            if let Some(lb) = self.report.balancers.get(name) {
                let servers: Map<String, Value> = lb
                    .server_status()
                    .map(|(t, up)| (t.url().to_string(), if up { "UP" } else { "DOWN" }.into()))
                    .collect();
                m.insert("serverStatus".into(), Value::Object(servers));
            }
            out.push((name.clone(), Value::Object(m)));
        }
        out
    }

    /// Middlewares sorted by name.
    pub fn middlewares(&self, p: &Params) -> Vec<(String, Value)> {
        let raw = self.raw(|c| c.http.middlewares.iter().collect());
        self.report
            .middlewares
            .iter()
            .filter(|(name, e)| p.keeps(name, "", status_str(e.status)))
            .map(|(name, e)| (name.clone(), Value::Object(element(raw.get(name), name, e))))
            .collect()
    }

    /// The static entrypoints with their names.
    pub fn entrypoints(&self) -> Vec<(String, Value)> {
        self.static_config
            .entry_points
            .iter()
            .map(|(name, ep)| {
                let mut m = plain(ep);
                m.insert("name".into(), name.clone().into());
                (name.clone(), Value::Object(m))
            })
            .collect()
    }

    /// `/api/rawdata`: every element keyed by name.
    ///
    /// As Traefik's: each element is its runtime state (configuration, `status`, `error`,
    /// `using`/`usedBy`, `serverStatus`) keyed by its name, without the list endpoints'
    /// `name`, `provider` and `type`; a kind with no element is left out.
    pub fn rawdata(&self) -> Value {
        let all = Params::default();
        let sections = [
            ("routers", self.routers(&all)),
            ("services", self.services(&all)),
            ("middlewares", self.middlewares(&all)),
            ("tcpRouters", self.layer4(Proto::Tcp, Kind::Routers, &all)),
            ("tcpServices", self.layer4(Proto::Tcp, Kind::Services, &all)),
            (
                "tcpMiddlewares",
                self.layer4(Proto::Tcp, Kind::Middlewares, &all),
            ),
            ("udpRouters", self.layer4(Proto::Udp, Kind::Routers, &all)),
            ("udpServices", self.layer4(Proto::Udp, Kind::Services, &all)),
        ];
        let mut raw = Map::new();
        for (section, elements) in sections {
            if elements.is_empty() {
                continue;
            }
            let elements = elements
                .into_iter()
                .map(|(name, mut v)| {
                    if let Some(m) = v.as_object_mut() {
                        for shown_in_lists_only in ["name", "provider", "type"] {
                            m.remove(shown_in_lists_only);
                        }
                    }
                    (name, v)
                })
                .collect();
            raw.insert(section.into(), Value::Object(elements));
        }
        Value::Object(raw)
    }

    /// `/api/overview`: counts by status, features and providers.
    pub fn overview(&self, metrics: bool) -> Value {
        let count = |statuses: Vec<Status>| {
            json!({
                "total": statuses.len(),
                "warnings": statuses.iter().filter(|s| **s == Status::Warning).count(),
                "errors": statuses.iter().filter(|s| **s == Status::Disabled).count(),
            })
        };
        let r = &self.report;
        // The configured providers weir runs, named and ordered as Traefik lists its own
        // (the fields of its static `providers`, in their declared order).
        let p = &self.static_config.providers;
        let providers: Vec<&str> = [
            ("File", p.file.is_some()),
            ("KubernetesIngress", p.kubernetes_ingress.is_some()),
            ("KubernetesCRD", p.kubernetes_crd.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        let prometheus = self
            .static_config
            .metrics
            .as_ref()
            .is_some_and(|m| m.prometheus.is_some());
        let mut overview = json!({
            "http": {
                "routers": count(r.routers.values().map(|x| x.status).collect()),
                "services": count(r.services.values().map(|x| x.status).collect()),
                "middlewares": count(r.middlewares.values().map(|x| x.status).collect()),
            },
            "tcp": {
                "routers": self.layer4_count(Proto::Tcp, Kind::Routers),
                "services": self.layer4_count(Proto::Tcp, Kind::Services),
                "middlewares": self.layer4_count(Proto::Tcp, Kind::Middlewares),
            },
            "udp": {
                "routers": self.layer4_count(Proto::Udp, Kind::Routers),
                "services": self.layer4_count(Proto::Udp, Kind::Services),
            },
            "features": {
                "tracing": "",
                "metrics": if prometheus && metrics { "Prometheus" } else { "" },
                "accessLog": self.static_config.access_log.is_some(),
                "hub": false,
            },
        });
        // Left out when none is configured, as Go's `omitempty` leaves an empty list out.
        if !providers.is_empty()
            && let Some(o) = overview.as_object_mut()
        {
            o.insert("providers".into(), json!(providers));
        }
        overview
    }
}

fn element(raw: Option<&Map<String, Value>>, name: &str, e: &ElementReport) -> Map<String, Value> {
    let mut m = raw.cloned().unwrap_or_default();
    add_common(&mut m, name, &e.provider, e.status, &e.errors);
    if e.kind != "internal" {
        m.insert("type".into(), e.kind.to_lowercase().into());
    }
    let mut used = e.used_by.clone();
    used.sort();
    // `omitempty` in Traefik: an element nothing uses has no `usedBy`.
    if !used.is_empty() {
        m.insert("usedBy".into(), json!(used));
    }
    m
}

/// `/api/version`, with Traefik's capitalised keys.
pub(crate) fn version(state: &ApiState) -> Value {
    let secs = state
        .started
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut v = json!({
        "Version": env!("CARGO_PKG_VERSION"),
        "Codename": "weir",
        "startDate": rfc3339(secs),
    });
    if let Some(api) = &state.static_config.api {
        if api.disable_dashboard_ad {
            v["disableDashboardAd"] = true.into();
        }
        if !api.dashboard_name.is_empty() {
            v["dashboardName"] = api.dashboard_name.clone().into();
        }
    }
    v
}

pub(crate) fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Hinnant).
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `/api/weir/traffic` (weir's own, for the dashboard): request counts per status code
/// for every entrypoint, router and service since start; a gRPC request's code is its
/// gRPC status, keyed `grpc <code>` so it is not read as an HTTP status.
pub(crate) fn traffic(metrics: Option<&Metrics>) -> Value {
    let Some(m) = metrics else {
        return json!({"enabled": false});
    };
    let sum = |series: &[SeriesSnapshot]| {
        let mut codes: BTreeMap<String, u64> = BTreeMap::new();
        let mut total = 0;
        for s in series {
            let code = match s.key.protocol() {
                "grpc" | "grpc-web" => format!("grpc {}", s.key.code()),
                _ => s.key.code().to_string(),
            };
            *codes.entry(code).or_default() += s.count;
            total += s.count;
        }
        json!({"total": total, "codes": codes})
    };
    let group = |v: Vec<(String, Vec<SeriesSnapshot>)>| {
        Value::Object(v.iter().map(|(n, s)| (n.clone(), sum(s))).collect())
    };
    json!({
        "enabled": true,
        "entrypoints": group(m.entrypoint_snapshots()),
        "routers": group(m.router_snapshots()),
        "services": group(m.service_snapshots()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_element_nothing_uses_has_no_used_by() {
        let mut e = ElementReport {
            kind: "loadBalancer".into(),
            status: Status::Enabled,
            errors: Vec::new(),
            used_by: Vec::new(),
            provider: "file".into(),
        };
        let m = element(None, "s@file", &e);
        assert!(!m.contains_key("usedBy"), "{m:?}");
        e.used_by = vec!["b@file".into(), "a@file".into()];
        assert_eq!(
            element(None, "s@file", &e)["usedBy"],
            json!(["a@file", "b@file"])
        );
    }

    #[test]
    fn overview_names_the_configured_providers_as_traefik_does() {
        let report = Report::default();
        let providers: Providers = Vec::new();
        let overview = |static_config: &StaticConfiguration| {
            View {
                report: &report,
                providers: &providers,
                static_config,
            }
            .overview(false)
        };
        let mut both = StaticConfiguration::default();
        both.providers.kubernetes_crd = Some(Default::default());
        both.providers.kubernetes_ingress = Some(Default::default());
        let o = overview(&both);
        assert_eq!(
            o["providers"],
            json!(["KubernetesIngress", "KubernetesCRD"])
        );
        assert_eq!(o["features"]["hub"], false);
        let none = overview(&StaticConfiguration::default());
        assert!(none.get("providers").is_none(), "{none}");
    }

    #[test]
    fn grpc_codes_are_told_apart_from_http_ones() {
        let m = Metrics::new(weir_observe::MetricsConfig::default(), &["web".into()]);
        let set = m.entrypoint(0).map(|e| e.series().clone());
        let Some(set) = set else {
            panic!("no entrypoint")
        };
        let grpc = weir_observe::labels::protocol_index(&{
            let mut h = http::HeaderMap::new();
            h.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/grpc"),
            );
            h
        });
        let d = std::time::Duration::ZERO;
        set.record(weir_observe::labels::SeriesKey::new(5, 2, grpc), d, 0, 0);
        set.record(weir_observe::labels::SeriesKey::new(200, 0, 0), d, 0, 0);
        let t = traffic(Some(&m));
        assert_eq!(
            t["entrypoints"]["web"]["codes"],
            json!({"200": 1, "grpc 5": 1})
        );
    }

    #[test]
    fn prune_keeps_meaningful_empties() {
        let v = json!({"a": "", "b": [], "c": null, "tls": {"options": ""}, "n": 0, "f": false, "t": true});
        assert_eq!(prune(v), Some(json!({"tls": {}, "n": 0, "t": true})));
        let lb = json!({"loadBalancer": {"passHostHeader": false, "sticky": {"cookie": {"secure": false}}}});
        assert_eq!(
            prune(lb),
            Some(json!({"loadBalancer": {"passHostHeader": false, "sticky": {"cookie": {}}}})),
            "a pointer to false shows, a plain false does not"
        );
        assert_eq!(rfc3339(1_136_214_245), "2006-01-02T15:04:05Z");
    }
}
