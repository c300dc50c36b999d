#![allow(clippy::unwrap_used)]
//! Translation tests on YAML fixtures: the Kubernetes documentation's path table, hosts,
//! precedence, references, missing objects, annotations, and the two scenarios.

use std::path::{Path, PathBuf};

use http::{HeaderMap, Method};
use weir_config::dynamic::Configuration;
use weir_kube::manifests::Manifests;
use weir_kube::{Options, Translation, translate};
use weir_rules::{RequestView, RouteSet, RouteSetBuilder, Rule};

fn manifests(yaml: &str) -> Manifests {
    let mut m = Manifests::default();
    m.add_text(Path::new("test.yaml"), yaml);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    m
}

fn opts() -> Options {
    Options {
        offline: true,
        ..Options::both()
    }
}

fn run(yaml: &str) -> (Manifests, Translation) {
    let m = manifests(yaml);
    let t = translate(&m.set, &opts());
    (m, t)
}

fn problems(m: &Manifests, t: &Translation) -> Vec<String> {
    t.problems
        .iter()
        .map(|p| format!("{}: {}", p.severity, m.locate(p)))
        .collect()
}

/// Routers of a configuration in a route set, valued by service name.
fn table(c: &Configuration) -> RouteSet<String> {
    let mut b = RouteSetBuilder::new();
    for (name, r) in &c.http.routers {
        if r.tls.is_some() {
            continue;
        }
        let rule = Rule::parse(&r.rule).unwrap_or_else(|e| panic!("{}: {e}", r.rule));
        let prio = if r.priority == 0 {
            rule.default_priority()
        } else {
            r.priority
        };
        b.add(rule, prio, name, r.service.clone());
    }
    b.build()
}

fn find(t: &RouteSet<String>, host: &str, path: &str) -> Option<String> {
    let headers = HeaderMap::new();
    t.find(&RequestView {
        host,
        path,
        method: &Method::GET,
        headers: &headers,
        query: "",
        client_ip: None,
    })
    .cloned()
}

fn service(name: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  ports: [{{name: http, port: 80}}]\n"
    )
}

fn ingress(name: &str, host: Option<&str>, paths: &[(&str, &str, &str)]) -> String {
    let mut y = format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  rules:\n  - "
    );
    if let Some(h) = host {
        y.push_str(&format!("host: \"{h}\"\n    "));
    }
    y.push_str("http:\n      paths:\n");
    for (path, ty, svc) in paths {
        y.push_str(&format!(
            "      - path: \"{path}\"\n        pathType: {ty}\n        backend:\n          service: {{name: {svc}, port: {{number: 80}}}}\n"
        ));
    }
    y
}

/// Paths with their types, a request path, and the index of the path that should win.
type PathCase<'a> = (&'a [(&'a str, &'a str)], &'a str, Option<usize>);

/// The Kubernetes documentation's table of path matches ("Examples").
#[test]
fn kubernetes_path_examples() {
    let cases: &[PathCase<'_>] = &[
        (&[("/", "Prefix")], "/anything/at/all", Some(0)),
        (&[("/foo", "Exact")], "/foo", Some(0)),
        (&[("/foo", "Exact")], "/bar", None),
        (&[("/foo", "Exact")], "/foo/", None),
        (&[("/foo/", "Exact")], "/foo", None),
        (&[("/foo", "Prefix")], "/foo", Some(0)),
        (&[("/foo", "Prefix")], "/foo/", Some(0)),
        (&[("/foo/", "Prefix")], "/foo", Some(0)),
        (&[("/foo/", "Prefix")], "/foo/", Some(0)),
        (&[("/aaa/bb", "Prefix")], "/aaa/bbb", None),
        (&[("/aaa/bbb", "Prefix")], "/aaa/bbb", Some(0)),
        (&[("/aaa/bbb/", "Prefix")], "/aaa/bbb", Some(0)),
        (&[("/aaa/bbb", "Prefix")], "/aaa/bbb/", Some(0)),
        (&[("/aaa/bbb", "Prefix")], "/aaa/bbb/ccc", Some(0)),
        (&[("/aaa/bbb", "Prefix")], "/aaa/bbbxyz", None),
        (&[("/", "Prefix"), ("/aaa", "Prefix")], "/aaa/ccc", Some(1)),
        (
            &[("/", "Prefix"), ("/aaa", "Prefix"), ("/aaa/bbb", "Prefix")],
            "/aaa/bbb",
            Some(2),
        ),
        (
            &[("/", "Prefix"), ("/aaa", "Prefix"), ("/aaa/bbb", "Prefix")],
            "/ccc",
            Some(0),
        ),
        (&[("/aaa", "Prefix")], "/ccc", None),
        (&[("/foo", "Prefix"), ("/foo", "Exact")], "/foo", Some(1)),
        (
            &[("/foo", "Prefix"), ("/foo/", "Prefix")],
            "/foo/x",
            Some(1),
        ),
    ];
    for (paths, request, want) in cases {
        let mut y = String::new();
        let mut spec = Vec::new();
        for (i, (p, ty)) in paths.iter().enumerate() {
            y.push_str(&service(&format!("s{i}")));
            spec.push((*p, *ty, format!("s{i}")));
        }
        let spec: Vec<(&str, &str, &str)> =
            spec.iter().map(|(a, b, c)| (*a, *b, c.as_str())).collect();
        y.push_str(&ingress("ing", Some("foo.bar.com"), &spec));
        let (m, t) = run(&y);
        assert!(t.problems.is_empty(), "{:?}", problems(&m, &t));
        let got = find(&table(&t.ingress), "foo.bar.com", request);
        let want = want.map(|i| format!("default-s{i}-80"));
        assert_eq!(got, want, "paths {paths:?} request {request}");
    }
}

