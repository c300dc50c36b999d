//! `/api/tcp/...` and `/api/udp/...`: weir does not route TCP or UDP yet, so the routers,
//! services and middlewares a provider configures there are listed as `disabled` with
//! that reason (rather than silently missing), in Traefik's shapes.

use serde::Serialize;
use serde_json::{Map, Value, json};
use weir_config::dynamic::Configuration;
use weir_proxy::compile::qualify;

use crate::model::{View, plain};
use crate::query::Params;

/// A layer-4 section: `tcp` or `udp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    /// `tcp`.
    Tcp,
    /// `udp`.
    Udp,
}

/// An element kind of a layer-4 section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `routers`.
    Routers,
    /// `services`.
    Services,
    /// `middlewares` (TCP only).
    Middlewares,
}

impl Proto {
    fn reason(self) -> &'static str {
        match self {
            Proto::Tcp => "weir does not route TCP yet",
            Proto::Udp => "weir does not route UDP yet",
        }
    }
}

/// Each element as (qualified name, raw fields, searchable extra text).
fn raw(c: &Configuration, proto: Proto, kind: Kind) -> Vec<(String, Map<String, Value>, String)> {
    fn all<T: Serialize>(
        m: &std::collections::BTreeMap<String, T>,
        extra: impl Fn(&T) -> String,
    ) -> Vec<(String, Map<String, Value>, String)> {
        m.iter()
            .map(|(k, v)| (k.clone(), plain(v), extra(v)))
            .collect()
    }
    match (proto, kind) {
        (Proto::Tcp, Kind::Routers) => all(&c.tcp.routers, |r| r.rule.clone()),
        (Proto::Tcp, Kind::Services) => all(&c.tcp.services, |_| String::new()),
        (Proto::Tcp, Kind::Middlewares) => all(&c.tcp.middlewares, |_| String::new()),
        (Proto::Udp, Kind::Routers) => all(&c.udp.routers, |_| String::new()),
        (Proto::Udp, Kind::Services) => all(&c.udp.services, |_| String::new()),
        (Proto::Udp, Kind::Middlewares) => Vec::new(),
    }
}

impl View<'_> {
    /// The configured layer-4 elements of one kind, sorted by name, filtered by `search`
    /// and `status` (and `serviceName`, `middlewareName` for routers).
    pub(crate) fn layer4(&self, proto: Proto, kind: Kind, p: &Params) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for (provider, config) in self.providers.iter() {
            for (name, mut m, extra) in raw(config, proto, kind) {
                let name = qualify(&name, provider);
                if !p.keeps(&name, &extra, "disabled") {
                    continue;
                }
                if kind == Kind::Routers && !p.keeps_links(&m) {
                    continue;
                }
                if kind != Kind::Routers
                    && let Some(t) = m.keys().next().cloned()
                {
                    m.insert("type".into(), t.to_lowercase().into());
                }
                m.insert("name".into(), name.clone().into());
                m.insert("provider".into(), provider.clone().into());
                m.insert("status".into(), "disabled".into());
                m.insert("error".into(), json!([proto.reason()]));
                out.push((name, Value::Object(m)));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// `{total, warnings, errors}` of one layer-4 kind (all are errors: not routed).
    pub(crate) fn layer4_count(&self, proto: Proto, kind: Kind) -> Value {
        let n = self.layer4(proto, kind, &Params::default()).len();
        json!({"total": n, "warnings": 0, "errors": n})
    }
}
