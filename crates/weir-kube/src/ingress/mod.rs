//! `networking.k8s.io/v1` Ingress → routers, services and middlewares, with the
//! Kubernetes API's host and path semantics and the ingress-nginx annotations users rely
//! on. Names follow Traefik's Ingress provider (`ns-name-host-path`, `ns-service-port`,
//! `default-router`/`default-backend`).

mod annotations;
mod class;
mod paths;

use std::collections::{BTreeMap, BTreeSet};

use weir_config::dynamic::{
    CertAndStores, Configuration, Middleware, ReplacePathRegex, Router, RouterTlsConfig,
    ServersLoadBalancer, Service, WeightedRoundRobin, WrrService,
};

use crate::backend::{self, Want};
use crate::names::{normalize, sha256_prefix};
use crate::objects::{IngressBackend, IngressSpec, IntOrString};
use crate::options::{IngressOptions, Options};
use crate::problem::{Problem, Sink};
use crate::secrets;
use crate::set::{Body, Kind, ObjectRef, ObjectSet};

use annotations::{Canary, Plan};
use paths::PathMode;

struct Cx<'a> {
    set: &'a ObjectSet,
    opts: &'a Options,
    ing: &'a IngressOptions,
    out: &'a mut Configuration,
    problems: &'a mut Vec<Problem>,
    certs: BTreeSet<(String, String)>,
}

struct Selected<'a> {
    key: &'a ObjectRef,
    spec: &'a IngressSpec,
    plan: Plan,
    nginx_class: bool,
}

/// A canary Ingress' backend for one host and path.
struct CanaryBackend<'a> {
    ingress: usize,
    backend: &'a IngressBackend,
    settings: Canary,
}

/// The Ingresses weir serves under these options (class and namespace chosen), whether
/// or not each translates cleanly: the ones whose status weir writes.
pub(crate) fn served(set: &ObjectSet, ing: &IngressOptions) -> Vec<ObjectRef> {
    let classes = class::classes(set);
    set.of_kind(Kind::Ingress)
        .filter(|(key, _)| ing.namespaces.is_empty() || ing.namespaces.contains(&key.namespace))
        .filter(|(_, obj)| match &obj.body {
            Body::Ingress(spec) => class::select(ing, &classes, &obj.meta, spec).ours.is_ok(),
            _ => false,
        })
        .map(|(key, _)| key.clone())
        .collect()
}

pub(crate) fn translate(
    set: &ObjectSet,
    opts: &Options,
    ing: &IngressOptions,
    out: &mut Configuration,
    problems: &mut Vec<Problem>,
) {
    let mut cx = Cx {
        set,
        opts,
        ing,
        out,
        problems,
        certs: BTreeSet::new(),
    };
    let classes = class::classes(set);
    let mut selected: Vec<Selected<'_>> = Vec::new();
    for (key, obj) in set.of_kind(Kind::Ingress) {
        if !ing.namespaces.is_empty() && !ing.namespaces.contains(&key.namespace) {
            continue;
        }
        let Body::Ingress(spec) = &obj.body else {
            continue;
        };
        let choice = class::select(ing, &classes, &obj.meta, spec);
        let mut sink = Sink {
            object: key.clone(),
            out: cx.problems,
        };
        for w in choice.warnings {
            sink.warning("spec.ingressClassName", w);
        }
        match choice.ours {
            Ok(nginx_class) => {
                let plan = annotations::read(set, &key.namespace, &obj.meta.annotations, &mut sink);
                selected.push(Selected {
                    key,

                    spec,
                    plan,
                    nginx_class,
                });
            }
            Err(reason) => {
                if opts.offline {
                    sink.warning(
                        "spec.ingressClassName",
                        format!("not served by weir: {reason}"),
                    );
                }
            }
        }
    }

    // Canary Ingresses are alternative backends for another Ingress' host and path.
    let mut canaries: BTreeMap<(String, String), CanaryBackend<'_>> = BTreeMap::new();
    for (i, s) in selected.iter().enumerate() {
        let Some(c) = &s.plan.canary else { continue };
        if s.plan.refused {
            continue;
        }
        for rule in &s.spec.rules {
            let host = rule.host.clone().unwrap_or_default();
            for p in rule.http.iter().flat_map(|h| &h.paths) {
                let path = p.path.clone().unwrap_or_default();
                canaries
                    .entry((host.clone(), path))
                    .or_insert(CanaryBackend {
                        ingress: i,
                        backend: &p.backend,
                        settings: c.clone(),
                    });
            }
        }
    }
    let mut used_canaries = BTreeSet::new();
    for i in 0..selected.len() {
        if selected[i].plan.canary.is_none() && !selected[i].plan.refused {
            build(&mut cx, &selected, i, &canaries, &mut used_canaries);
        }
    }
    for ((host, path), c) in &canaries {
        if !used_canaries.contains(&(host.clone(), path.clone())) {
            let s = &selected[c.ingress];
            cx.problems.push(Problem::warning(
                s.key,
                "metadata.annotations[nginx.ingress.kubernetes.io/canary]",
                format!("no other Ingress serves host {host:?} path {path:?}, so this canary has nothing to share traffic with"),
            ));
        }
    }
}