#[test]
fn hosts_exact_wildcard_and_none() {
    let mut y = service("exact") + &service("wild") + &service("any");
    y += &ingress("a", Some("foo.bar.com"), &[("/", "Prefix", "exact")]);
    y += &ingress("b", Some("*.bar.com"), &[("/", "Prefix", "wild")]);
    y += &ingress("c", None, &[("/very/long/path", "Prefix", "any")]);
    let (m, t) = run(&y);
    assert!(t.problems.is_empty(), "{:?}", problems(&m, &t));
    let tb = table(&t.ingress);
    assert_eq!(
        find(&tb, "foo.bar.com", "/very/long/path").as_deref(),
        Some("default-exact-80")
    );
    assert_eq!(
        find(&tb, "baz.bar.com", "/").as_deref(),
        Some("default-wild-80")
    );
    // One label only.
    assert_eq!(find(&tb, "a.baz.bar.com", "/"), None);
    assert_eq!(find(&tb, "bar.com", "/"), None);
    assert_eq!(
        find(&tb, "other.com", "/very/long/path/x").as_deref(),
        Some("default-any-80")
    );
    assert_eq!(
        t.ingress.http.routers["default-a-foo-bar-com"].rule,
        "Host(`foo.bar.com`) && PathPrefix(`/`)"
    );
}

#[test]
fn invalid_hosts_and_paths_are_reported_others_served() {
    let mut y = service("s");
    y += &ingress("bad-host", Some("10.0.0.1"), &[("/", "Prefix", "s")]);
    y += &ingress(
        "bad-path",
        Some("a.com"),
        &[("/a//b", "Exact", "s"), ("/ok", "Exact", "s")],
    );
    let (m, t) = run(&y);
    let p = problems(&m, &t);
    assert!(
        p.iter()
            .any(|l| l.contains("bad-host spec.rules[0].host") && l.contains("IP")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.contains("bad-path spec.rules[0].http.paths[0].path")),
        "{p:?}"
    );
    assert_eq!(t.ingress.http.routers.len(), 1);
    assert!(
        t.ingress
            .http
            .routers
            .contains_key("default-bad-path-a-com-ok")
    );
}

#[test]
fn missing_service_disables_only_its_path_with_file_and_line() {
    let mut y = service("s");
    y += &ingress(
        "ing",
        Some("a.com"),
        &[("/x", "Prefix", "missing"), ("/y", "Prefix", "s")],
    );
    let (m, t) = run(&y);
    let p = problems(&m, &t);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("error: test.yaml:"), "{p:?}");
    assert!(p[0].contains("service default/missing not found"), "{p:?}");
    // The line is the one of the backend's service field.
    let line: usize = p[0].split(':').nth(2).unwrap().trim().parse().unwrap();
    assert_eq!(
        y.lines().nth(line - 1).unwrap().trim(),
        "service: {name: missing, port: {number: 80}}"
    );
    assert_eq!(
        find(&table(&t.ingress), "a.com", "/y").as_deref(),
        Some("default-s-80")
    );
    assert_eq!(find(&table(&t.ingress), "a.com", "/x"), None);
}

