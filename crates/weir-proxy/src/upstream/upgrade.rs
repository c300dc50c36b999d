//! Upgrade requests (WebSocket): a fresh HTTP/1.1 connection per request, tunnelled only
//! after the server agreed with `101 Switching Protocols`.

use std::sync::Arc;
use std::time::Duration;

use http::uri::PathAndQuery;
use http::{HeaderValue, Request, Response, StatusCode, Version, header};
use hyper::body::Incoming;
use hyper::rt::{Read, Write};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;

use super::client::strip_hop_by_hop;
use super::error::{UpstreamError, UpstreamErrorKind};
use super::target::{ServerScheme, ServerTarget};
use crate::body::{self, Body, BoxError};

/// Whether `req` asks to switch protocols (`Upgrade` header over HTTP/1.1). The pipeline
/// keeps `Upgrade` only on such requests.
pub(crate) fn is_upgrade_request(req: &Request<Body>) -> bool {
    req.headers().contains_key(header::UPGRADE)
}

/// Dials the unpooled connections upgrade requests use.
pub(crate) struct UpgradeConnector {
    /// TLS configuration with ALPN `http/1.1` only.
    pub(crate) tls: Arc<ClientConfig>,
    pub(crate) server_name: Option<ServerName<'static>>,
    pub(crate) dial_timeout: Duration,
}

fn connect_err(e: impl Into<BoxError>) -> UpstreamError {
    UpstreamError::new(UpstreamErrorKind::Connect, true, e)
}

impl UpgradeConnector {
    async fn dial(&self, target: &ServerTarget) -> Result<TcpStream, UpstreamError> {
        let host = super::target::unbracketed(target.authority().host());
        let tcp =
            tokio::time::timeout(self.dial_timeout, TcpStream::connect((host, target.port())))
                .await
                .map_err(|_| connect_err("dial timeout"))?
                .map_err(connect_err)?;
        tcp.set_nodelay(true).map_err(connect_err)?;
        Ok(tcp)
    }

    pub(crate) async fn forward(
        &self,
        mut req: Request<Body>,
        target: &ServerTarget,
    ) -> Result<Response<Body>, UpstreamError> {
        // Taken before the request leaves: it resolves once the client connection switched.
        let client_side = req.extensions_mut().remove::<OnUpgrade>();

        let uri = target
            .request_uri(&req)
            .map_err(|e| UpstreamError::new(UpstreamErrorKind::Protocol, false, e))?;
        let origin_form = uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        *req.uri_mut() = origin_form.into();
        *req.version_mut() = Version::HTTP_11;
        if !req.headers().contains_key(header::HOST) {
            let host = HeaderValue::from_str(target.authority().as_str())
                .map_err(|e| UpstreamError::new(UpstreamErrorKind::Protocol, false, e))?;
            req.headers_mut().insert(header::HOST, host);
        }

        let tcp = self.dial(target).await?;
        let resp = if target.scheme() == ServerScheme::Https {
            let name = match &self.server_name {
                Some(name) => name.clone(),
                None => {
                    let host = super::target::unbracketed(target.authority().host());
                    ServerName::try_from(host.to_owned()).map_err(connect_err)?
                }
            };
            let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .map_err(connect_err)?;
            exchange(TokioIo::new(tls), req).await?
        } else {
            exchange(TokioIo::new(tcp), req).await?
        };

        if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
            // An ordinary answer; the connection closes once its body is read.
            let mut resp = resp;
            strip_hop_by_hop(resp.headers_mut());
            return Ok(resp.map(body::boxed));
        }
        let Some(client_side) = client_side else {
            return Err(UpstreamError::new(
                UpstreamErrorKind::Protocol,
                false,
                "server switched protocols but the client connection cannot be upgraded",
            ));
        };
        let mut resp = resp;
        let server_side = hyper::upgrade::on(&mut resp);
        tokio::spawn(async move {
            let (client, server) = match tokio::try_join!(client_side, server_side) {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::debug!(error = %e, "upgrade failed");
                    return;
                }
            };
            let mut client = TokioIo::new(client);
            let mut server = TokioIo::new(server);
            match tokio::io::copy_bidirectional(&mut client, &mut server).await {
                Ok((up, down)) => tracing::trace!(up, down, "upgraded tunnel closed"),
                Err(e) => tracing::debug!(error = %e, "upgraded tunnel ended with an error"),
            }
        });
        Ok(resp.map(body::boxed))
    }
}

/// Sends one request over a new HTTP/1.1 connection that supports upgrades.
async fn exchange<I>(io: I, req: Request<Body>) -> Result<Response<Incoming>, UpstreamError>
where
    I: Read + Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .title_case_headers(true)
        .handshake::<_, Body>(io)
        .await
        .map_err(connect_err)?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "upstream upgrade connection failed");
        }
    });
    sender
        .send_request(req)
        .await
        .map_err(|e| UpstreamError::new(UpstreamErrorKind::Request, false, e))
}
