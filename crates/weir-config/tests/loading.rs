//! Parsing behaviour: formats, diagnostics, case-insensitivity, defaults, overrides.

use weir_config::dynamic::{Configuration, MiddlewareKind, ServiceKind};
use weir_config::flags::{apply_overrides, parse_static_with_overrides};
use weir_config::static_config::StaticConfiguration;
use weir_config::{
    ConfigError, Duration, Format, Origin, Severity, load_dynamic_file, parse_dynamic,
    parse_dynamic_as, parse_static,
};

fn yaml(text: &str) -> weir_config::Parsed<Configuration> {
    parse_dynamic(text, &Origin::Named("dynamic.yaml".into())).expect("parses")
}

const SCENARIO_TOML: &str = r#"
[http.routers.whoami-http]
entryPoints = ["web"]
rule = "Host(`whoami.local`)"
middlewares = ["https-redirect"]
service = "whoami"

[http.routers.whoami-https]
entryPoints = ["websecure"]
rule = "Host(`whoami.local`)"
service = "whoami"
[http.routers.whoami-https.tls]

[http.middlewares.https-redirect.redirectScheme]
scheme = "https"
permanent = true

[[http.services.whoami.loadBalancer.servers]]
url = "http://127.0.0.1:9101"

[[tls.certificates]]
certFile = "certs/whoami.local.crt"
keyFile = "certs/whoami.local.key"
"#;

#[test]
fn toml_equivalent_matches_yaml() {
    let t = parse_dynamic_as(SCENARIO_TOML, &Origin::Named("d.toml".into()), Format::Toml).unwrap();
    assert!(t.diagnostics.is_empty(), "{:?}", t.diagnostics);
    let y = yaml(
        r#"
http:
  routers:
    whoami-http:
      entryPoints: [web]
      rule: Host(`whoami.local`)
      middlewares: [https-redirect]
      service: whoami
    whoami-https:
      entryPoints: [websecure]
      rule: Host(`whoami.local`)
      service: whoami
      tls: {}
  middlewares:
    https-redirect:
      redirectScheme:
        scheme: https
        permanent: true
  services:
    whoami:
      loadBalancer:
        servers:
          - url: http://127.0.0.1:9101
tls:
  certificates:
    - certFile: certs/whoami.local.crt
      keyFile: certs/whoami.local.key
"#,
    );
    assert_eq!(t.value, y.value);
}

#[test]
fn toml_static_file() {
    let s = parse_static(
        r#"
[entryPoints.web]
address = ":8000"
[entryPoints.web.transport.lifeCycle]
graceTimeOut = 42
[api]
insecure = true
[providers.file]
directory = "/etc/weir/dyn"
watch = false
"#,
        &Origin::Named("static.toml".into()),
    )
    .unwrap();
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    let v = s.value.effective();
    assert_eq!(
        v.entry_points["web"].transport.life_cycle.grace_time_out,
        Duration::from_secs(42)
    );
    assert!(v.api.as_ref().unwrap().insecure);
    assert!(v.api.as_ref().unwrap().dashboard);
    assert_eq!(v.entry_points["traefik"].address, ":9000");
    let f = v.providers.file.unwrap();
    assert_eq!(f.directory, "/etc/weir/dyn");
    assert!(!f.watch);
}