#[test]
fn ingress_class_selection() {
    let base = service("s");
    let with = |class: &str| {
        format!(
            "{base}---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {{name: nginx}}\nspec: {{controller: k8s.io/ingress-nginx}}\n---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {{name: weir}}\nspec: {{controller: traefik.io/ingress-controller}}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: i, namespace: default}}\nspec:\n  {class}\n  defaultBackend: {{service: {{name: s, port: {{number: 80}}}}}}\n"
        )
    };
    let served = |y: &str, o: &Options| {
        !translate(&manifests(y).set, o)
            .ingress
            .http
            .routers
            .is_empty()
    };
    let mut o = opts();
    assert!(served(&with("ingressClassName: weir"), &o));
    assert!(!served(&with("ingressClassName: nginx"), &o));
    assert!(!served(&with("ingressClassName: nope"), &o));
    o.ingress.as_mut().unwrap().ingress_class = "nginx".into();
    assert!(served(&with("ingressClassName: nginx"), &o));
    assert!(!served(&with("ingressClassName: weir"), &o));
    // The legacy annotation.
    let legacy = |v: &str| {
        format!(
            "{base}---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  annotations: {{kubernetes.io/ingress.class: {v}}}\nspec:\n  defaultBackend: {{service: {{name: s, port: {{number: 80}}}}}}\n"
        )
    };
    assert!(served(&legacy("nginx"), &o));
    assert!(!served(&legacy("traefik"), &o));
    assert!(served(&legacy("traefik"), &opts()));
    // No class at all: served when weir has no class name, unless a default class of
    // another controller exists.
    let none = format!(
        "{base}---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: i}}\nspec:\n  defaultBackend: {{service: {{name: s, port: {{number: 80}}}}}}\n"
    );
    assert!(served(&none, &opts()));
    let other_default = format!(
        "{none}---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: other\n  annotations: {{ingressclass.kubernetes.io/is-default-class: \"true\"}}\nspec: {{controller: example.com/other}}\n"
    );
    assert!(!served(&other_default, &opts()));
}

#[test]
fn default_backend_catch_all() {
    let y = service("s")
        + "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  defaultBackend: {service: {name: s, port: {number: 80}}}\n";
    let (_, t) = run(&y);
    let r = &t.ingress.http.routers["default-router"];
    assert_eq!(r.rule, "PathPrefix(`/`)");
    assert_eq!(r.service, "default-backend");
    assert!(r.priority < 0);
    assert!(t.ingress.http.services.contains_key("default-backend"));
}

#[test]
fn endpoints_from_slices_ready_only_terminating_fenced() {
    let y = service("s")
        + "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: s-abc\n  labels: {kubernetes.io/service-name: s}\naddressType: IPv4\nports: [{name: http, port: 8080}]\nendpoints:\n- addresses: [10.0.0.1]\n  conditions: {ready: true}\n- addresses: [10.0.0.2]\n  conditions: {ready: false}\n- addresses: [10.0.0.3]\n  conditions: {ready: false, serving: true, terminating: true}\n- addresses: [10.0.0.4]\n"
        + &ingress("i", Some("a.com"), &[("/", "Prefix", "s")]);
    let (m, t) = run(&y);
    assert!(t.problems.is_empty(), "{:?}", problems(&m, &t));
    let lb = t.ingress.http.services["default-s-80"]
        .load_balancer
        .clone()
        .unwrap();
    let urls: Vec<(String, bool)> = lb
        .servers
        .iter()
        .map(|s| (s.url.clone(), s.fenced))
        .collect();
    assert_eq!(
        urls,
        vec![
            ("http://10.0.0.1:8080".to_owned(), false),
            ("http://10.0.0.3:8080".to_owned(), true),
            ("http://10.0.0.4:8080".to_owned(), false),
        ]
    );
}

#[test]
fn endpoint_overrides_win() {
    let y = service("s") + &ingress("i", Some("a.com"), &[("/", "Prefix", "s")]);
    let m = manifests(&y);
    let mut o = opts();
    o.endpoints.insert(
        ("default".into(), "s".into(), "80".into()),
        vec!["127.0.0.1:9101".into()],
    );
    let t = translate(&m.set, &o);
    let lb = t.ingress.http.services["default-s-80"]
        .load_balancer
        .clone()
        .unwrap();
    assert_eq!(lb.servers[0].url, "http://127.0.0.1:9101");
}

const ROUTE: &str = "---\napiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: r, namespace: app}\nspec:\n  entryPoints: [web]\n  routes:\n  - match: Host(`a.com`)\n    kind: Rule\n";

