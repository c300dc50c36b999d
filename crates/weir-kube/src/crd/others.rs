//! TLSOption, TLSStore, ServersTransport and TraefikService.

use serde::Deserialize;
use weir_config::dynamic::{
    Certificate, ClientAuth, ForwardingTimeouts, MirrorService, Mirroring, ServersTransport,
    Service, Store, TlsOptions, WeightedRoundRobin, WrrService,
};

use super::Cx;
use super::spec::TraefikServiceSpec;
use crate::names::object_id;
use crate::secrets;
use crate::set::Kind;

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct TlsOptionSpec {
    min_version: String,
    max_version: String,
    cipher_suites: Vec<String>,
    curve_preferences: Vec<String>,
    client_auth: ClientAuthSpec,
    sni_strict: bool,
    alpn_protocols: Option<Vec<String>>,
    disable_session_tickets: bool,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
struct ClientAuthSpec {
    secret_names: Vec<String>,
    client_auth_type: String,
}

/// A TLSOption or TLSStore named `default` becomes the global one; in several namespaces
/// it is ambiguous and dropped, as Traefik does.
fn default_name_ok(cx: &mut Cx<'_>, kind: Kind) -> bool {
    let namespaces: Vec<String> = cx
        .objects(kind)
        .iter()
        .filter(|(k, _)| k.name == "default")
        .map(|(k, _)| k.namespace.clone())
        .collect();
    if namespaces.len() > 1 {
        for (k, _) in cx.objects(kind) {
            if k.name == "default" {
                cx.sink(k).error(
                    "metadata.name",
                    format!(
                        "a default {} is defined in several namespaces ({}); none is used",
                        kind.as_str(),
                        namespaces.join(", ")
                    ),
                );
            }
        }
        return false;
    }
    true
}

pub(crate) fn tls_options(cx: &mut Cx<'_>) {
    let default_ok = default_name_ok(cx, Kind::TlsOption);
    for (key, obj) in cx.objects(Kind::TlsOption) {
        let Some(spec) = cx.spec::<TlsOptionSpec>(key, obj) else {
            continue;
        };
        let name = if key.name == "default" {
            if !default_ok {
                continue;
            }
            "default".to_owned()
        } else {
            object_id(&key.namespace, &key.name)
        };
        let mut cas = Vec::new();
        let mut ok = true;
        for (i, s) in spec.client_auth.secret_names.iter().enumerate() {
            match secrets::ca_bundle(cx.set, &key.namespace, s) {
                Ok(ca) => cas.push(ca),
                Err(e) => {
                    cx.sink(key)
                        .error(format!("spec.clientAuth.secretNames[{i}]"), e);
                    ok = false;
                }
            }
        }
        if !ok {
            continue;
        }
        let mut o = TlsOptions {
            min_version: spec.min_version,
            max_version: spec.max_version,
            cipher_suites: spec.cipher_suites,
            curve_preferences: spec.curve_preferences,
            client_auth: ClientAuth {
                ca_files: cas,
                client_auth_type: spec.client_auth.client_auth_type,
            },
            sni_strict: spec.sni_strict,
            disable_session_tickets: spec.disable_session_tickets,
            ..TlsOptions::default()
        };
        if let Some(alpn) = spec.alpn_protocols {
            o.alpn_protocols = alpn;
        }
        cx.out.tls.options.insert(name, o);
    }
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct TlsStoreSpec {
    default_certificate: Option<SecretRef>,
    certificates: Vec<SecretRef>,
    #[schemars(with = "Option<crate::crd::schema::Free>")]
    default_generated_cert: Option<weir_config::dynamic::GeneratedCert>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
struct SecretRef {
    secret_name: String,
}

pub(crate) fn tls_stores(cx: &mut Cx<'_>) {
    let default_ok = default_name_ok(cx, Kind::TlsStore);
    for (key, obj) in cx.objects(Kind::TlsStore) {
        let Some(spec) = cx.spec::<TlsStoreSpec>(key, obj) else {
            continue;
        };
        if key.name != "default" {
            cx.sink(key).warning(
                "metadata.name",
                "only the TLS store named default is used; this one has no effect",
            );
            continue;
        }
        if !default_ok {
            continue;
        }
        let mut store = Store {
            default_generated_cert: spec.default_generated_cert,
            ..Store::default()
        };
        if let Some(d) = spec
            .default_certificate
            .filter(|d| !d.secret_name.is_empty())
        {
            match secrets::tls_pair(cx.set, &key.namespace, &d.secret_name) {
                Ok((cert, k)) => {
                    store.default_certificate = Some(Certificate {
                        cert_file: cert,
                        key_file: k,
                    });
                }
                Err(e) => cx.sink(key).error("spec.defaultCertificate.secretName", e),
            }
        }
        for (i, c) in spec.certificates.iter().enumerate() {
            if let Err(e) = cx.add_certificate(&key.namespace, &c.secret_name) {
                cx.sink(key)
                    .error(format!("spec.certificates[{i}].secretName"), e);
            }
        }
        cx.out.tls.stores.insert("default".into(), store);
    }
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct ServersTransportSpec {
    server_name: String,
    insecure_skip_verify: bool,
    #[serde(rename = "rootCAsSecrets")]
    root_cas_secrets: Vec<String>,
    #[serde(rename = "rootCAs")]
    root_cas: Vec<RootCa>,
    certificates_secrets: Vec<String>,
    max_idle_conns_per_host: Option<i64>,
    #[schemars(with = "Option<crate::crd::schema::Free>")]
    forwarding_timeouts: Option<ForwardingTimeouts>,
    #[serde(rename = "disableHTTP2")]
    disable_http2: bool,
    #[serde(rename = "peerCertURI")]
    peer_cert_uri: String,
    cipher_suites: Vec<String>,
    min_version: String,
    max_version: String,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, rename_all = "camelCase")]
struct RootCa {
    secret: String,
    config_map: String,
}

pub(crate) fn servers_transports(cx: &mut Cx<'_>) {
    for (key, obj) in cx.objects(Kind::ServersTransport) {
        let Some(spec) = cx.spec::<ServersTransportSpec>(key, obj) else {
            continue;
        };
        let ns = key.namespace.clone();
        let mut st = ServersTransport {
            server_name: spec.server_name,
            insecure_skip_verify: spec.insecure_skip_verify,
            disable_http2: spec.disable_http2,
            peer_cert_uri: spec.peer_cert_uri,
            cipher_suites: spec.cipher_suites,
            min_version: spec.min_version,
            max_version: spec.max_version,
            ..ServersTransport::default()
        };
        if let Some(n) = spec.max_idle_conns_per_host {
            st.max_idle_conns_per_host = n;
        }
        if let Some(ft) = spec.forwarding_timeouts {
            st.forwarding_timeouts = ft;
        }
        let mut ok = true;
        let mut ca_secrets: Vec<(String, String)> = spec
            .root_cas_secrets
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("spec.rootCAsSecrets[{i}]"), s.clone()))
            .collect();
        for (i, r) in spec.root_cas.iter().enumerate() {
            if !r.secret.is_empty() {
                ca_secrets.push((format!("spec.rootCAs[{i}].secret"), r.secret.clone()));
            } else if !r.config_map.is_empty() {
                cx.sink(key).error(
                    format!("spec.rootCAs[{i}].configMap"),
                    "CA bundles from ConfigMaps are not supported by weir yet; use a Secret",
                );
                ok = false;
            }
        }
        for (field, s) in ca_secrets {
            match secrets::ca_bundle(cx.set, &ns, &s) {
                Ok(ca) => st.root_cas.push(ca),
                Err(e) => {
                    cx.sink(key).error(field, e);
                    ok = false;
                }
            }
        }
        for (i, s) in spec.certificates_secrets.iter().enumerate() {
            match secrets::tls_pair(cx.set, &ns, s) {
                Ok((cert, k)) => st.certificates.push(Certificate {
                    cert_file: cert,
                    key_file: k,
                }),
                Err(e) => {
                    cx.sink(key)
                        .error(format!("spec.certificatesSecrets[{i}]"), e);
                    ok = false;
                }
            }
        }
        if ok {
            cx.out
                .http
                .servers_transports
                .insert(object_id(&ns, &key.name), st);
        }
    }
}

pub(crate) fn traefik_services(cx: &mut Cx<'_>) {
    for (key, obj) in cx.objects(Kind::TraefikService) {
        let Some(spec) = cx.spec::<TraefikServiceSpec>(key, obj) else {
            continue;
        };
        let ns = key.namespace.clone();
        let name = object_id(&ns, &key.name);
        let service = match (spec.weighted, spec.mirroring) {
            (Some(w), None) => {
                let mut children = Vec::new();
                let mut ok = true;
                for (i, s) in w.services.iter().enumerate() {
                    let field = format!("spec.weighted.services[{i}]");
                    match cx.child_service(key, &field, &ns, s) {
                        Ok(n) => children.push(WrrService {
                            name: n,
                            weight: s.weight.unwrap_or(1),
                        }),
                        Err(e) => {
                            cx.sink(key).error(field, e);
                            ok = false;
                        }
                    }
                }
                if !ok {
                    continue;
                }
                Service {
                    weighted: Some(WeightedRoundRobin {
                        services: children,
                        sticky: w.sticky,
                        health_check: None,
                    }),
                    ..Service::default()
                }
            }
            (None, Some(m)) => {
                let main = match cx.child_service(key, "spec.mirroring", &ns, &m.main) {
                    Ok(n) => n,
                    Err(e) => {
                        cx.sink(key).error("spec.mirroring", e);
                        continue;
                    }
                };
                let mut mirrors = Vec::new();
                let mut ok = true;
                for (i, s) in m.mirrors.iter().enumerate() {
                    let field = format!("spec.mirroring.mirrors[{i}]");
                    match cx.child_service(key, &field, &ns, s) {
                        Ok(n) => mirrors.push(MirrorService {
                            name: n,
                            percent: s.percent,
                        }),
                        Err(e) => {
                            cx.sink(key).error(field, e);
                            ok = false;
                        }
                    }
                }
                if !ok {
                    continue;
                }
                let mut mirroring = Mirroring {
                    service: main,
                    mirrors,
                    ..Mirroring::default()
                };
                if let Some(b) = m.mirror_body {
                    mirroring.mirror_body = b;
                }
                if let Some(n) = m.max_body_size {
                    mirroring.max_body_size = n;
                }
                Service {
                    mirroring: Some(mirroring),
                    ..Service::default()
                }
            }
            (None, None) => {
                cx.sink(key).error("spec", "set weighted or mirroring");
                continue;
            }
            (Some(_), Some(_)) => {
                cx.sink(key)
                    .error("spec", "set weighted or mirroring, not both");
                continue;
            }
        };
        cx.out.http.services.insert(name, service);
    }
}