fn build(
    cx: &mut Cx<'_>,
    all: &[Selected<'_>],
    idx: usize,
    canaries: &BTreeMap<(String, String), CanaryBackend<'_>>,
    used_canaries: &mut BTreeSet<(String, String)>,
) {
    let s = &all[idx];
    let key = s.key;
    let ns = key.namespace.as_str();
    let base = format!("{ns}-{}", key.name);
    let plan = &s.plan;

    // Middlewares generated from annotations.
    let mut chain = Vec::new();
    for (suffix, m) in &plan.generated {
        let name = normalize(&format!("{base}-{suffix}"));
        cx.out.http.middlewares.insert(name.clone(), m.clone());
        chain.push(name);
    }
    chain.extend(plan.references.iter().cloned());
    if let Some(t) = &plan.transport {
        cx.out
            .http
            .servers_transports
            .insert(normalize(&base), t.clone());
    }

    // TLS: certificates, and which hosts are served over TLS.
    let mut tls_hosts = BTreeSet::new();
    let mut tls_all = false;
    for (i, t) in s.spec.tls.iter().enumerate() {
        if t.hosts.is_empty() {
            tls_all = true;
        }
        tls_hosts.extend(t.hosts.iter().cloned());
        if let Some(secret) = t.secret_name.as_deref().filter(|n| !n.is_empty())
            && let Err(e) = add_certificate(cx, ns, secret)
        {
            cx.problems.push(Problem::error(
                key,
                format!("spec.tls[{i}].secretName"),
                format!("{e}; these hosts get the default certificate"),
            ));
        }
    }
    let nginx_mode = plan.nginx || s.nginx_class;
    let tls_config = RouterTlsConfig {
        options: plan.tls_options.clone(),
        cert_resolver: plan.cert_resolver.clone(),
        domains: Vec::new(),
    };

    let mut hosts_with_rules = Vec::new();
    for (i, rule) in s.spec.rules.iter().enumerate() {
        let host = rule.host.clone().unwrap_or_default();
        if let Err(e) = paths::check_host(&host) {
            cx.problems
                .push(Problem::error(key, format!("spec.rules[{i}].host"), e));
            continue;
        }
        let mut hosts = Vec::new();
        if !host.is_empty() {
            hosts.push(host.clone());
            hosts.extend(plan.aliases.iter().cloned());
            if !hosts_with_rules.contains(&host) {
                hosts_with_rules.push(host.clone());
            }
        }
        let Some(http) = &rule.http else {
            if s.spec.default_backend.is_none() {
                cx.problems.push(Problem::warning(
                    key,
                    format!("spec.rules[{i}]"),
                    "a rule without http paths needs spec.defaultBackend; nothing is served for it",
                ));
            }
            continue;
        };
        let host_tls = plan.tls_only || tls_all || tls_hosts.contains(&host);
        for (j, p) in http.paths.iter().enumerate() {
            let field = format!("spec.rules[{i}].http.paths[{j}]");
            let mode = match (plan.regex, p.path_type.as_deref()) {
                (_, None) => {
                    cx.problems.push(Problem::error(
                        key,
                        format!("{field}.pathType"),
                        "pathType is required (Exact, Prefix or ImplementationSpecific)",
                    ));
                    continue;
                }
                (true, Some(_)) => PathMode::Regex,
                (false, Some("Exact")) => PathMode::Exact,
                (false, Some("Prefix")) => PathMode::Prefix,
                (false, Some("ImplementationSpecific")) => match plan.path_matcher.as_deref() {
                    Some("Path") => PathMode::Exact,
                    Some("PathRegexp") => PathMode::Regex,
                    _ => PathMode::StringPrefix,
                },
                (false, Some(other)) => {
                    cx.problems.push(Problem::error(
                        key,
                        format!("{field}.pathType"),
                        format!("{other:?} is not Exact, Prefix or ImplementationSpecific"),
                    ));
                    continue;
                }
            };
            let path = match p.path.as_deref() {
                Some(x) if !x.is_empty() => x.to_owned(),
                _ if mode == PathMode::StringPrefix || mode == PathMode::Regex => "/".to_owned(),
                _ => {
                    cx.problems.push(Problem::error(
                        key,
                        format!("{field}.path"),
                        "an Exact or Prefix path is required",
                    ));
                    continue;
                }
            };
            if let Err(e) = paths::check_path(&path, mode) {
                cx.problems
                    .push(Problem::error(key, format!("{field}.path"), e));
                continue;
            }
            if mode == PathMode::Regex && p.path_type.as_deref() != Some("ImplementationSpecific") {
                cx.problems.push(Problem::warning(
                    key,
                    format!("{field}.pathType"),
                    "use-regex/rewrite-target make this path a case-insensitive regex prefix, as ingress-nginx does",
                ));
            }
            let service = match backend_service(cx, s, &p.backend, &format!("{field}.backend")) {
                Some(n) => n,
                None => continue,
            };
            let mut rule_parts = Vec::new();
            rule_parts.extend(paths::host_matcher(&hosts));
            rule_parts.push(paths::path_matcher(&path, mode));
            let rule_text = rule_parts.join(" && ");
            let mut name = normalize(&format!("{base}-{host}{path}"));
            if cx.out.http.routers.contains_key(&name) {
                name = format!("{name}-{}", sha256_prefix(&rule_text, 10));
            }
            if cx.out.http.routers.contains_key(&name) {
                cx.problems.push(Problem::error(
                    key,
                    format!("{field}.path"),
                    "the same host and path appear twice in this Ingress; the first wins",
                ));
                continue;
            }
            let mut middlewares = chain.clone();
            if let Some(target) = plan.rewrite.as_deref().filter(|t| *t != path) {
                let mw = normalize(&format!("{name}-rewrite-target"));
                cx.out.http.middlewares.insert(
                    mw.clone(),
                    Middleware {
                        replace_path_regex: Some(ReplacePathRegex {
                            regex: paths::regex_of(&path),
                            replacement: braced_groups(target),
                        }),
                        ..Middleware::default()
                    },
                );
                middlewares.push(mw);
            }
            let priority = plan
                .priority
                .unwrap_or_else(|| paths::priority(&host, &path, mode, 0));

            // A canary for this host and path shares the traffic.
            let mut router_service = service.clone();
            let ckey = (host.clone(), p.path.clone().unwrap_or_default());
            if let Some(c) = canaries.get(&ckey) {
                let canary_of = &all[c.ingress];
                if let Some(csvc) = backend_service(cx, canary_of, c.backend, "spec") {
                    used_canaries.insert(ckey.clone());
                    if c.settings.weight > 0 {
                        let wname = format!("{name}-canary");
                        cx.out.http.services.insert(
                            wname.clone(),
                            Service {
                                weighted: Some(WeightedRoundRobin {
                                    services: vec![
                                        WrrService {
                                            name: service.clone(),
                                            weight: c.settings.total - c.settings.weight,
                                        },
                                        WrrService {
                                            name: csvc.clone(),
                                            weight: c.settings.weight,
                                        },
                                    ],
                                    ..WeightedRoundRobin::default()
                                }),
                                ..Service::default()
                            },
                        );
                        router_service = wname;
                    }
                    if let Some(h) = &c.settings.header {
                        let mut add = |suffix: &str, value: &str, target: &str| {
                            cx.out.http.routers.insert(
                                format!("{name}-canary-{suffix}"),
                                Router {
                                    entry_points: plan.entry_points.clone(),
                                    middlewares: middlewares.clone(),
                                    service: target.to_owned(),
                                    rule: format!("{rule_text} && Header(`{h}`, `{value}`)"),
                                    priority: priority + 1,
                                    tls: plan.tls_only.then(|| tls_config.clone()),
                                    ..Router::default()
                                },
                            );
                        };
                        match &c.settings.header_value {
                            Some(v) => add("header", v, &csvc),
                            None => {
                                add("header", "always", &csvc);
                                add("header-never", "never", &service);
                            }
                        }
                    }
                }
            }

            let router = Router {
                entry_points: plan.entry_points.clone(),
                middlewares: middlewares.clone(),
                service: router_service,
                rule: rule_text,
                priority,
                ..Router::default()
            };
            if plan.tls_only {
                cx.out.http.routers.insert(
                    name,
                    Router {
                        tls: Some(tls_config.clone()),
                        ..router
                    },
                );
                continue;
            }
            let redirect =
                plan.force_ssl_redirect || (host_tls && plan.ssl_redirect.unwrap_or(nginx_mode));
            let mut http_router = router.clone();
            if redirect {
                let mw = normalize(&format!("{base}-ssl-redirect"));
                cx.out
                    .http
                    .middlewares
                    .insert(mw.clone(), annotations::ssl_redirect());
                http_router.middlewares.insert(0, mw);
            }
            if host_tls {
                cx.out.http.routers.insert(
                    format!("{name}-tls"),
                    Router {
                        tls: Some(tls_config.clone()),
                        ..router
                    },
                );
            }
            cx.out.http.routers.insert(name, http_router);
        }
    }

    // The default backend.
    if let Some(db) = &s.spec.default_backend {
        let Some(service) = backend_service(cx, s, db, "spec.defaultBackend") else {
            return;
        };
        if s.spec.rules.is_empty() {
            if cx.out.http.routers.contains_key("default-router") {
                cx.problems.push(Problem::error(
                    key,
                    "spec.defaultBackend",
                    "another Ingress already sets the catch-all default backend; this one is not used",
                ));
                return;
            }
            let svc = cx.out.http.services.get(&service).cloned();
            if let Some(svc) = svc {
                cx.out.http.services.insert("default-backend".into(), svc);
            }
            cx.out.http.routers.insert(
                "default-router".into(),
                Router {
                    entry_points: plan.entry_points.clone(),
                    middlewares: chain.clone(),
                    service: "default-backend".into(),
                    rule: "PathPrefix(`/`)".into(),
                    priority: paths::DEFAULT_ROUTER_PRIORITY,
                    tls: plan.tls_only.then(|| tls_config.clone()),
                    ..Router::default()
                },
            );
        } else {
            // As ingress-nginx: the Ingress' default backend catches what its own hosts'
            // paths do not.
            for host in hosts_with_rules {
                let name = normalize(&format!("{base}-{host}-default-backend"));
                let mut hosts = vec![host.clone()];
                hosts.extend(plan.aliases.iter().cloned());
                let rule = format!(
                    "{} && PathPrefix(`/`)",
                    paths::host_matcher(&hosts).unwrap_or_default()
                );
                let host_tls = plan.tls_only || tls_all || tls_hosts.contains(&host);
                let router = Router {
                    entry_points: plan.entry_points.clone(),
                    middlewares: chain.clone(),
                    service: service.clone(),
                    rule,
                    priority: paths::fallback_priority(&host),
                    tls: plan.tls_only.then(|| tls_config.clone()),
                    ..Router::default()
                };
                if host_tls && !plan.tls_only {
                    cx.out.http.routers.insert(
                        format!("{name}-tls"),
                        Router {
                            tls: Some(tls_config.clone()),
                            ..router.clone()
                        },
                    );
                }
                cx.out.http.routers.insert(name, router);
            }
        }
    }
}

/// `$1` → `${1}`, so a digit run followed by letters keeps nginx' meaning.
fn braced_groups(target: &str) -> String {
    let mut out = String::with_capacity(target.len() + 4);
    let mut chars = target.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push_str("${");
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                out.push(d);
                chars.next();
            }
            out.push('}');
        } else {
            out.push(c);
        }
    }
    out
}

