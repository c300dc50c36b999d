//! `serversTransport` → the upstream client's settings.

use weir_config::dynamic::ServersTransport;

use crate::upstream::{GO_DEFAULT_MAX_IDLE_CONNS_PER_HOST, TransportSettings};

/// Settings for a dynamic `http.serversTransports` entry. Unsupported fields are returned
/// as warnings rather than silently ignored.
pub fn transport_settings(t: &ServersTransport) -> (TransportSettings, Vec<String>) {
    let mut warnings = Vec::new();
    let defaults = TransportSettings::default();
    let ft = &t.forwarding_timeouts;
    let settings = TransportSettings {
        server_name: (!t.server_name.is_empty()).then(|| t.server_name.clone()),
        insecure_skip_verify: t.insecure_skip_verify,
        root_cas: t.root_cas.clone(),
        // A dynamic transport's 0 is Go's default of 2; negative disables pooling.
        max_idle_conns_per_host: match t.max_idle_conns_per_host {
            0 => GO_DEFAULT_MAX_IDLE_CONNS_PER_HOST,
            n if n < 0 => 0,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        },
        dial_timeout: ft
            .dial_timeout
            .to_std_nonzero()
            .unwrap_or(defaults.dial_timeout),
        response_header_timeout: ft.response_header_timeout.to_std_nonzero(),
        idle_conn_timeout: ft
            .idle_conn_timeout
            .to_std_nonzero()
            .unwrap_or(defaults.idle_conn_timeout),
        disable_http2: t.disable_http2,
    };
    let unsupported = [
        ("certificates", !t.certificates.is_empty()),
        ("cipherSuites", !t.cipher_suites.is_empty()),
        ("minVersion", !t.min_version.is_empty()),
        ("maxVersion", !t.max_version.is_empty()),
        ("peerCertURI", !t.peer_cert_uri.is_empty()),
        ("peerCertSANs", !t.peer_cert_sans.is_empty()),
        ("spiffe", t.spiffe.is_some()),
    ];
    for (field, set) in unsupported {
        if set {
            warnings.push(format!("{field} is not supported yet and is ignored"));
        }
    }
    (settings, warnings)
}
