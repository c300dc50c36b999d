//! Building services once per configuration, shared by every router that uses them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use http::{HeaderName, HeaderValue, Method};
use weir_config::dynamic::{
    Mirroring as MirroringConfig, ServerHealthCheck, ServersLoadBalancer, Service, ServiceKind,
    Sticky as StickyConfig, WeightedRoundRobin,
};

use super::Inputs;
use super::names::{qualify, resolve};
use super::report::{ElementReport, Report, Status};
use super::transport::transport_settings;
use crate::handler::SharedHandler;
use crate::service::{
    Availability, HealthCheckConfig, LoadBalancer, Mirror, Mirroring, SameSite, Server,
    StickyCookie, Weighted, WeightedChild,
};
use crate::upstream::{ServerTarget, UpstreamClient};

/// A built service: its handler, and its availability when health is tracked.
#[derive(Clone)]
struct Built {
    handler: SharedHandler,
    availability: Option<Arc<dyn Availability>>,
}

/// Name the static `serversTransport` is registered under.
const DEFAULT_TRANSPORT: &str = "default@internal";

pub(super) struct ServiceBuilder<'a> {
    inputs: &'a Inputs<'a>,
    defined: BTreeMap<String, (&'a str, &'a Service)>,
    built: HashMap<String, Result<Built, String>>,
    in_progress: HashSet<String>,
    reports: BTreeMap<String, ElementReport>,
    balancers: BTreeMap<String, Arc<LoadBalancer>>,
}

impl<'a> ServiceBuilder<'a> {
    pub(super) fn new(inputs: &'a Inputs<'a>) -> Self {
        let mut defined = BTreeMap::new();
        for (provider, config) in inputs.providers {
            for (name, svc) in &config.http.services {
                defined.insert(qualify(name, provider), (provider.as_str(), svc));
            }
        }
        Self {
            inputs,
            defined,
            built: HashMap::new(),
            in_progress: HashSet::new(),
            reports: BTreeMap::new(),
            balancers: BTreeMap::new(),
        }
    }

    /// The handler of service `name`, built on first use; `user` is recorded in `usedBy`.
    pub(super) fn get(&mut self, name: &str, user: &str) -> Result<SharedHandler, String> {
        let result = self.build(name).map(|b| b.handler);
        self.record_use(name, user);
        result
    }

    fn build(&mut self, name: &str) -> Result<Built, String> {
        if let Some(done) = self.built.get(name) {
            return done.clone();
        }
        if let Some(h) = self.inputs.internal.get(name) {
            self.reports
                .entry(name.to_owned())
                .or_insert_with(|| ElementReport {
                    kind: "internal".into(),
                    status: Status::Enabled,
                    errors: Vec::new(),
                    used_by: Vec::new(),
                    provider: "internal".into(),
                });
            return Ok(Built {
                handler: h.clone(),
                availability: None,
            });
        }
        let Some(&(provider, svc)) = self.defined.get(name) else {
            return Err(format!("the service {name:?} does not exist"));
        };
        if !self.in_progress.insert(name.to_owned()) {
            return Err(format!(
                "service {name:?} refers to itself through its children"
            ));
        }
        let mut warnings = Vec::new();
        let (kind, result) = match svc.kind() {
            None => {
                let set = svc.kinds_set();
                let msg = if set.is_empty() {
                    "no service type set (loadBalancer, weighted, mirroring, ...)".to_owned()
                } else {
                    format!(
                        "exactly one service type must be set, found {}",
                        set.join(", ")
                    )
                };
                ("unknown", Err(msg))
            }
            Some(ServiceKind::LoadBalancer(lb)) => (
                "loadBalancer",
                self.load_balancer(name, provider, lb, &mut warnings),
            ),
            Some(ServiceKind::Weighted(w)) => ("weighted", self.weighted(name, provider, w)),
            Some(ServiceKind::Mirroring(m)) => ("mirroring", self.mirroring(name, provider, m)),
            Some(ServiceKind::Failover(_)) => (
                "failover",
                Err("failover services are not supported yet".into()),
            ),
            Some(ServiceKind::HighestRandomWeight(_)) => (
                "highestRandomWeight",
                Err("highestRandomWeight services are not supported yet".into()),
            ),
        };
        self.in_progress.remove(name);
        self.reports.insert(
            name.to_owned(),
            ElementReport::from_result(kind, provider, warnings, &result),
        );
        self.built.insert(name.to_owned(), result.clone());
        result
    }

