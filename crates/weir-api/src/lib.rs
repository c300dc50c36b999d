//! weir's REST API and dashboard, served by the `api@internal` service (and
//! `dashboard@internal`, the same handler).
//!
//! The API answers with Traefik's JSON shapes, built from the latest compile
//! [`Report`](weir_proxy::compile::Report) and the providers' raw configuration, so scripts
//! and tools written for Traefik's `/api` keep working. The dashboard is static HTML, CSS and
//! JavaScript compiled into the binary; it polls the API.

mod certificates;
mod dashboard;
mod layer4;
mod model;
mod query;
mod sort;

use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use http::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use http::{Method, Request, Response, StatusCode};
use serde_json::Value;
use weir_config::dynamic::Configuration;
use weir_config::static_config::StaticConfiguration;
use weir_observe::Metrics;
use weir_proxy::body::{self, Body};
use weir_proxy::compile::{Report, Status};
use weir_proxy::handler::{BoxFuture, Handler, RequestContext};

pub use query::Page;

/// Each provider's latest configuration, by provider name.
pub type Providers = Vec<(String, Arc<Configuration>)>;

/// What the API reads; the reloader keeps `report` and `providers` current.
pub struct ApiState {
    /// The latest compile report.
    pub report: Arc<ArcSwap<Report>>,
    /// The configuration each provider last gave.
    pub providers: Arc<ArcSwap<Providers>>,
    /// The static configuration weir runs with.
    pub static_config: Arc<StaticConfiguration>,
    /// Request counters for the dashboard, when metrics are on.
    pub metrics: Option<Arc<Metrics>>,
    /// When weir started.
    pub started: SystemTime,
}

impl ApiState {
    /// A state with an empty report and no provider configuration (for `weir check`).
    pub fn empty(static_config: Arc<StaticConfiguration>) -> Self {
        ApiState {
            report: Arc::new(ArcSwap::from_pointee(Report::default())),
            providers: Arc::new(ArcSwap::from_pointee(Vec::new())),
            static_config,
            metrics: None,
            started: SystemTime::now(),
        }
    }
}

/// The `api@internal` / `dashboard@internal` handler.
pub struct Api {
    state: Arc<ApiState>,
    dashboard: bool,
}

impl Api {
    /// The API over `state`; with `dashboard` it also serves `/dashboard/`.
    pub fn new(state: Arc<ApiState>, dashboard: bool) -> Self {
        Api { state, dashboard }
    }

    fn answer(&self, method: &Method, path: &str, query: &str) -> Response<Body> {
        if method != Method::GET && method != Method::HEAD {
            return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
        }
        if path == "/api" || path.starts_with("/api/") {
            return self.api(path, query);
        }
        if self.dashboard {
            if path == "/" || path == "/dashboard" {
                return redirect("/dashboard/");
            }
            if let Some(asset) = path.strip_prefix("/dashboard/") {
                if asset.is_empty() || asset == "index.html" {
                    return dashboard::index(&self.initial_view());
                }
                return dashboard::asset(asset);
            }
        }
        text(StatusCode::NOT_FOUND, "404 page not found\n")
    }

    /// A plain table of the routers, problems first, for the page's first paint.
    fn initial_view(&self) -> String {
        let report = self.state.report.load_full();
        let mut routers: Vec<_> = report.routers.iter().collect();
        routers.sort_by_key(|(name, r)| {
            (
                r.status != Status::Disabled,
                r.status != Status::Warning,
                *name,
            )
        });
        let mut html = String::from(
            "<h2>Routers</h2><table><thead><tr><th>Status</th><th>Name</th><th>Rule</th><th>Service</th></tr></thead><tbody>",
        );
        for (name, r) in routers {
            let e = dashboard::escape;
            html.push_str(&format!(
                "<tr><td data-label=\"Status\"><span class=\"pill {s}\">{s}</span></td><td data-label=\"Name\"><code>{}</code>{}</td><td data-label=\"Rule\"><code>{}</code></td><td data-label=\"Service\"><code>{}</code></td></tr>",
                e(name),
                if r.errors.is_empty() {
                    String::new()
                } else {
                    format!("<ul class=\"errors\"><li>{}</li></ul>", r.errors.iter().map(|x| e(x)).collect::<Vec<_>>().join("</li><li>"))
                },
                e(&r.rule),
                e(&r.service),
                s = r.status,
            ));
        }
        html.push_str("</tbody></table>");
        html
    }