#[test]
fn cross_namespace_references_are_refused_by_default() {
    let y = "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: other}\nspec: {ports: [{port: 80}]}\n---\napiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata: {name: m, namespace: other}\nspec: {stripPrefix: {prefixes: [/x]}}\n".to_owned()
        + ROUTE
        + "    middlewares: [{name: m, namespace: other}]\n    services: [{name: s, namespace: other, port: 80}]\n";
    let (m, t) = run(&y);
    let p = problems(&m, &t);
    assert!(
        p.iter().any(
            |l| l.contains("IngressRoute app/r spec.routes[0].middlewares[0]")
                && l.contains("allowCrossNamespace")
        ),
        "{p:?}"
    );
    assert!(t.crd.http.routers.is_empty());
    let mut o = opts();
    o.crd.as_mut().unwrap().allow_cross_namespace = true;
    let t = translate(&m.set, &o);
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    let r = t.crd.http.routers.values().next().unwrap();
    assert_eq!(r.middlewares, ["other-m"]);
}

#[test]
fn ingress_route_names_services_and_weights() {
    let y = "---\napiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: app}\nspec: {ports: [{name: web, port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: app}\nspec: {ports: [{name: https, port: 443}]}\n".to_owned()
        + ROUTE
        + "    services:\n    - {name: a, port: web, weight: 3}\n    - {name: b, port: 443}\n    - {name: api@internal, kind: TraefikService}\n";
    let (m, t) = run(&y);
    assert!(t.problems.is_empty(), "{:?}", problems(&m, &t));
    let (name, r) = t.crd.http.routers.iter().next().unwrap();
    assert!(
        name.starts_with("app-r-") && name.len() == "app-r-".len() + 20,
        "{name}"
    );
    assert_eq!(&r.service, name);
    let w = t.crd.http.services[name].weighted.clone().unwrap();
    let children: Vec<(String, i64)> = w
        .services
        .iter()
        .map(|s| (s.name.clone(), s.weight))
        .collect();
    assert_eq!(
        children,
        [
            ("app-a-web".into(), 3),
            ("app-b-443".into(), 1),
            ("api@internal".into(), 1)
        ]
    );
    let b = t.crd.http.services["app-b-443"]
        .load_balancer
        .clone()
        .unwrap();
    assert_eq!(b.servers[0].url, "https://b.app.svc:443");
}

#[test]
fn missing_tls_secret_and_middleware_are_errors() {
    let y = "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: app}\nspec: {ports: [{port: 80}]}\n".to_owned()
        + ROUTE
        + "    middlewares: [{name: nope}]\n    services: [{name: s, port: 80}]\n  tls: {secretName: cert}\n";
    let (m, t) = run(&y);
    let p = problems(&m, &t);
    assert!(
        p.iter()
            .any(|l| l.contains("spec.tls.secretName") && l.contains("secret app/cert not found")),
        "{p:?}"
    );
    assert!(t.crd.http.routers.is_empty());
}

#[test]
fn tls_secret_middleware_secret_and_options() {
    let pem_cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let y = format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: cert, namespace: app}}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n    -----BEGIN CERTIFICATE-----\n    MIIB\n    -----END CERTIFICATE-----\n  tls.key: KEY\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: users, namespace: app}}\ndata:\n  users: dXNlcjokYXByMSRIYXNoCg==\n---\napiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata: {{name: auth, namespace: app}}\nspec: {{basicAuth: {{secret: users}}}}\n---\napiVersion: traefik.io/v1alpha1\nkind: TLSOption\nmetadata: {{name: modern, namespace: app}}\nspec: {{minVersion: VersionTLS12, sniStrict: true}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: app}}\nspec: {{ports: [{{port: 80}}]}}\n{ROUTE}    middlewares: [{{name: auth}}]\n    services: [{{name: s, port: 80}}]\n  tls:\n    secretName: cert\n    options: {{name: modern}}\n"
    );
    let (m, t) = run(&y);
    assert!(t.problems.is_empty(), "{:?}", problems(&m, &t));
    assert_eq!(t.crd.tls.certificates.len(), 1);
    assert_eq!(t.crd.tls.certificates[0].cert_file, pem_cert);
    assert_eq!(t.crd.tls.options["app-modern"].min_version, "VersionTLS12");
    assert_eq!(
        t.crd.http.middlewares["app-auth"]
            .basic_auth
            .clone()
            .unwrap()
            .users,
        ["user:$apr1$Hash"]
    );
    let r = t.crd.http.routers.values().next().unwrap();
    assert_eq!(r.tls.clone().unwrap().options, "app-modern");
    assert_eq!(r.middlewares, ["app-auth"]);
}

