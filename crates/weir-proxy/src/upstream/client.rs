//! The pooled upstream client.

use std::sync::Arc;
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Extensions, Method, Request, Response, Uri, Version};
use hyper_rustls::{FixedServerNameResolver, HttpsConnector};
use hyper_util::client::legacy::{Client, ResponseFuture};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::ClientConfig;

use super::connector::{ConnUses, TrackingConnector};
use super::error::{UpstreamError, UpstreamErrorKind};
use super::h1pool::H1Pool;
use super::settings::TransportSettings;
use super::target::{ServerScheme, ServerTarget};
use super::tls::{self, ClientIdentity, TlsSettingsError};
use super::upgrade::{self, UpgradeConnector};
use crate::body::{self, Body};
use crate::pipeline::headers::is_hop_by_hop;

/// Why a client could not be built from its settings.
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    /// The TLS part of the settings is invalid.
    #[error(transparent)]
    Tls(#[from] TlsSettingsError),
}

/// The upstream side of the data plane for one `serversTransport`: pooled keep-alive
/// connections to any number of servers.
///
/// - `http://` servers: HTTP/1.1, header names written in Go's canonical `Title-Case`, over
///   connections the request's own task drives (see `h1pool`).
/// - `h2c://` servers: HTTP/2 with prior knowledge over TCP, one multiplexed connection per
///   server.
/// - `https://` servers: TLS with ALPN `h2, http/1.1` (only `http/1.1` with `disableHTTP2`).
/// - Upgrade requests (WebSocket) go over a fresh, unpooled HTTP/1.1 connection and become
///   a byte tunnel only once the server answered `101`.
///
/// Pools are keyed by scheme and authority, so one client serves every server of every
/// service using the transport. Cloning is cheap and shares the pools; keep one per
/// transport across reloads (see [`TransportRegistry`](super::TransportRegistry)).
///
/// **Stale keep-alive connections.** A server may close an idle connection just as weir
/// reuses it. hyper-util retries by itself only when the request provably never left
/// (`retry_canceled_requests`, on); when the connection broke after the request was written
/// and before any response byte, weir retries once more itself if the connection had
/// already delivered a response (so it was a reused one) and the request is replayable:
/// no body, and an idempotent method or an `Idempotency-Key` header (Go's rule).
#[derive(Clone)]
pub struct UpstreamClient {
    h1: H1Pool,
    pooled: Client<HttpsConnector<TrackingConnector>, Body>,
    h2c: Client<TrackingConnector, Body>,
    upgrade: Arc<UpgradeConnector>,
    response_header_timeout: Option<Duration>,
}

impl std::fmt::Debug for UpstreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamClient")
            .field("response_header_timeout", &self.response_header_timeout)
            .finish_non_exhaustive()
    }
}

impl UpstreamClient {
    /// Builds a client. Needs a Tokio runtime only once requests are sent.
    pub fn new(settings: &TransportSettings) -> Result<Self, ClientBuildError> {
        Self::with_identity(settings, None)
    }

    /// Builds a client that shows `identity` to `https://` servers asking for a client
    /// certificate.
    pub fn with_identity(
        settings: &TransportSettings,
        identity: Option<ClientIdentity>,
    ) -> Result<Self, ClientBuildError> {
        let tls_config = tls::client_config(settings, identity)?;
        let server_name = tls::server_name_override(settings)?;

        let https = HttpsConnector::<TrackingConnector>::builder()
            .with_tls_config(tls_config.clone())
            .https_or_http();
        let https = match &server_name {
            Some(name) => {
                https.with_server_name_resolver(FixedServerNameResolver::new(name.clone()))
            }
            None => https,
        };
        let tcp = TrackingConnector::new(settings.dial_timeout);
        let https = if settings.disable_http2 {
            https.enable_http1().wrap_connector(tcp.clone())
        } else {
            https
                .enable_http1()
                .enable_http2()
                .wrap_connector(tcp.clone())
        };

        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(settings.idle_conn_timeout)
            .pool_max_idle_per_host(settings.max_idle_conns_per_host)
            .retry_canceled_requests(true)
            .set_host(true)
            .http1_title_case_headers(true);
        let pooled = builder.build(https);
        builder.http2_only(true);
        let h2c = builder.build(tcp);

        let mut upgrade_tls: ClientConfig = tls_config;
        upgrade_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let upgrade = Arc::new(UpgradeConnector {
            tls: Arc::new(upgrade_tls),
            server_name,
            dial_timeout: settings.dial_timeout,
        });

        let h1 = H1Pool::new(
            settings.max_idle_conns_per_host,
            settings.idle_conn_timeout,
            settings.dial_timeout,
        );
        Ok(Self {
            h1,
            pooled,
            h2c,
            upgrade,
            response_header_timeout: settings.response_header_timeout,
        })
    }