#[test]
fn unknown_fields_are_warnings_with_lines() {
    let p =
        yaml("http:\n  routers:\n    foo:\n      rulee: Host(`a`)\n      service: s\n  bogus: 1\n");
    assert_eq!(p.diagnostics.len(), 2, "{:?}", p.diagnostics);
    let d = &p.diagnostics[0];
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.line, Some(4));
    assert_eq!(d.column, Some(7));
    assert_eq!(d.path, "http.routers.foo.rulee");
    let shown = d.to_string();
    assert!(
        shown.starts_with("dynamic.yaml:4:7: http.routers.foo.rulee: unknown field \"rulee\""),
        "{shown}"
    );
    assert!(shown.contains("rule"), "{shown}");
    assert_eq!(p.diagnostics[1].line, Some(6));
    assert_eq!(p.diagnostics[1].path, "http.bogus");
    // The known field is still read.
    assert_eq!(p.value.http.routers["foo"].service, "s");

    let t = parse_dynamic_as(
        "[http.routers.foo]\nservice = \"s\"\nrulee = \"x\"\n",
        &Origin::Named("d.toml".into()),
        Format::Toml,
    )
    .unwrap();
    assert_eq!(t.diagnostics.len(), 1);
    assert_eq!(t.diagnostics[0].line, Some(3));
    assert_eq!(t.diagnostics[0].column, Some(1));
}

#[test]
fn keys_are_case_insensitive_but_names_keep_case() {
    let p = yaml(
        r#"
HTTP:
  Routers:
    MyRouter:
      EntryPoints: [web]
      RULE: Host(`a`)
      service: S
  middlewares:
    hdr:
      Headers:
        customRequestHeaders:
          X-Custom-Header: v
"#,
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let r = &p.value.http.routers["MyRouter"];
    assert_eq!(r.entry_points, ["web"]);
    assert_eq!(r.rule, "Host(`a`)");
    let Some(MiddlewareKind::Headers(h)) = p.value.http.middlewares["hdr"].kind() else {
        panic!()
    };
    assert_eq!(h.custom_request_headers["X-Custom-Header"], "v");

    let s = parse_static(
        "entrypoints:\n  Web:\n    ADDRESS: ':1'\n",
        &Origin::Named("s.yaml".into()),
    )
    .unwrap();
    assert_eq!(s.value.entry_points["Web"].address, ":1");

    // The same field twice under different cases is an error, not a silent pick.
    let err = parse_dynamic(
        "http:\n  routers:\n    a:\n      rule: x\n      Rule: y\n",
        &Origin::Named("d.yaml".into()),
    )
    .unwrap_err();
    assert_eq!(err.location().1, Some(5));
}

#[test]
fn wrong_type_names_file_line_and_field() {
    let err = parse_dynamic(
        "http:\n  routers:\n    r:\n      priority: high\n",
        &Origin::file("/etc/weir/dyn.yaml"),
    )
    .unwrap_err();
    let (file, line, col) = err.location();
    assert_eq!(file.unwrap().to_str(), Some("/etc/weir/dyn.yaml"));
    assert_eq!(line, Some(4));
    assert_eq!(col, Some(17));
    assert_eq!(err.path(), Some("http.routers.r.priority"));
    let msg = err.to_string();
    assert!(
        msg.starts_with("/etc/weir/dyn.yaml:4:17: http.routers.r.priority: expected an integer"),
        "{msg}"
    );

    let err = parse_dynamic(
        "http:\n  routers:\n    r:\n      entryPoints: {a: b}\n",
        &Origin::Named("d.yaml".into()),
    )
    .unwrap_err();
    assert_eq!(err.path(), Some("http.routers.r.entryPoints"));

    let err = parse_dynamic_as(
        "[http.services.s.loadBalancer]\npassHostHeader = \"maybe\"\n",
        &Origin::Named("d.toml".into()),
        Format::Toml,
    )
    .unwrap_err();
    assert_eq!(err.location().1, Some(2));
    assert_eq!(
        err.path(),
        Some("http.services.s.loadBalancer.passHostHeader")
    );

    let err = parse_static(
        "entryPoints:\n  web:\n    transport:\n      lifeCycle:\n        graceTimeOut: soon\n",
        &Origin::Named("s.yaml".into()),
    )
    .unwrap_err();
    assert_eq!(err.location().1, Some(5));
    assert!(err.to_string().contains("invalid duration"), "{err}");
}

#[test]
fn syntax_errors_are_located() {
    let err = parse_dynamic(
        "http:\n  routers:\n    r: [unclosed\n",
        &Origin::Named("d.yaml".into()),
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::Invalid { .. }));
    assert!(err.location().1.is_some(), "{err}");
    let err = parse_dynamic_as(
        "[http]\nrouters = = 1\n",
        &Origin::Named("d.toml".into()),
        Format::Toml,
    )
    .unwrap_err();
    assert_eq!(err.location().1, Some(2), "{err}");
}