    fn api(&self, path: &str, query: &str) -> Response<Body> {
        let report = self.state.report.load_full();
        let providers = self.state.providers.load_full();
        let view = model::View {
            report: &report,
            providers: &providers,
            static_config: &self.state.static_config,
        };
        let segments: Vec<String> = path
            .trim_start_matches("/api")
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(query::percent_decode)
            .collect();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let params = query::Params::parse(query);
        match segs.as_slice() {
            ["version"] => json(StatusCode::OK, &model::version(&self.state)),
            ["overview"] => json(StatusCode::OK, &view.overview(self.state.metrics.is_some())),
            ["rawdata"] => json(StatusCode::OK, &view.rawdata()),
            // Entrypoints are always in name order, as Traefik lists them.
            ["entrypoints"] => page(view.entrypoints(), &params),
            ["entrypoints", name] => one(view.entrypoints(), name, "entry point"),
            // Routers sort by the priority they run with, which the JSON does not show.
            ["http", "routers"] => list_by(view.routers(&params), &params, |name| {
                report.routers.get(name).map(|r| r.priority)
            }),
            ["http", "routers", name] => {
                one(view.routers(&query::Params::default()), name, "router")
            }
            ["http", "services"] => list(view.services(&params), &params),
            ["http", "services", name] => {
                one(view.services(&query::Params::default()), name, "service")
            }
            ["http", "middlewares"] => list(view.middlewares(&params), &params),
            ["http", "middlewares", name] => one(
                view.middlewares(&query::Params::default()),
                name,
                "middleware",
            ),
            [
                proto @ ("tcp" | "udp"),
                kind @ ("routers" | "services" | "middlewares"),
                rest @ ..,
            ] if rest.len() <= 1 && !(*proto == "udp" && *kind == "middlewares") => {
                let p = if *proto == "tcp" {
                    layer4::Proto::Tcp
                } else {
                    layer4::Proto::Udp
                };
                let (k, what) = match *kind {
                    "routers" => (layer4::Kind::Routers, "router"),
                    "services" => (layer4::Kind::Services, "service"),
                    _ => (layer4::Kind::Middlewares, "middleware"),
                };
                match rest.first() {
                    None => list(view.layer4(p, k, &params), &params),
                    Some(name) => one(view.layer4(p, k, &query::Params::default()), name, what),
                }
            }
            ["weir", "certificates"] => list(view.certificates(&params), &params),
            ["weir", "traffic"] => json(
                StatusCode::OK,
                &model::traffic(self.state.metrics.as_deref()),
            ),
            _ => text(StatusCode::NOT_FOUND, "404 page not found\n"),
        }
    }
}

impl Handler for Api {
    fn handle<'a>(
        &'a self,
        req: Request<Body>,
        _cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async move {
            let path = req.uri().path().to_owned();
            let query = req.uri().query().unwrap_or("").to_owned();
            self.answer(req.method(), &path, &query)
        })
    }
}

/// Sorts (`sortBy`, `direction`) and paginates a list, and answers it with `X-Next-Page`
/// as Traefik sets it.
fn list(items: Vec<(String, Value)>, params: &query::Params) -> Response<Body> {
    list_by(items, params, |_| None)
}

/// [`list`], sorting by `priority` as `priority` gives it (an element's effective one).
fn list_by(
    mut items: Vec<(String, Value)>,
    params: &query::Params,
    priority: impl Fn(&str) -> Option<i64>,
) -> Response<Body> {
    params.order.sort(&mut items, priority);
    page(items, params)
}

/// Answers the page of `items` that `params` asks for, in their order.
fn page(items: Vec<(String, Value)>, params: &query::Params) -> Response<Body> {
    if let Some(message) = &params.page_error {
        return json(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({ "message": message }),
        );
    }
    match params.page.slice(items.len()) {
        Some((range, next)) => {
            let page: Vec<Value> = items[range].iter().map(|(_, v)| v.clone()).collect();
            let mut resp = json(StatusCode::OK, &Value::Array(page));
            if let Ok(v) = HeaderValue::try_from(next.to_string()) {
                resp.headers_mut().insert("x-next-page", v);
            }
            resp
        }
        None => json(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({"message": format!(
                "invalid request: page: {}, per_page: {}",
                params.page.number, params.page.per_page
            )}),
        ),
    }
}

fn one(items: Vec<(String, Value)>, name: &str, what: &str) -> Response<Body> {
    match items.into_iter().find(|(n, _)| n == name) {
        Some((_, v)) => json(StatusCode::OK, &v),
        None => not_found(&format!("{what} not found: {name}")),
    }
}

fn not_found(message: &str) -> Response<Body> {
    json(
        StatusCode::NOT_FOUND,
        &serde_json::json!({ "message": message }),
    )
}

fn json(status: StatusCode, v: &Value) -> Response<Body> {
    let mut resp = Response::new(body::full(v.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn text(status: StatusCode, t: &'static str) -> Response<Body> {
    let mut resp = Response::new(body::full(t));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn redirect(to: &'static str) -> Response<Body> {
    let mut resp = Response::new(body::empty());
    *resp.status_mut() = StatusCode::FOUND;
    resp.headers_mut()
        .insert(LOCATION, HeaderValue::from_static(to));
    resp
}