    /// Forwards `req` to `target` and returns the server's response with its body streaming.
    ///
    /// `req` is expected as the pipeline leaves it: origin-form URI, hop-by-hop headers
    /// removed (except `Connection: Upgrade` + `Upgrade` on upgrade requests), `Host` set to
    /// what the server should see. The response has its hop-by-hop headers removed (except
    /// on `101 Switching Protocols`); trailers pass through.
    pub async fn forward(
        &self,
        mut req: Request<Body>,
        target: &ServerTarget,
    ) -> Result<Response<Body>, UpstreamError> {
        if upgrade::is_upgrade_request(&req) {
            return self
                .within_header_timeout(self.upgrade.forward(req, target))
                .await?;
        }

        if target.scheme() == ServerScheme::Http {
            return self.forward_h1(req, target).await;
        }
        let uri = target
            .request_uri(&req)
            .map_err(|e| UpstreamError::new(UpstreamErrorKind::Protocol, false, e))?;
        *req.uri_mut() = uri;
        // Servers always get HTTP/1.1 (or HTTP/2 by ALPN / h2c), whatever the client spoke.
        *req.version_mut() = Version::HTTP_11;

        let replayable = is_replayable(&req);
        let scheme = target.scheme();
        // h2c connections are multiplexed: a server closing one sends GOAWAY and hyper-util
        // retries the streams it refused; only HTTP/1 needs the copy.
        let backup = (replayable && scheme != ServerScheme::H2c).then(|| RequestHead::of(&req));

        let exchange = async {
            match self.send(scheme, req).await {
                Err(err) if !err.is_connect() && failed_on_reused(&err) => match backup {
                    Some(head) => {
                        tracing::debug!(error = %err, "retrying on a fresh connection after a stale keep-alive connection failed");
                        self.send(scheme, head.into_request()).await
                    }
                    None => Err(err),
                },
                other => other,
            }
        };
        let result = self.within_header_timeout(exchange).await?;

        match result {
            Ok(mut resp) => {
                if let Some(uses) = resp.extensions_mut().remove::<ConnUses>() {
                    uses.record();
                }
                strip_hop_by_hop(resp.headers_mut());
                Ok(resp.map(body::boxed))
            }
            Err(err) if err.is_connect() => {
                Err(UpstreamError::new(UpstreamErrorKind::Connect, true, err))
            }
            Err(err) => Err(UpstreamError::new(
                UpstreamErrorKind::Request,
                replayable,
                err,
            )),
        }
    }

    /// [`forward`](Self::forward) for `http://` servers.
    async fn forward_h1(
        &self,
        mut req: Request<Body>,
        target: &ServerTarget,
    ) -> Result<Response<Body>, UpstreamError> {
        let pq = target
            .path_and_query(&req)
            .map_err(|e| UpstreamError::new(UpstreamErrorKind::Protocol, false, e))?;
        *req.uri_mut() = Uri::from(pq);
        *req.version_mut() = Version::HTTP_11;
        let authority = target.authority();
        let key = target.url();
        // The proxy path always sets Host; weir's own calls (forwardAuth, health checks) may
        // not, and HTTP/1.1 requires one.
        if !req.headers().contains_key(header::HOST)
            && let Ok(host) = header::HeaderValue::from_str(authority.as_str())
        {
            req.headers_mut().insert(header::HOST, host);
        }
        // Copied once the head is complete: a request sent again has the same Host.
        let replayable = is_replayable(&req);
        let backup = replayable.then(|| RequestHead::of(&req));

        let exchange = async {
            match self.h1.send(key, authority, req).await {
                Err(err) if !err.connect && err.reused => match backup {
                    Some(head) => {
                        tracing::debug!(error = %err.source, "retrying on a fresh connection after a stale keep-alive connection failed");
                        self.h1.send(key, authority, head.into_request()).await
                    }
                    None => Err(err),
                },
                other => other,
            }
        };
        let result = self.within_header_timeout(exchange).await?;
        match result {
            Ok(mut resp) => {
                strip_hop_by_hop(resp.headers_mut());
                Ok(resp)
            }
            Err(err) if err.connect => Err(UpstreamError::new(
                UpstreamErrorKind::Connect,
                true,
                err.source,
            )),
            Err(err) => Err(UpstreamError::new(
                UpstreamErrorKind::Request,
                replayable,
                err.source,
            )),
        }
    }

