//! The edge-basics scenario files must load without errors and mean what they say.

use std::path::PathBuf;

use weir_config::dynamic::{MiddlewareKind, ServiceKind};
use weir_config::{Duration, load_dynamic_file, load_static_file};

fn scenario(name: &str) -> PathBuf {
    // crates/weir-config -> repo root -> /work/shared (outside the repo); fall back to a
    // copy in tests/data when the shared folder is absent.
    let shared = PathBuf::from("/work/shared/scenarios/edge-basics/file").join(name);
    if shared.exists() {
        return shared;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/edge-basics")
        .join(name)
}

#[test]
fn edge_basics_dynamic_loads() {
    let parsed = load_dynamic_file(scenario("dynamic.yaml")).unwrap();
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let c = parsed.value;
    assert_eq!(c.http.routers.len(), 4);
    let r = &c.http.routers["whoami-http"];
    assert_eq!(r.entry_points, ["web"]);
    assert_eq!(r.rule, "Host(`whoami.local`)");
    assert_eq!(r.middlewares, ["https-redirect"]);
    assert_eq!(r.service, "whoami");
    assert_eq!(r.priority, 0);
    assert!(r.tls.is_none());
    let https = &c.http.routers["whoami-https"];
    assert_eq!(https.tls, Some(Default::default()));
    assert_eq!(
        c.http.routers["dashboard"].rule,
        "Host(`traefik.local`) && (PathPrefix(`/dashboard`) || PathPrefix(`/api`))"
    );
    assert_eq!(c.http.routers["dashboard"].service, "api@internal");

    let Some(MiddlewareKind::RedirectScheme(rs)) = c.http.middlewares["https-redirect"].kind()
    else {
        panic!("redirectScheme expected")
    };
    assert_eq!(rs.scheme, "https");
    assert!(rs.permanent);

    let Some(ServiceKind::LoadBalancer(lb)) = c.http.services["whoami"].kind() else {
        panic!("loadBalancer expected")
    };
    assert_eq!(lb.servers.len(), 1);
    assert_eq!(lb.servers[0].url, "http://127.0.0.1:9101");
    assert_eq!(lb.servers[0].weight, 1);
    assert!(lb.pass_host_header);
    assert_eq!(lb.strategy, "wrr");
    assert_eq!(
        lb.response_forwarding.flush_interval,
        Duration::from_millis(100)
    );

    assert_eq!(c.tls.certificates.len(), 1);
    assert_eq!(c.tls.certificates[0].cert_file, "certs/whoami.local.crt");
    assert_eq!(c.tls.certificates[0].key_file, "certs/whoami.local.key");
}

#[test]
fn edge_basics_static_loads() {
    let parsed = load_static_file(scenario("static.yaml")).unwrap();
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let s = parsed.value.effective();
    assert_eq!(s.entry_points.len(), 4);
    assert_eq!(s.entry_points["web"].address, ":8000");
    assert_eq!(s.entry_points["websecure"].address, ":8443");
    assert_eq!(s.entry_points["traefik"].address, ":9000");
    assert_eq!(s.entry_points["metrics"].address, ":9100");
    let ep = &s.entry_points["web"];
    assert_eq!(
        ep.transport.life_cycle.grace_time_out,
        Duration::from_secs(10)
    );
    assert_eq!(
        ep.transport.responding_timeouts.read_timeout,
        Duration::from_secs(60)
    );
    assert_eq!(
        ep.transport.responding_timeouts.idle_timeout,
        Duration::from_secs(180)
    );
    assert!(ep.http.sanitize_path);
    assert_eq!(ep.http.max_header_bytes, 1_048_576);
    assert_eq!(ep.http2.max_concurrent_streams, 250);

    let api = s.api.as_ref().unwrap();
    assert!(api.dashboard);
    assert!(!api.insecure);
    let ping = s.ping.as_ref().unwrap();
    assert_eq!(ping.entry_point, "traefik");
    assert_eq!(ping.terminating_status_code, 503);
    let prom = s.metrics.as_ref().unwrap().prometheus.as_ref().unwrap();
    assert_eq!(prom.entry_point, "metrics");
    assert_eq!(prom.buckets, [0.1, 0.3, 1.2, 5.0]);
    assert!(prom.add_entry_points_labels);
    assert!(!prom.add_routers_labels);
    assert!(prom.add_services_labels);
    assert_eq!(prom.prefix, "weir");
    assert_eq!(s.log.level, "INFO");
    assert!(s.access_log.is_some());
    let file = s.providers.file.as_ref().unwrap();
    assert_eq!(file.filename, "dynamic.yaml");
    assert!(file.watch);
    assert_eq!(
        s.providers.providers_throttle_duration,
        Duration::from_secs(2)
    );
    assert_eq!(s.servers_transport.max_idle_conns_per_host, 200);
    assert_eq!(s.providers.precedence[0], "kubernetesgateway");
}