fn add_certificate(cx: &mut Cx<'_>, ns: &str, secret: &str) -> Result<(), String> {
    let key = (ns.to_owned(), secret.to_owned());
    if cx.certs.contains(&key) {
        return Ok(());
    }
    let (cert, k) = secrets::tls_pair(cx.set, ns, secret)?;
    cx.out.tls.certificates.push(CertAndStores {
        cert_file: cert,
        key_file: k,
        stores: Vec::new(),
    });
    cx.certs.insert(key);
    Ok(())
}

const SERVICE_ANNOTATION: &str = "traefik.ingress.kubernetes.io/service.";

/// The service for an Ingress backend, created once: `Normalize(ns-service-port)`, or
/// `Normalize(ns-ingress-service-port)` when the Ingress' annotations change how the
/// backend is reached.
fn backend_service(
    cx: &mut Cx<'_>,
    s: &Selected<'_>,
    b: &IngressBackend,
    field: &str,
) -> Option<String> {
    let key = s.key;
    let ns = key.namespace.as_str();
    let Some(svc) = &b.service else {
        let msg = if b.resource.is_some() {
            "resource backends are not supported by weir; use a Service"
        } else {
            "the backend names no service"
        };
        cx.problems.push(Problem::error(key, field, msg));
        return None;
    };
    let port = match (&svc.port.number, &svc.port.name) {
        (Some(n), _) if *n > 0 => IntOrString::Int(*n),
        (_, Some(n)) if !n.is_empty() => IntOrString::String(n.clone()),
        _ => {
            cx.problems.push(Problem::error(
                key,
                format!("{field}.service.port"),
                "set the port's number or name",
            ));
            return None;
        }
    };
    let plan = &s.plan;
    let name = if plan.tweaks_backend() {
        normalize(&format!("{ns}-{}-{}-{port}", key.name, svc.name))
    } else {
        normalize(&format!("{ns}-{}-{port}", svc.name))
    };
    if cx.out.http.services.contains_key(&name) {
        return Some(name);
    }
    // Traefik's service annotations on the Service object.
    let svc_key = ObjectRef {
        kind: Kind::Service,
        namespace: ns.to_owned(),
        name: svc.name.clone(),
    };
    let svc_annotations = cx
        .set
        .get(Kind::Service, ns, &svc.name)
        .map(|o| o.meta.annotations.clone())
        .unwrap_or_default();
    let mut scheme = plan.scheme.clone();
    let mut native_lb = None;
    let mut lb = ServersLoadBalancer {
        sticky: plan.sticky.clone(),
        ..ServersLoadBalancer::default()
    };
    let mut cookie = weir_config::dynamic::Cookie::default();
    let mut sticky_from_service = false;
    for (k, v) in &svc_annotations {
        let Some(short) = k.strip_prefix(SERVICE_ANNOTATION) else {
            continue;
        };
        let v = v.trim();
        let truthy = v.eq_ignore_ascii_case("true");
        match short {
            "serversscheme" => {
                if scheme.is_none() {
                    scheme = Some(v.to_owned());
                }
            }
            "passhostheader" => lb.pass_host_header = truthy,
            "nativelb" => native_lb = Some(truthy),
            "serverstransport" => v.clone_into(&mut lb.servers_transport),
            "sticky.cookie" => sticky_from_service = truthy,
            "sticky.cookie.name" => v.clone_into(&mut cookie.name),
            "sticky.cookie.secure" => cookie.secure = truthy,
            "sticky.cookie.httponly" => cookie.http_only = truthy,
            "sticky.cookie.samesite" => v.clone_into(&mut cookie.same_site),
            "sticky.cookie.domain" => v.clone_into(&mut cookie.domain),
            "sticky.cookie.path" => v.clone_into(&mut cookie.path),
            "sticky.cookie.maxage" => cookie.max_age = v.parse().unwrap_or(0),
            _ => cx.problems.push(Problem::warning(
                &svc_key,
                format!("metadata.annotations[{k}]"),
                "not supported by weir; ignored",
            )),
        }
    }
    if sticky_from_service && lb.sticky.is_none() {
        lb.sticky = Some(weir_config::dynamic::Sticky {
            cookie: Some(cookie),
        });
    }
    if plan.transport.is_some() {
        lb.servers_transport = normalize(&format!("{ns}-{}", key.name));
    }
    match backend::resolve(
        cx.set,
        cx.opts,
        &cx.ing.backends,
        ns,
        &svc.name,
        &port,
        &Want {
            scheme: scheme.as_deref(),
            native_lb,
        },
    ) {
        Ok(r) => {
            if let Some(w) = r.warning {
                cx.problems
                    .push(Problem::warning(key, format!("{field}.service"), w));
            }
            lb.servers = r.servers;
            cx.out.http.services.insert(
                name.clone(),
                Service {
                    load_balancer: Some(lb),
                    ..Service::default()
                },
            );
            Some(name)
        }
        Err(e) => {
            cx.problems
                .push(Problem::error(key, format!("{field}.service"), e));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::braced_groups;

    #[test]
    fn braces_capture_groups() {
        assert_eq!(braced_groups("/$2"), "/${2}");
        assert_eq!(braced_groups("/$1abc/$12"), "/${1}abc/${12}");
        assert_eq!(braced_groups("/plain$"), "/plain$");
    }
}