#[test]
fn empty_documents_are_empty_configs() {
    for text in [
        "",
        "   \n",
        "# only a comment\n",
        "---\n",
        "http:\n",
        "http: {}\n",
    ] {
        let p = yaml(text);
        assert!(p.value.is_empty(), "{text:?}");
        assert!(p.diagnostics.is_empty(), "{text:?}");
    }
    let t = parse_dynamic_as("", &Origin::Named("d.toml".into()), Format::Toml).unwrap();
    assert!(t.value.is_empty());
}

#[test]
fn durations_accept_go_strings_and_seconds() {
    let p = yaml(
        r#"
http:
  services:
    a:
      loadBalancer:
        servers: [{url: "http://x"}]
        healthCheck:
          path: /health
          interval: 10
          timeout: "1m30s"
          unhealthyInterval: 100ms
        responseForwarding:
          flushInterval: -1
"#,
    );
    let Some(ServiceKind::LoadBalancer(lb)) = p.value.http.services["a"].kind() else {
        panic!()
    };
    let hc = lb.health_check.as_ref().unwrap();
    assert_eq!(hc.interval, Duration::from_secs(10));
    assert_eq!(hc.timeout, Duration::from_secs(90));
    assert_eq!(hc.unhealthy_interval, Some(Duration::from_millis(100)));
    assert!(hc.follow_redirects);
    assert_eq!(hc.method, "GET");
    assert!(lb.response_forwarding.flush_interval.is_negative());
}