    fn send(&self, scheme: ServerScheme, req: Request<Body>) -> ResponseFuture {
        // `http://` servers never get here: `forward` hands them to the own HTTP/1.1 pool.
        if scheme == ServerScheme::H2c {
            self.h2c.request(req)
        } else {
            self.pooled.request(req)
        }
    }
}

impl UpstreamClient {
    /// Awaits `exchange` within `responseHeaderTimeout`, when one is set.
    async fn within_header_timeout<T>(
        &self,
        exchange: impl Future<Output = T>,
    ) -> Result<T, UpstreamError> {
        match self.response_header_timeout {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .map_err(|_| header_timeout(limit)),
            None => Ok(exchange.await),
        }
    }
}

fn header_timeout(limit: Duration) -> UpstreamError {
    UpstreamError::new(
        UpstreamErrorKind::ResponseHeaderTimeout,
        false,
        format!("no response headers within {limit:?}"),
    )
}

/// Whether a client error happened on a connection that had delivered a response before.
fn failed_on_reused(err: &hyper_util::client::legacy::Error) -> bool {
    err.connect_info()
        .and_then(ConnUses::of_connected)
        .is_some_and(|uses| uses.was_used())
}

/// Go's `isReplayable`: no body, and an idempotent method or an idempotency key.
fn is_replayable(req: &Request<Body>) -> bool {
    use http_body::Body as _;
    if !req.body().is_end_stream() {
        return false;
    }
    matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) || req.headers().contains_key("idempotency-key")
        || req.headers().contains_key("x-idempotency-key")
}

/// A copy of a bodiless request, to send it again.
struct RequestHead {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    extensions: Extensions,
}

impl RequestHead {
    fn of(req: &Request<Body>) -> Self {
        Self {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: req.headers().clone(),
            extensions: req.extensions().clone(),
        }
    }

    fn into_request(self) -> Request<Body> {
        let mut req = Request::new(body::empty());
        *req.method_mut() = self.method;
        *req.uri_mut() = self.uri;
        *req.version_mut() = self.version;
        *req.headers_mut() = self.headers;
        *req.extensions_mut() = self.extensions;
        req
    }
}

/// Removes hop-by-hop headers from a response: those listed in `Connection`, then
/// `Connection`, `Keep-Alive`, `Proxy-Connection`, `TE`, `Transfer-Encoding` and `Upgrade`.
/// `Trailer` stays: it announces trailers end to end.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // One pass over the names first: most responses carry at most `Connection`.
    let mut connection = false;
    let mut others = false;
    for name in headers.keys() {
        if name == header::CONNECTION {
            connection = true;
        } else if is_hop_by_hop(name.as_str()) {
            others = true;
        }
    }
    if connection {
        // Clones share the values' bytes while the headers they list are removed; a
        // response has one `Connection` value, so the vector of the rest stays empty
        // (no allocation).
        let mut values = headers.get_all(header::CONNECTION).iter();
        let first = values.next().cloned();
        let rest: Vec<HeaderValue> = values.cloned().collect();
        for token in first
            .iter()
            .chain(&rest)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
        {
            // `keep-alive` is handled below with the fixed set; `close` is no header.
            if !token.is_empty()
                && !token.eq_ignore_ascii_case("keep-alive")
                && !token.eq_ignore_ascii_case("close")
            {
                headers.remove(token);
            }
        }
        headers.remove(header::CONNECTION);
    }
    if !others {
        return;
    }
    headers.remove("keep-alive");
    headers.remove("proxy-connection");
    headers.remove(header::TE);
    headers.remove(header::TRANSFER_ENCODING);
    headers.remove(header::UPGRADE);
}

#[cfg(test)]
mod tests {
    use http::header::HeaderName;

    use super::*;
    use crate::pipeline::headers::tests::headers;

    #[test]
    fn responses_lose_hop_by_hop_headers_and_those_connection_lists() {
        let mut h = headers(&[
            ("connection", "keep-alive, X-Internal"),
            ("connection", "x-second"),
            ("x-internal", "1"),
            ("x-second", "2"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("trailer", "grpc-status"),
            ("content-type", "text/plain"),
        ]);
        strip_hop_by_hop(&mut h);
        let mut left: Vec<&str> = h.keys().map(HeaderName::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["content-type", "trailer"]);

        let mut h = headers(&[("connection", "close"), ("content-length", "2")]);
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key(header::CONTENT_LENGTH));
    }
}