#[test]
fn nginx_annotations() {
    let y = service("s")
        + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: htpasswd}\nstringData: {auth: \"admin:$apr1$x\"}\n"
        + "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  annotations:\n"
        + "    nginx.ingress.kubernetes.io/force-ssl-redirect: \"true\"\n"
        + "    nginx.ingress.kubernetes.io/whitelist-source-range: \"10.0.0.0/8, 192.168.0.0/16\"\n"
        + "    nginx.ingress.kubernetes.io/auth-type: basic\n"
        + "    nginx.ingress.kubernetes.io/auth-secret: htpasswd\n"
        + "    nginx.ingress.kubernetes.io/auth-realm: Private\n"
        + "    nginx.ingress.kubernetes.io/enable-cors: \"true\"\n"
        + "    nginx.ingress.kubernetes.io/cors-allow-origin: \"https://a.com, https://b.com\"\n"
        + "    nginx.ingress.kubernetes.io/affinity: cookie\n"
        + "    nginx.ingress.kubernetes.io/session-cookie-name: route\n"
        + "    nginx.ingress.kubernetes.io/backend-protocol: GRPC\n"
        + "    nginx.ingress.kubernetes.io/upstream-vhost: internal.svc\n"
        + "    nginx.ingress.kubernetes.io/limit-rps: \"10\"\n"
        + "    nginx.ingress.kubernetes.io/app-root: /app1\n"
        + "    nginx.ingress.kubernetes.io/proxy-next-upstream: error\n"
        + "    nginx.ingress.kubernetes.io/made-up: x\n"
        + "spec:\n  rules:\n  - host: a.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}\n";
    let (m, t) = run(&y);
    let p = problems(&m, &t);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p.iter().any(|l| l.starts_with("warning")
            && l.contains("proxy-next-upstream")
            && l.contains("not supported")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.contains("made-up") && l.contains("unknown")),
        "{p:?}"
    );
    let c = &t.ingress;
    let r = &c.http.routers["default-i-a-com"];
    assert_eq!(r.middlewares[0], "default-i-ssl-redirect");
    assert!(
        c.http.middlewares["default-i-ssl-redirect"]
            .redirect_scheme
            .is_some()
    );
    assert_eq!(
        c.http.middlewares["default-i-allowlist"]
            .ip_allow_list
            .clone()
            .unwrap()
            .source_range,
        ["10.0.0.0/8", "192.168.0.0/16"]
    );
    let auth = c.http.middlewares["default-i-auth"]
        .basic_auth
        .clone()
        .unwrap();
    assert_eq!(
        (auth.users, auth.realm),
        (vec!["admin:$apr1$x".to_owned()], "Private".to_owned())
    );
    let cors = c.http.middlewares["default-i-cors"]
        .headers
        .clone()
        .unwrap();
    assert_eq!(
        cors.access_control_allow_origin_list,
        ["https://a.com", "https://b.com"]
    );
    assert!(cors.access_control_allow_credentials);
    assert_eq!(
        c.http.middlewares["default-i-headers"]
            .headers
            .clone()
            .unwrap()
            .custom_request_headers["Host"],
        "internal.svc"
    );
    assert_eq!(
        c.http.middlewares["default-i-limit-rps"]
            .rate_limit
            .clone()
            .unwrap()
            .burst,
        50
    );
    assert!(
        c.http.middlewares["default-i-app-root"]
            .redirect_regex
            .is_some()
    );
    let lb = c.http.services[&r.service].load_balancer.clone().unwrap();
    assert_eq!(lb.servers[0].url, "h2c://s.default.svc:80");
    assert_eq!(lb.sticky.unwrap().cookie.unwrap().name, "route");
}