#[test]
fn traefik_defaults_apply() {
    let p = yaml(
        r#"
http:
  services:
    lb:
      loadBalancer:
        servers: [{url: "http://a"}, {url: "http://b", weight: 3}]
        sticky: {cookie: {}}
    m:
      mirroring: {service: lb, mirrors: [{name: lb, percent: 10}]}
    w:
      weighted: {services: [{name: lb}]}
  middlewares:
    rl: {rateLimit: {average: 10}}
    cb: {circuitBreaker: {expression: "NetworkErrorRatio() > 0.5"}}
    auth: {basicAuth: {users: ["u:h"]}}
    allow: {ipAllowList: {sourceRange: ["10.0.0.0/8"]}}
  serversTransports:
    t: {serverName: x}
tls:
  options:
    default: {minVersion: VersionTLS12}
"#,
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let c = &p.value;
    let lb = c.http.services["lb"].load_balancer.as_ref().unwrap();
    assert!(lb.pass_host_header);
    assert_eq!(lb.servers[0].weight, 1);
    assert_eq!(lb.servers[1].weight, 3);
    assert_eq!(
        lb.sticky.as_ref().unwrap().cookie.as_ref().unwrap().path,
        "/"
    );
    let m = c.http.services["m"].mirroring.as_ref().unwrap();
    assert!(m.mirror_body);
    assert_eq!(m.max_body_size, -1);
    assert_eq!(
        c.http.services["w"].weighted.as_ref().unwrap().services[0].weight,
        1
    );
    let rl = c.http.middlewares["rl"].rate_limit.as_ref().unwrap();
    assert_eq!(rl.period, Duration::from_secs(1));
    assert_eq!(rl.burst, 1);
    let cb = c.http.middlewares["cb"].circuit_breaker.as_ref().unwrap();
    assert_eq!(cb.check_period, Duration::from_millis(100));
    assert_eq!(cb.fallback_duration, Duration::from_secs(10));
    assert_eq!(cb.response_code, 503);
    assert_eq!(
        c.http.middlewares["auth"]
            .basic_auth
            .as_ref()
            .unwrap()
            .realm,
        "traefik"
    );
    assert_eq!(
        c.http.middlewares["allow"]
            .ip_allow_list
            .as_ref()
            .unwrap()
            .reject_status_code,
        403
    );
    let t = &c.http.servers_transports["t"];
    assert_eq!(t.forwarding_timeouts.dial_timeout, Duration::from_secs(30));
    assert_eq!(
        t.forwarding_timeouts.idle_conn_timeout,
        Duration::from_secs(90)
    );
    assert_eq!(t.forwarding_timeouts.ping_timeout, Duration::from_secs(15));
    assert_eq!(t.max_idle_conns_per_host, 200);
    assert_eq!(
        c.tls.options["default"].alpn_protocols,
        ["h2", "http/1.1", "acme-tls/1"]
    );
}

#[test]
fn exactly_one_kind_is_checked_per_element() {
    let p = yaml(
        r#"
http:
  services:
    both:
      loadBalancer: {servers: [{url: "http://a"}]}
      weighted: {services: [{name: x}]}
    none: {}
    fine:
      loadBalancer: {servers: [{url: "http://a"}]}
  middlewares:
    two:
      addPrefix: {prefix: /a}
      stripPrefix: {prefixes: [/b]}
    typo:
      redirectSchemee: {scheme: https}
    old:
      ipWhiteList: {sourceRange: [127.0.0.1]}
tcp:
  services:
    empty: {}
"#,
    );
    let errors: Vec<_> = p.diagnostics.iter().filter(|d| d.is_error()).collect();
    let paths: Vec<&str> = errors.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "http.services.both",
            "http.services.none",
            "http.middlewares.two",
            "http.middlewares.typo",
            "tcp.services.empty"
        ],
        "{:?}",
        p.diagnostics
    );
    assert_eq!(errors[0].line, Some(4));
    assert!(errors[0].message.contains("loadBalancer, weighted"));
    assert!(p.value.http.services["both"].kind().is_none());
    assert!(p.value.http.services["fine"].kind().is_some());
    // the typo is reported as an unknown field too, and the deprecation as a warning
    assert!(
        p.diagnostics
            .iter()
            .any(|d| d.path == "http.middlewares.typo.redirectSchemee")
    );
    assert!(
        p.diagnostics.iter().any(
            |d| d.path == "http.middlewares.old.ipWhiteList" && d.severity == Severity::Warning
        )
    );
    assert!(matches!(
        p.value.http.middlewares["old"].kind(),
        Some(MiddlewareKind::IpWhiteList(_))
    ));
}

#[test]
fn anchors_and_merge_keys() {
    let p = yaml(
        r#"
x-base: &base
  entryPoints: [web]
  service: s
http:
  routers:
    a:
      <<: *base
      rule: Host(`a`)
    b:
      <<: *base
      service: other
"#,
    );
    assert_eq!(p.value.http.routers["a"].entry_points, ["web"]);
    assert_eq!(p.value.http.routers["a"].service, "s");
    assert_eq!(p.value.http.routers["b"].service, "other");
    // the extension key at the top is unknown to the model: reported
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].path, "x-base");
}

#[test]
fn quoted_strings_and_numbers() {
    let p = yaml(
        "http:\n  middlewares:\n    r:\n      redirectScheme: {scheme: https, port: 443}\n    e:\n      errors: {status: [500-599, 404], service: s, statusRewrites: {\"418\": 400}}\n",
    );
    assert_eq!(
        p.value.http.middlewares["r"]
            .redirect_scheme
            .as_ref()
            .unwrap()
            .port,
        "443"
    );
    let e = p.value.http.middlewares["e"].errors.as_ref().unwrap();
    assert_eq!(e.status, ["500-599", "404"]);
    assert_eq!(e.status_rewrites["418"], 400);
}

