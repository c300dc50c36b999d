//! The client's verified certificate reaches the handlers after routing (middlewares and
//! services) through the request's extensions: a real entrypoint, a real TLS client.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use http::{HeaderValue, Request, Response};
use weir_config::dynamic::{
    CertAndStores, ClientAuth, Configuration, Router, RouterTlsConfig, TlsOptions,
};
use weir_proxy::body;
use weir_proxy::compile::{self, EntrypointInfo, Inputs};
use weir_proxy::entrypoint::{self, Entrypoint, EntrypointSettings, Shared};
use weir_proxy::handler::SharedHandler;
use weir_proxy::internal::ShutdownState;
use weir_proxy::pipeline::headers::TrustedNets;
use weir_proxy::service::HealthRegistry;
use weir_proxy::tls::{TlsInfo, TlsRegistry};
use weir_proxy::upstream::{TransportRegistry, TransportSettings};
use weir_proxy::{Body, BoxFuture, Handler, RequestContext};
use weir_testkit::body as tbody;
use weir_testkit::client;
use weir_testkit::tls::{self as ttls, TestCa};

/// Answers with what the request's TLS extension says about the client.
struct Identity;

impl Handler for Identity {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let text = match req.extensions().get::<Arc<TlsInfo>>() {
                None => "no tls".to_owned(),
                Some(info) => {
                    let cn = info.peer_certificates.first().map_or_else(
                        || "-".to_owned(),
                        |c| {
                            weir_proxy::tls::load::cert_info(c, "client")
                                .unwrap()
                                .common_name
                        },
                    );
                    format!(
                        "cx.tls={} sni={} version={} client={cn}",
                        cx.tls,
                        info.server_name.as_deref().unwrap_or("-"),
                        info.version
                    )
                }
            };
            Response::new(body::full(text))
        })
    }
}

#[tokio::test]
async fn verified_client_identity_is_in_the_request() {
    let ca = TestCa::new().unwrap();
    let server = ca.issue(&["a.test"]).unwrap();
    let mut cfg = Configuration::default();
    cfg.http.routers.insert(
        "r".into(),
        Router {
            rule: "Host(`a.test`)".into(),
            service: "identity@internal".into(),
            tls: Some(RouterTlsConfig {
                options: "mtls".into(),
                ..RouterTlsConfig::default()
            }),
            ..Router::default()
        },
    );
    cfg.tls.certificates.push(CertAndStores {
        cert_file: server.cert_pem.clone(),
        key_file: server.key_pem.clone(),
        stores: Vec::new(),
    });
    cfg.tls.options.insert(
        "mtls".into(),
        TlsOptions {
            client_auth: ClientAuth {
                ca_files: vec![ca.cert_pem().to_owned()],
                client_auth_type: "VerifyClientCertIfGiven".into(),
            },
            ..TlsOptions::default()
        },
    );
    let mut internal: BTreeMap<String, SharedHandler> = BTreeMap::new();
    internal.insert("identity@internal".into(), Arc::new(Identity));
    let eps = [EntrypointInfo {
        name: "websecure".into(),
        as_default: true,
        tls: None,
        ..EntrypointInfo::default()
    }];
    let providers = [("file".to_owned(), Arc::new(cfg))];
    let registry = TlsRegistry::new();
    let compiled = compile::compile(&Inputs {
        entrypoints: &eps,
        providers: &providers,
        internal: &internal,
        transports: &TransportRegistry::new(),
        health: &HealthRegistry::new(),
        tls: &registry,
        default_transport: &TransportSettings::default(),
        generation: 1,
        metrics: None,
        previous: None,
    });
    assert_eq!(
        compiled.report.error_count(),
        0,
        "{:?}",
        compiled.report.problems()
    );

    let listener = entrypoint::bind("127.0.0.1:0".parse().unwrap(), false).unwrap();
    let settings = EntrypointSettings {
        name: Arc::from("websecure"),
        index: 0,
        trusted: TrustedNets::new(false, &[]).0,
        sanitize_path: true,
        read_timeout: Some(Duration::from_secs(10)),
        write_timeout: None,
        idle_timeout: None,
        max_header_bytes: 1 << 20,
        h2_max_concurrent_streams: 250,
        accept_grace: Duration::ZERO,
        grace_timeout: Duration::from_secs(1),
    };
    let ep = Entrypoint::new(listener, settings);
    let addr = ep.local_addr().unwrap();
    let shared = Arc::new(Shared {
        table: Arc::new(ArcSwap::from_pointee(compiled.table)),
        hostname: HeaderValue::from_static("test"),
        shutdown: Arc::new(ShutdownState::default()),
        observer: None,
    });
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(ep.run(shared, stop_rx));

    // With a certificate from the CA: its subject is there.
    let alice = ca.issue(&["alice"]).unwrap();
    let config = ttls::client_config_with_cert(ca.cert_pem(), &[b"h2"], &alice).unwrap();
    let req = Request::get("/").body(tbody::empty()).unwrap();
    let resp = client::request_tls_with(addr, "a.test", config, req)
        .await
        .unwrap();
    assert_eq!(
        resp.body,
        "cx.tls=true sni=a.test version=TLSv1_3 client=alice"
    );
    // Without one (allowed by VerifyClientCertIfGiven): TLS, but no client.
    let resp = client::get_tls(addr, "a.test", "/", ca.cert_pem())
        .await
        .unwrap();
    assert_eq!(resp.body, "cx.tls=true sni=a.test version=TLSv1_3 client=-");
    // A certificate from another CA is refused.
    let mallory = TestCa::new().unwrap().issue(&["mallory"]).unwrap();
    let config = ttls::client_config_with_cert(ca.cert_pem(), &[b"h2"], &mallory).unwrap();
    let req = Request::get("/").body(tbody::empty()).unwrap();
    assert!(
        client::request_tls_with(addr, "a.test", config, req)
            .await
            .is_err()
    );
}