#[test]
fn nginx_buffering_annotations() {
    let with = |annotations: &[(&str, &str)]| {
        let mut y = service("s")
            + "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  annotations:\n";
        for (k, v) in annotations {
            y += &format!("    nginx.ingress.kubernetes.io/{k}: \"{v}\"\n");
        }
        y += "    nginx.ingress.kubernetes.io/use-regex: \"false\"\n";
        y += "spec:\n  rules:\n  - host: a.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}\n";
        let (m, t) = run(&y);
        let buffering = t
            .ingress
            .http
            .middlewares
            .get("default-i-body-size")
            .and_then(|m| m.buffering.clone());
        (problems(&m, &t), buffering)
    };
    // A size alone: requests buffered (ingress-nginx' default), responses streamed.
    let (p, b) = with(&[("proxy-body-size", "8m")]);
    assert!(p.is_empty(), "{p:?}");
    let b = b.unwrap();
    assert_eq!(b.max_request_body_bytes, 8 * 1024 * 1024);
    assert_eq!(b.mem_request_body_bytes, 1024 * 1024);
    assert_eq!(
        (b.request_buffering, b.response_buffering),
        (Some(true), Some(false))
    );
    // Every knob.
    let (p, b) = with(&[
        ("proxy-body-size", "1g"),
        ("client-body-buffer-size", "16k"),
        ("proxy-request-buffering", "off"),
        ("proxy-buffering", "on"),
    ]);
    assert!(p.is_empty(), "{p:?}");
    let b = b.unwrap();
    assert_eq!(b.max_request_body_bytes, 1024 * 1024 * 1024);
    assert_eq!(b.mem_request_body_bytes, 16 * 1024);
    assert_eq!(
        (b.request_buffering, b.response_buffering),
        (Some(false), Some(true))
    );
    // Nothing to limit or buffer: no middleware (0 is unlimited, streaming is weir's way).
    for annotations in [
        &[("proxy-body-size", "0")][..],
        &[
            ("proxy-buffering", "off"),
            ("proxy-request-buffering", "off"),
        ][..],
    ] {
        let (p, b) = with(annotations);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(b, None, "{annotations:?}");
    }
    // Bad values are reported, naming the annotation.
    let (p, _) = with(&[("proxy-body-size", "ten"), ("proxy-buffering", "maybe")]);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p.iter()
            .any(|l| l.contains("proxy-body-size") && l.contains("\"ten\"")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.contains("proxy-buffering") && l.contains("on or off")),
        "{p:?}"
    );
}

#[test]
fn snippets_are_refused() {
    let y = service("s")
        + "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  annotations:\n    nginx.ingress.kubernetes.io/configuration-snippet: |\n      more_set_headers \"X: y\";\n"
        + "spec:\n  rules:\n  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}\n";
    let (m, t) = run(&y);
    let p = problems(&m, &t);
    assert!(
        p.iter().any(|l| l.starts_with("error")
            && l.contains("configuration-snippet")
            && l.contains("IngressNightmare")),
        "{p:?}"
    );
    assert!(t.ingress.http.routers.is_empty());
}

#[test]
fn canary_weight_and_header() {
    let y = service("main")
        + &service("canary")
        + &ingress("main", Some("a.com"), &[("/", "Prefix", "main")])
        + "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: canary\n  annotations:\n    nginx.ingress.kubernetes.io/canary: \"true\"\n    nginx.ingress.kubernetes.io/canary-weight: \"20\"\n    nginx.ingress.kubernetes.io/canary-by-header: X-Canary\n"
        + "spec:\n  rules:\n  - host: a.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: canary, port: {number: 80}}}}\n";
    let (m, t) = run(&y);
    assert!(t.problems.is_empty(), "{:?}", problems(&m, &t));
    let c = &t.ingress;
    let r = &c.http.routers["default-main-a-com"];
    let w = c.http.services[&r.service].weighted.clone().unwrap();
    let ws: Vec<(String, i64)> = w
        .services
        .iter()
        .map(|s| (s.name.clone(), s.weight))
        .collect();
    assert_eq!(
        ws,
        [
            ("default-main-80".into(), 80),
            ("default-canary-80".into(), 20)
        ]
    );
    let h = &c.http.routers["default-main-a-com-canary-header"];
    assert_eq!(h.service, "default-canary-80");
    assert!(h.rule.ends_with("&& Header(`X-Canary`, `always`)"));
    assert!(h.priority > r.priority);
}

