//! IngressRoute → routers (one per route) and their services.

use weir_config::dynamic::{Router, RouterTlsConfig, Service, WeightedRoundRobin, WrrService};

use super::Cx;
use super::spec::IngressRouteSpec;
use crate::names::{ingress_route_router, object_id};
use crate::set::Kind;

pub(crate) fn ingress_routes(cx: &mut Cx<'_>) {
    for (key, obj) in cx.objects(Kind::IngressRoute) {
        let Some(spec) = cx.spec::<IngressRouteSpec>(key, obj) else {
            continue;
        };
        let ns = key.namespace.as_str();
        if !spec.parent_refs.is_empty() {
            cx.sink(key).error(
                "spec.parentRefs",
                "multi-layer routing (parentRefs) is not supported by weir yet",
            );
            continue;
        }
        // TLS first: every route of the object shares it.
        let mut tls = None;
        if let Some(t) = &spec.tls {
            let mut ok = true;
            if !t.secret_name.is_empty()
                && let Err(e) = cx.add_certificate(ns, &t.secret_name)
            {
                cx.sink(key).error("spec.tls.secretName", e);
                ok = false;
            }
            let mut options = String::new();
            if let Some(o) = t.options.as_ref().filter(|o| !o.name.is_empty()) {
                if o.name.contains('@') {
                    options.clone_from(&o.name);
                } else {
                    match cx.ref_namespace(ns, &o.namespace) {
                        Ok(ons) if o.name == "default" && ons == ns => {
                            "default".clone_into(&mut options)
                        }
                        Ok(ons) => options = object_id(&ons, &o.name),
                        Err(e) => {
                            cx.sink(key).error("spec.tls.options", e);
                            ok = false;
                        }
                    }
                }
            }
            if t.store
                .as_ref()
                .is_some_and(|s| !s.name.is_empty() && s.name != "default")
            {
                cx.sink(key).warning(
                    "spec.tls.store",
                    "only the default TLS store is used; this reference has no effect",
                );
            }
            if !ok {
                continue;
            }
            tls = Some(RouterTlsConfig {
                options,
                cert_resolver: t.cert_resolver.clone(),
                domains: t.domains.clone(),
            });
        }
        for (i, route) in spec.routes.iter().enumerate() {
            let field = format!("spec.routes[{i}]");
            if !route.kind.is_empty() && route.kind != "Rule" {
                cx.sink(key).error(
                    format!("{field}.kind"),
                    format!("kind {:?} is not supported; use Rule", route.kind),
                );
                continue;
            }
            if route.match_.trim().is_empty() {
                cx.sink(key).error(format!("{field}.match"), "missing");
                continue;
            }
            let name = ingress_route_router(ns, &key.name, &route.match_);
            if cx.out.http.routers.contains_key(&name) {
                cx.sink(key).error(
                    format!("{field}.match"),
                    format!("another route has the same match, so the same generated name {name}"),
                );
                continue;
            }
            let mut middlewares = Vec::new();
            let mut failed = false;
            for (j, m) in route.middlewares.iter().enumerate() {
                let mfield = format!("{field}.middlewares[{j}]");
                match cx.ref_name(ns, &m.name, &m.namespace) {
                    Ok(n) => {
                        let local = !n.contains('@');
                        let mns = if m.namespace.is_empty() {
                            ns
                        } else {
                            &m.namespace
                        };
                        if local && cx.set.get(Kind::Middleware, mns, &m.name).is_none() {
                            cx.sink(key)
                                .error(mfield, format!("middleware {mns}/{} not found", m.name));
                            failed = true;
                        } else {
                            middlewares.push(n);
                        }
                    }
                    Err(e) => {
                        cx.sink(key).error(mfield, e);
                        failed = true;
                    }
                }
            }
            if failed {
                continue;
            }
            let service = match route.services.len() {
                0 => {
                    cx.sink(key).error(
                        format!("{field}.services"),
                        "a route needs at least one service",
                    );
                    continue;
                }
                1 => {
                    let s = &route.services[0];
                    let sfield = format!("{field}.services[0]");
                    if s.is_traefik_service() {
                        match cx.ref_name(ns, &s.name, &s.namespace) {
                            Ok(n) => Some(n),
                            Err(e) => {
                                cx.sink(key).error(sfield, e);
                                None
                            }
                        }
                    } else {
                        match cx.load_balancer(ns, s) {
                            Ok((lb, warning)) => {
                                if let Some(w) = warning {
                                    cx.sink(key).warning(sfield, w);
                                }
                                cx.out.http.services.insert(
                                    name.clone(),
                                    Service {
                                        load_balancer: Some(lb),
                                        ..Service::default()
                                    },
                                );
                                Some(name.clone())
                            }
                            Err(e) => {
                                cx.sink(key).error(sfield, e);
                                None
                            }
                        }
                    }
                }
                _ => {
                    let mut children = Vec::new();
                    let mut ok = true;
                    for (j, s) in route.services.iter().enumerate() {
                        let sfield = format!("{field}.services[{j}]");
                        match cx.child_service(key, &sfield, ns, s) {
                            Ok(n) => children.push(WrrService {
                                name: n,
                                weight: s.weight.unwrap_or(1),
                            }),
                            Err(e) => {
                                cx.sink(key).error(sfield, e);
                                ok = false;
                            }
                        }
                    }
                    ok.then(|| {
                        cx.out.http.services.insert(
                            name.clone(),
                            Service {
                                weighted: Some(WeightedRoundRobin {
                                    services: children,
                                    ..Default::default()
                                }),
                                ..Service::default()
                            },
                        );
                        name.clone()
                    })
                }
            };
            let Some(service) = service else {
                continue;
            };
            cx.out.http.routers.insert(
                name,
                Router {
                    entry_points: spec.entry_points.clone(),
                    middlewares,
                    service,
                    rule: route.match_.clone(),
                    rule_syntax: route.syntax.clone(),
                    priority: route.priority,
                    tls: tls.clone(),
                    observability: route.observability.clone(),
                    ..Router::default()
                },
            );
        }
    }
}
