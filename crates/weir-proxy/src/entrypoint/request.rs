//! One request's way through an entrypoint: normalise, route, set forwarded headers, hand
//! over to the router's handler chain.

use std::sync::Arc;

use http::header::{CONNECTION, HOST, HeaderValue, UPGRADE};
use http::uri::PathAndQuery;
use http::{Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use weir_observe::Probe;
use weir_rules::RequestView;

use super::serve::{ConnInfo, Shared};
use crate::body::{self, Body};
use crate::handler::RequestContext;
use crate::internal::{not_found, text};
use crate::pipeline::{headers, host, path};
use crate::table::Route;

pub(super) async fn handle(
    req: Request<Incoming>,
    conn: &ConnInfo,
    shared: &Shared,
) -> Response<Body> {
    let (parts, incoming) = req.into_parts();
    let Some(observer) = &shared.observer else {
        return dispatch(parts, incoming, conn, shared, None).await;
    };
    let settings = &conn.settings;
    // The access log's ClientHost is a trusted client's X-Forwarded-For, as Traefik.
    let forwarded_for = observer
        .access_log()
        .filter(|_| settings.trusted.trusts(conn.client_addr.ip()))
        .and_then(|_| parts.headers.get(headers::X_FORWARDED_FOR))
        .map(HeaderValue::as_bytes);
    let peer = weir_observe::Peer {
        addr: conn.client_addr,
        tls: conn.tls.as_ref().map(|t| t.metrics_label),
        tls_client_subject: conn.tls.as_ref().and_then(|t| t.client_subject.as_ref()),
        forwarded_for,
    };
    let mut probe = observer.begin(settings.index, &settings.name, &parts, peer);
    let resp = dispatch(parts, incoming, conn, shared, Some(&mut probe)).await;
    probe.finish(resp).map(body::boxed)
}

async fn dispatch(
    mut parts: http::request::Parts,
    incoming: Incoming,
    conn: &ConnInfo,
    shared: &Shared,
    mut probe: Option<&mut Probe>,
) -> Response<Body> {
    let table = shared.table.load_full();
    let settings = &conn.settings;

    let Ok(normalized) = path::normalize(parts.uri.path(), settings.sanitize_path) else {
        return text(
            StatusCode::BAD_REQUEST,
            "400 Bad Request: invalid path escape\n",
        );
    };
    let route: Option<Arc<Route>> = {
        let raw_host = host::raw_host_parts(&parts.uri, &parts.headers);
        let canonical = host::canonical(raw_host.unwrap_or(""));
        let routing = path::routing_path(&normalized);
        let view = RequestView {
            host: &canonical,
            path: &routing,
            method: &parts.method,
            headers: &parts.headers,
            query: parts.uri.query().unwrap_or(""),
            client_ip: Some(conn.client_addr.ip()),
        };
        let ep = table.entrypoint(settings.index);
        if let (Some(info), Some(ep_tls)) = (&conn.tls, ep.and_then(|e| e.tls.as_ref()))
            && ep_tls.misdirected(info.server_name.as_deref(), &canonical)
        {
            return text(StatusCode::MISDIRECTED_REQUEST, "421 Misdirected Request\n");
        }
        ep.and_then(|ep| {
            if conn.tls.is_some() {
                ep.tls_routes.find(&view)
            } else {
                ep.routes.find(&view)
            }
        })
        .cloned()
    };
    let Some(route) = route else {
        return not_found();
    };
    if let Some(p) = probe.as_deref_mut() {
        p.routed(&route.name, &route.metrics);
    }

    // Upstreams get an origin-form target and a Host header, whatever the client sent
    // (HTTP/2 carries the host in :authority, absolute-form HTTP/1 in the target).
    if !parts.headers.contains_key(HOST)
        && let Some(v) = parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::try_from(a.as_str()).ok())
    {
        parts.headers.insert(HOST, v);
    }
    let needs_rewrite = parts.uri.authority().is_some() || normalized.as_ref() != parts.uri.path();
    if needs_rewrite {
        let pq = match parts.uri.query() {
            Some(q) => format!("{normalized}?{q}"),
            None => normalized.into_owned(),
        };
        match PathAndQuery::try_from(pq) {
            Ok(pq) => parts.uri = Uri::from(pq),
            Err(_) => return text(StatusCode::BAD_REQUEST, "400 Bad Request\n"),
        }
    }

    let upgrade = headers::strip_hop_by_hop(&mut parts.headers);
    let websocket = upgrade
        .as_ref()
        .is_some_and(|u| u.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let client_ip = conn.client_addr.ip();
    // A HeaderValue clone shares the request's bytes: no allocation per request.
    let host_for_fwd = parts.headers.get(HOST).cloned();
    headers::set_forwarded(
        &mut parts.headers,
        &headers::Forwarding {
            client_ip: conn.client_ip.as_ref(),
            tls: conn.tls.is_some(),
            websocket,
            host: host_for_fwd.as_ref(),
            server: &shared.hostname,
            trusted: settings.trusted.trusts(client_ip),
        },
    );
    if let Some(up) = upgrade {
        parts
            .headers
            .insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        parts.headers.insert(UPGRADE, up);
    }

    let cx = RequestContext {
        client_addr: conn.client_addr,
        local_addr: conn.local_addr,
        entrypoint: settings.name.clone(),
        tls: conn.tls.is_some(),
        router: Some(route.name.clone()),
        observe: probe.as_deref().map(Probe::wanted).unwrap_or_default(),
        answered: weir_observe::Answered::default(),
    };
    if let Some(info) = &conn.tls {
        parts.extensions.insert(info.clone());
    }
    let body = match settings.read_timeout {
        Some(t) => request_body(super::DeadlineBody::new(incoming, t), probe.as_deref_mut()),
        None => request_body(incoming, probe.as_deref_mut()),
    };
    let req = Request::from_parts(parts, body);
    let resp = route.handler.handle(req, &cx).await;
    if let Some(p) = probe {
        p.answered_by(cx.answered.take());
    }
    resp
}

/// The request body as handlers get it, boxed once; metrics and the access log count its
/// bytes as read when it has any.
fn request_body<B>(incoming: B, probe: Option<&mut Probe>) -> Body
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<crate::body::BoxError>,
{
    match probe {
        Some(p) if !incoming.is_end_stream() => body::boxed(p.count_request_body(incoming)),
        _ => body::boxed(incoming),
    }
}