#[test]
fn tls_hosts_get_a_tls_router_and_nginx_redirects() {
    let y = service("s")
        + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: cert}\ntype: kubernetes.io/tls\nstringData: {tls.crt: CERT, tls.key: KEY}\n"
        + "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  tls: [{hosts: [a.com], secretName: cert}]\n  rules:\n  - host: a.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}\n";
    let (m, t) = run(&y);
    assert!(t.problems.is_empty(), "{:?}", problems(&m, &t));
    let c = &t.ingress;
    assert!(c.http.routers["default-i-a-com-tls"].tls.is_some());
    // Kubernetes semantics: plain HTTP still served (no redirect without ingress-nginx).
    assert!(c.http.routers["default-i-a-com"].middlewares.is_empty());
    assert_eq!(c.tls.certificates[0].cert_file, "CERT");
    // With ingress-nginx' class, ssl-redirect defaults to on for TLS hosts.
    let nginx = y.replace("spec:\n  tls:", "spec:\n  ingressClassName: nginx\n  tls:");
    let m = manifests(&nginx);
    let mut o = opts();
    o.ingress.as_mut().unwrap().ingress_class = "nginx".into();
    let t = translate(&m.set, &o);
    assert_eq!(
        t.ingress.http.routers["default-i-a-com"].middlewares,
        ["default-i-ssl-redirect"]
    );
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/kubernetes")
        .join(name)
}

#[test]
fn todo_app_scenario() {
    let m = Manifests::read(&[example("todo-app")], false).unwrap();
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let mut o = opts();
    o.ingress.as_mut().unwrap().ingress_class = "nginx".into();
    let t = translate(&m.set, &o);
    assert!(t.problems.is_empty(), "{:?}", problems(&m, &t));
    let c = &t.ingress;
    let api = &c.http.routers["todo-phaseiv-todo-app-api-todo-app-local-api"];
    assert_eq!(
        api.rule,
        "Host(`todo-app.local`) && PathRegexp(`(?i)^/api(/|$)(.*)`)"
    );
    assert_eq!(
        api.middlewares,
        [
            "todo-phaseiv-todo-app-api-body-size",
            "todo-phaseiv-todo-app-api-todo-app-local-api-rewrite-target"
        ]
    );
    let rw = c.http.middlewares["todo-phaseiv-todo-app-api-todo-app-local-api-rewrite-target"]
        .replace_path_regex
        .clone()
        .unwrap();
    assert_eq!(
        (rw.regex.as_str(), rw.replacement.as_str()),
        ("(?i)^/api(/|$)(.*)", "/${2}")
    );
    let body = c.http.middlewares["todo-phaseiv-todo-app-api-body-size"]
        .buffering
        .clone()
        .unwrap();
    assert_eq!(body.max_request_body_bytes, 10 * 1024 * 1024);
    // `proxy-buffering: off` keeps the chat replies streamed (row 4).
    assert_eq!(
        (body.request_buffering, body.response_buffering),
        (Some(true), Some(false))
    );
    let st = &c.http.servers_transports["todo-phaseiv-todo-app-api"];
    assert_eq!(
        st.forwarding_timeouts.response_header_timeout,
        weir_config::Duration::from_secs(120)
    );
    let tb = table(c);
    assert_eq!(
        find(&tb, "todo-app.local", "/").as_deref(),
        Some("todo-phaseiv-todo-app-frontend-3000")
    );
    assert_eq!(
        find(&tb, "todo-app.local", "/api/health").as_deref(),
        Some("todo-phaseiv-todo-app-api-todo-app-backend-8000")
    );
    assert_eq!(find(&tb, "other.local", "/"), None);
    // Without taking over the nginx class, weir says why it serves nothing.
    let t = translate(&m.set, &opts());
    assert!(t.ingress.http.routers.is_empty());
    assert!(
        t.problems
            .iter()
            .all(|p| !p.is_error() && p.message.contains("ingressclass=nginx")),
        "{:?}",
        t.problems
    );
}

#[test]
fn edge_basics_scenario() {
    let m = Manifests::read(&[example("edge-basics")], true).unwrap();
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    assert_eq!(m.skipped.get("apps/v1/Deployment"), Some(&2));
    let t = translate(&m.set, &opts());
    let p = problems(&m, &t);
    // Only the TLS secrets the user creates with kubectl are missing.
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p.iter()
            .all(|l| l.contains("40-tls.yaml") && l.contains("spec.tls.secretName")),
        "{p:?}"
    );
    let c = &t.crd;
    let whoami = c
        .http
        .routers
        .values()
        .find(|r| r.rule == "Host(`whoami.local`)")
        .unwrap();
    // The redirect step (read last, with -R) replaced whoami-http.
    assert_eq!(whoami.middlewares, ["default-https-redirect"]);
    assert!(
        c.http.middlewares["default-https-redirect"]
            .redirect_scheme
            .clone()
            .unwrap()
            .permanent
    );
    let dash = c
        .http
        .routers
        .values()
        .find(|r| r.rule.contains("traefik.local"))
        .unwrap();
    assert_eq!(dash.service, "api@internal");
    assert!(c.tls.options.contains_key("default-modern"));
    // Without -R, the first whoami-http stays.
    let m = Manifests::read(&[example("edge-basics")], false).unwrap();
    let t = translate(&m.set, &opts());
    let whoami = t
        .crd
        .http
        .routers
        .values()
        .find(|r| r.rule == "Host(`whoami.local`)")
        .unwrap();
    assert!(whoami.middlewares.is_empty());
}