    fn client(
        &self,
        lb: &ServersLoadBalancer,
        provider: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Arc<UpstreamClient>, String> {
        let registry = self.inputs.transports;
        if lb.servers_transport.is_empty() {
            return registry
                .get_or_create(DEFAULT_TRANSPORT, self.inputs.default_transport)
                .map_err(|e| format!("default serversTransport: {e}"));
        }
        let wanted = resolve(&lb.servers_transport, provider);
        let found = self.inputs.providers.iter().find_map(|(p, c)| {
            c.http
                .servers_transports
                .iter()
                .find(|(n, _)| qualify(n, p) == wanted)
                .map(|(_, t)| t)
        });
        let Some(transport) = found else {
            return Err(format!("serversTransport {wanted:?} does not exist"));
        };
        let (settings, w) = transport_settings(transport);
        warnings.extend(
            w.into_iter()
                .map(|m| format!("serversTransport {wanted:?}: {m}")),
        );
        registry
            .get_or_create(&wanted, &settings)
            .map_err(|e| format!("serversTransport {wanted:?}: {e}"))
    }

    fn load_balancer(
        &mut self,
        name: &str,
        provider: &str,
        lb: &ServersLoadBalancer,
        warnings: &mut Vec<String>,
    ) -> Result<Built, String> {
        let mut servers = Vec::with_capacity(lb.servers.len());
        for (i, s) in lb.servers.iter().enumerate() {
            let target = ServerTarget::parse(&s.url, s.preserve_path)
                .map_err(|e| format!("servers[{i}].url {:?}: {e}", s.url))?;
            if s.weight < 0 {
                return Err(format!("servers[{i}].weight must not be negative"));
            }
            servers.push((target, u32::try_from(s.weight).unwrap_or(u32::MAX)));
        }
        if servers.is_empty() {
            warnings.push("no servers: every request gets 503".into());
        }
        if lb.strategy != "wrr" && !lb.strategy.is_empty() {
            warnings.push(format!(
                "strategy {:?} is not supported yet; using wrr",
                lb.strategy
            ));
        }
        let client = self.client(lb, provider, warnings)?;
        let servers = servers
            .into_iter()
            .map(|(target, weight)| Server { target, weight })
            .collect();
        let mut balancer = LoadBalancer::new(name, servers, client, lb.pass_host_header);
        if let Some(metrics) = self.inputs.metrics {
            balancer = balancer.with_observed(metrics.service_handle(name));
        }
        if let Some(cookie) = sticky_cookie(lb.sticky.as_ref(), name, warnings) {
            balancer = balancer.with_sticky(cookie);
        }
        let tracked = lb.health_check.is_some();
        if let Some(hc) = &lb.health_check {
            let config = health_check(hc, warnings)?;
            balancer = balancer.with_health_check(self.inputs.health, &config);
        }
        let balancer = Arc::new(balancer);
        self.balancers.insert(name.to_owned(), balancer.clone());
        Ok(Built {
            handler: balancer.clone(),
            availability: tracked.then_some(balancer as Arc<dyn Availability>),
        })
    }

    fn weighted(
        &mut self,
        name: &str,
        provider: &str,
        w: &WeightedRoundRobin,
    ) -> Result<Built, String> {
        let mut children = Vec::with_capacity(w.services.len());
        for (i, child) in w.services.iter().enumerate() {
            let child_name = resolve(&child.name, provider);
            let built = self
                .build(&child_name)
                .map_err(|e| format!("services[{i}] {child_name:?}: {e}"))?;
            self.record_use(&child_name, name);
            if child.weight < 0 {
                return Err(format!("services[{i}].weight must not be negative"));
            }
            children.push(WeightedChild {
                name: child_name,
                handler: built.handler,
                weight: u32::try_from(child.weight).unwrap_or(u32::MAX),
                // Health propagates from children that track it.
                health: built.availability,
            });
        }
        let mut ignored = Vec::new();
        let sticky = sticky_cookie(w.sticky.as_ref(), name, &mut ignored);
        let weighted = Arc::new(Weighted::new(name, children, sticky));
        Ok(Built {
            handler: weighted.clone(),
            availability: w
                .health_check
                .is_some()
                .then_some(weighted as Arc<dyn Availability>),
        })
    }

    fn mirroring(
        &mut self,
        name: &str,
        provider: &str,
        m: &MirroringConfig,
    ) -> Result<Built, String> {
        let main_name = resolve(&m.service, provider);
        let main = self
            .build(&main_name)
            .map_err(|e| format!("service {main_name:?}: {e}"))?;
        self.record_use(&main_name, name);
        let mut mirrors = Vec::with_capacity(m.mirrors.len());
        for (i, mirror) in m.mirrors.iter().enumerate() {
            let mirror_name = resolve(&mirror.name, provider);
            let built = self
                .build(&mirror_name)
                .map_err(|e| format!("mirrors[{i}] {mirror_name:?}: {e}"))?;
            self.record_use(&mirror_name, name);
            if !(0..=100).contains(&mirror.percent) {
                return Err(format!("mirrors[{i}].percent must be between 0 and 100"));
            }
            mirrors.push(Mirror {
                handler: built.handler,
                percent: u32::try_from(mirror.percent).unwrap_or(0),
            });
        }
        let mirroring = Mirroring::new(main.handler, mirrors, m.mirror_body, m.max_body_size);
        Ok(Built {
            handler: Arc::new(mirroring),
            availability: main.availability,
        })
    }

    fn record_use(&mut self, name: &str, user: &str) {
        if let Some(r) = self.reports.get_mut(name)
            && !r.used_by.iter().any(|u| u == user)
        {
            r.used_by.push(user.to_owned());
        }
    }

    /// Builds the services no router used (to report their errors) and moves the service
    /// reports into `report`.
    pub(super) fn finish(mut self, report: &mut Report) {
        let unused: Vec<String> = self
            .defined
            .keys()
            .filter(|n| !self.built.contains_key(*n))
            .cloned()
            .collect();
        for name in unused {
            let _ = self.build(&name);
        }
        report.services = self.reports;
        report.balancers = self.balancers;
    }
}

fn sticky_cookie(
    sticky: Option<&StickyConfig>,
    service: &str,
    warnings: &mut Vec<String>,
) -> Option<StickyCookie> {
    let c = sticky?.cookie.as_ref()?;
    let mut cookie = StickyCookie::new(Some(c.name.as_str()), service);
    cookie.secure = c.secure;
    cookie.http_only = c.http_only;
    cookie.max_age = c.max_age;
    if !c.path.is_empty() {
        cookie.path = c.path.clone();
    }
    cookie.domain = (!c.domain.is_empty()).then(|| c.domain.clone());
    if !c.same_site.is_empty() {
        cookie.same_site = SameSite::parse(&c.same_site);
        if cookie.same_site.is_none() {
            warnings.push(format!(
                "sticky.cookie.sameSite {:?} is not one of none, lax, strict; ignored",
                c.same_site
            ));
        }
    }
    Some(cookie)
}

fn health_check(
    hc: &ServerHealthCheck,
    warnings: &mut Vec<String>,
) -> Result<HealthCheckConfig, String> {
    let defaults = HealthCheckConfig::default();
    if !hc.mode.is_empty() && !hc.mode.eq_ignore_ascii_case("http") {
        return Err(format!(
            "healthCheck.mode {:?} is not supported yet (only http)",
            hc.mode
        ));
    }
    let method = if hc.method.is_empty() {
        Method::GET
    } else {
        Method::from_bytes(hc.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("healthCheck.method {:?} is not a method", hc.method))?
    };
    let mut headers = Vec::with_capacity(hc.headers.len());
    for (k, v) in &hc.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("healthCheck.headers: invalid name {k:?}"))?;
        let value = HeaderValue::from_str(v)
            .map_err(|_| format!("healthCheck.headers.{k}: invalid value"))?;
        headers.push((name, value));
    }
    if !hc.follow_redirects {
        warnings.push("healthCheck.followRedirects: false is the only behaviour weir has; redirects count as healthy".into());
    }
    let port = match hc.port {
        0 => None,
        p => Some(u16::try_from(p).map_err(|_| format!("healthCheck.port {p} is out of range"))?),
    };
    let status = match hc.status {
        0 => None,
        s => Some(
            u16::try_from(s)
                .ok()
                .filter(|s| (100..600).contains(s))
                .ok_or_else(|| format!("healthCheck.status {s} is not an HTTP status"))?,
        ),
    };
    Ok(HealthCheckConfig {
        scheme: (!hc.scheme.is_empty()).then(|| hc.scheme.clone()),
        path: if hc.path.is_empty() {
            defaults.path
        } else {
            hc.path.clone()
        },
        method,
        status,
        port,
        interval: hc.interval.to_std_nonzero().unwrap_or(defaults.interval),
        unhealthy_interval: hc.unhealthy_interval.and_then(|d| d.to_std_nonzero()),
        timeout: hc.timeout.to_std_nonzero().unwrap_or(defaults.timeout),
        hostname: (!hc.hostname.is_empty()).then(|| hc.hostname.clone()),
        headers,
    })
}