#[test]
fn plugins_and_opaque_values() {
    let p = yaml(
        "http:\n  middlewares:\n    p:\n      plugin:\n        myplugin:\n          Foo: [1, true, x]\n",
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let plug = p.value.http.middlewares["p"].plugin.as_ref().unwrap();
    assert_eq!(plug["myplugin"]["Foo"], serde_json::json!([1, true, "x"]));
}

#[test]
fn model_round_trips_through_json() {
    let c = load_dynamic_file(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/edge-basics/dynamic.yaml"),
    )
    .unwrap()
    .value;
    let json = serde_json::to_string(&c).unwrap();
    assert!(json.contains("\"entryPoints\""));
    assert!(json.contains("\"passHostHeader\":true"));
    let back: Configuration = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
    // and through our own parser (JSON is YAML)
    let again = parse_dynamic(&json, &Origin::Named("x.json".into())).unwrap();
    assert_eq!(again.value, c);
}

#[test]
fn hostile_input_does_not_panic() {
    let deep = "[".repeat(10_000);
    let inputs = [
        deep.as_str(),
        "{{{{",
        "http: [1, 2]",
        "http:\n  routers: 5\n",
        "http:\n  routers:\n    r: *nope\n",
        "? [a]\n: b\n",
        "\u{0}\u{1}",
        "http:\n  routers:\n    r:\n      priority: 99999999999999999999999\n",
        "tls:\n  certificates: {a: 1}\n",
        "- a\n- b\n",
        "just a string",
    ];
    for i in inputs {
        let _ = parse_dynamic(i, &Origin::Named("d.yaml".into()));
        let _ = parse_dynamic_as(i, &Origin::Named("d.toml".into()), Format::Toml);
        let _ = parse_static(i, &Origin::Named("s.yaml".into()));
    }
}

#[test]
fn unsupported_extension_is_an_error() {
    let err = load_dynamic_file("/tmp/whatever.ini").unwrap_err();
    assert!(matches!(err, ConfigError::UnsupportedFormat { .. }));
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[test]
fn flags_override_file_and_env() {
    let file = "entryPoints:\n  web:\n    address: ':8000'\nlog:\n  level: INFO\n";
    let env = vec![
        (
            "WEIR_ENTRYPOINTS_WEB_ADDRESS".to_string(),
            ":7000".to_string(),
        ),
        ("WEIR_LOG_LEVEL".to_string(), "WARN".to_string()),
        (
            "WEIR_ENTRYPOINTS_ADMIN_ADDRESS".to_string(),
            ":9999".to_string(),
        ),
        ("PATH".to_string(), "/bin".to_string()),
    ];
    let p = parse_static_with_overrides(
        Some((file, &Origin::Named("static.yaml".into()))),
        &args(&[
            "--entrypoints.web.address=:8080",
            "--api.insecure",
            "--providers.file.filename=dyn.yaml",
            "--entrypoints.web.forwardedheaders.trustedips=10.0.0.0/8,127.0.0.1",
            "--entryPoints.Websecure.address=:8443",
            "--entrypoints.websecure.http.tls.domains[0].main=example.com",
            "--entrypoints.websecure.http.tls.domains[0].sans=a.example.com,b.example.com",
            "--entrypoints.websecure.http.middlewares=auth@file,compress@file",
            "--entrypoints.websecure.observability.accesslogs=false",
            "--ping",
        ]),
        env,
    )
    .unwrap();
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let s = p.value;
    assert_eq!(s.entry_points["web"].address, ":8080"); // flag beats env beats file
    assert_eq!(s.log.level, "WARN"); // env beats file
    assert_eq!(s.entry_points["admin"].address, ":9999");
    assert!(s.api.as_ref().unwrap().insecure);
    assert_eq!(s.providers.file.as_ref().unwrap().filename, "dyn.yaml");
    assert!(s.providers.file.as_ref().unwrap().watch);
    assert_eq!(
        s.entry_points["web"].forwarded_headers.trusted_ips,
        ["10.0.0.0/8", "127.0.0.1"]
    );
    // map keys from flags are lower-cased like Traefik's
    let ws = &s.entry_points["websecure"];
    assert_eq!(ws.address, ":8443");
    let tls = ws.http.tls.as_ref().unwrap();
    assert_eq!(tls.domains[0].main, "example.com");
    assert_eq!(tls.domains[0].sans, ["a.example.com", "b.example.com"]);
    assert_eq!(ws.http.middlewares, ["auth@file", "compress@file"]);
    // Setting one switch sets the entrypoint's observability, the others at their default.
    let o = ws.observability.as_ref().unwrap();
    assert!(!o.access_logs && o.metrics && o.tracing);
    assert!(s.entry_points["web"].observability.is_none());
    assert_eq!(s.ping.as_ref().unwrap().entry_point, "traefik");
}

#[test]
fn unknown_flag_is_an_error_unknown_env_a_warning() {
    let err = parse_static_with_overrides(None, &args(&["--entrypoints.web.adress=:1"]), vec![])
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("--entrypoints.web.adress"), "{msg}");
    assert!(msg.contains("unknown option"), "{msg}");

    let p = parse_static_with_overrides(
        None,
        &[],
        vec![("WEIR_NOT_A_THING".to_string(), "1".to_string())],
    )
    .unwrap();
    assert_eq!(p.diagnostics.len(), 1);
    assert!(p.diagnostics[0].message.contains("WEIR_NOT_A_THING"));

    let err = parse_static_with_overrides(
        None,
        &args(&["--entrypoints.web.transport.lifecycle.gracetimeout=soon"]),
        vec![],
    )
    .unwrap_err();
    assert!(err.to_string().contains("--entrypoints.web"), "{err}");
    assert!(parse_static_with_overrides(None, &args(&["entrypoints"]), vec![]).is_err());
}

#[test]
fn overrides_apply_to_a_typed_base() {
    let base = StaticConfiguration::embedded_default();
    let p = apply_overrides(
        &base,
        &args(&["--entrypoints.web.address=:18000", "--log.level=DEBUG"]),
        vec![],
    )
    .unwrap();
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(p.value.entry_points["web"].address, ":18000");
    assert_eq!(p.value.entry_points["websecure"].address, ":8443");
    assert_eq!(p.value.log.level, "DEBUG");
    // nothing else changed
    let mut expected = base.clone();
    expected.entry_points.get_mut("web").unwrap().address = ":18000".into();
    expected.log.level = "DEBUG".into();
    assert_eq!(p.value, expected);
}

#[test]
fn embedded_default_and_effective() {
    let d = StaticConfiguration::embedded_default();
    assert_eq!(d.entry_points["web"].address, ":8000");
    assert_eq!(d.entry_points["websecure"].address, ":8443");
    assert_eq!(d.entry_points["traefik"].address, ":9000");
    assert!(d.ping.is_some());
    assert!(d.api.is_none());
    assert_eq!(d.default_entry_points(), ["web", "websecure"]);

    let e = StaticConfiguration::default().effective();
    assert_eq!(e.entry_points.len(), 1);
    assert_eq!(e.entry_points["http"].address, ":80");
    assert_eq!(e.log.level, "ERROR");

    let p = parse_static(
        "providers:\n  precedence: [File, KubernetesCRD]\n  file: {filename: a, directory: b}\n  docker: {}\n",
        &Origin::Named("s.yaml".into()),
    )
    .unwrap();
    assert!(p.has_errors());
    assert_eq!(p.diagnostics[0].path, "providers.file");
    assert_eq!(p.diagnostics[0].line, Some(3));
    assert!(p.diagnostics.iter().any(|d| d.path == "providers.docker"));
    assert_eq!(
        p.value.effective().providers.precedence,
        ["file", "kubernetescrd"]
    );
}