#[test]
fn nginx_auth_url_becomes_forward_auth() {
    let y = service("s")
        + "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  annotations:\n"
        + "    nginx.ingress.kubernetes.io/auth-url: \"http://oauth2-proxy.auth.svc/oauth2/auth\"\n"
        + "    nginx.ingress.kubernetes.io/auth-response-headers: \"X-Auth-Request-User, X-Auth-Request-Email\"\n"
        + "    nginx.ingress.kubernetes.io/auth-method: GET\n"
        + "spec:\n  rules:\n  - host: a.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}\n"
        + "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: j\n  annotations:\n"
        + "    nginx.ingress.kubernetes.io/auth-url: \"http://auth.svc/check\"\n"
        + "    nginx.ingress.kubernetes.io/auth-method: POST\n"
        + "    nginx.ingress.kubernetes.io/auth-signin: \"https://login.example/start\"\n"
        + "spec:\n  rules:\n  - host: b.com\n    http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}\n";
    let (m, t) = run(&y);
    let p = problems(&m, &t);
    // GET is what weir sends: no warning for i; j's POST and auth-signin are warned about.
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p.iter()
            .any(|l| l.starts_with("warning") && l.contains("auth-method") && l.contains("POST")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.starts_with("warning") && l.contains("auth-signin") && l.contains("rd=")),
        "{p:?}"
    );
    let c = &t.ingress;
    let r = &c.http.routers["default-i-a-com"];
    assert!(
        r.middlewares.contains(&"default-i-auth-url".to_owned()),
        "{:?}",
        r.middlewares
    );
    let fa = c.http.middlewares["default-i-auth-url"]
        .forward_auth
        .clone()
        .unwrap();
    assert_eq!(fa.address, "http://oauth2-proxy.auth.svc/oauth2/auth");
    assert_eq!(
        fa.auth_response_headers,
        ["X-Auth-Request-User", "X-Auth-Request-Email"]
    );
    assert_eq!(fa.auth_signin_url, "");
    let fa = c.http.middlewares["default-j-auth-url"]
        .forward_auth
        .clone()
        .unwrap();
    assert_eq!(fa.auth_signin_url, "https://login.example/start");
}

#[test]
fn forward_auth_tls_from_secrets() {
    let secrets = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: auth-ca, namespace: app}\nstringData:\n  ca.crt: |\n    -----BEGIN CERTIFICATE-----\n    Q0E=\n    -----END CERTIFICATE-----\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: auth-client, namespace: app}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n    -----BEGIN CERTIFICATE-----\n    Q0xJRU5U\n    -----END CERTIFICATE-----\n  tls.key: |\n    -----BEGIN PRIVATE KEY-----\n    S0VZ\n    -----END PRIVATE KEY-----\n";
    let mw = |name: &str, tls: &str| {
        format!(
            "---\napiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata: {{name: {name}, namespace: app}}\nspec:\n  forwardAuth:\n    address: https://auth.app.svc/verify\n    trustForwardHeader: true\n    tls: {tls}\n"
        )
    };
    let y = secrets.to_owned()
        + &mw("good", "{caSecret: auth-ca, certSecret: auth-client}")
        + &mw("no-ca", "{caSecret: missing}");
    let (m, t) = run(&y);
    let p = problems(&m, &t);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("error")
            && p[0].contains("spec.forwardAuth.tls.caSecret")
            && p[0].contains("missing"),
        "{p:?}"
    );
    assert!(!t.crd.http.middlewares.contains_key("app-no-ca"));
    let fa = t.crd.http.middlewares["app-good"]
        .forward_auth
        .clone()
        .unwrap();
    assert!(fa.trust_forward_header);
    let tls = fa.tls.unwrap();
    assert!(tls.ca.contains("Q0E="), "{}", tls.ca);
    assert!(tls.cert.contains("Q0xJRU5U"), "{}", tls.cert);
    assert!(tls.key.contains("S0VZ"), "{}", tls.key);
}
