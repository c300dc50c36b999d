//! A fake Kubernetes API server for the live providers' tests: it answers list calls with
//! the objects the test applied (a JSON list with a `resourceVersion`) and watch calls with
//! a chunked stream of watch events, one JSON line each, as the test applies and deletes
//! objects. Every call must carry `Authorization: Bearer <token>` (unless it was started
//! over mutual TLS without a token: the handshake then authenticates). Dropping it (or
//! [`FakeApi::stop`]) closes the listener and every open watch, as an unreachable API
//! server would.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use http::{Request, Response};
use hyper::body::Incoming;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::body::{self, TestBody};
use crate::server::{self, ServerHandle, ServerOptions};

#[derive(Default)]
struct Inner {
    rv: u64,
    /// Collection path (all namespaces) → (namespace, name) → object.
    objects: BTreeMap<String, BTreeMap<(String, String), Value>>,
    /// Every event: resourceVersion, collection, namespace, event JSON.
    log: Vec<(u64, String, String, Value)>,
    /// Every request: method, path and query.
    requests: Vec<String>,
    /// Every status patch: path, body.
    patches: Vec<(String, Value)>,
    /// Status patches still to refuse with 503, and how many were.
    refuse_patches: u32,
    refused_patches: u32,
    /// List calls still to refuse with 503, and how many were.
    refuse_lists: u32,
    refused_lists: u32,
    /// Collections whose lists and watches are refused with 403, as without an RBAC rule.
    forbidden: BTreeSet<String>,
}

struct State {
    token: Option<String>,
    inner: Mutex<Inner>,
    changed: watch::Sender<u64>,
    /// Bumped to cut every open watch with an error ([`FakeApi::cut_watches`]).
    cut: watch::Sender<u64>,
}

impl State {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The fake API server.
pub struct FakeApi {
    handle: ServerHandle,
    state: Arc<State>,
}

/// The collection path of an object (`/apis/networking.k8s.io/v1/ingresses`) from its
/// `apiVersion` and `kind`.
fn collection(obj: &Value) -> String {
    let api_version = obj["apiVersion"].as_str().unwrap_or("v1");
    let kind = obj["kind"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let plural = if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    };
    let root = if api_version.contains('/') {
        "apis"
    } else {
        "api"
    };
    format!("/{root}/{api_version}/{plural}")
}

/// `/api/v1/namespaces/NS/services` → (`/api/v1/services`, Some(NS)).
fn split_namespace(path: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = path.split('/').collect();
    if let Some(i) = parts.iter().position(|p| *p == "namespaces")
        && parts.len() == i + 3
    {
        let mut rest = parts[..i].to_vec();
        rest.push(parts[i + 2]);
        return (rest.join("/"), Some(parts[i + 1].to_owned()));
    }
    (path.to_owned(), None)
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn json_response(status: u16, v: &Value) -> Response<TestBody> {
    let mut r = server::response(status, v.to_string());
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

impl FakeApi {
    /// Starts on `127.0.0.1:0`, accepting `token`.
    pub async fn start(token: &str) -> anyhow::Result<FakeApi> {
        Self::start_with(ServerOptions::new(), Some(token)).await
    }

    /// Starts with server options (e.g. TLS from
    /// [`crate::tls::TestCa::server_config_requiring_client_cert`]). With `token` `None`
    /// no bearer token is asked for.
    pub async fn start_with(opts: ServerOptions, token: Option<&str>) -> anyhow::Result<FakeApi> {
        let (changed, _) = watch::channel(0);
        let (cut, _) = watch::channel(0);
        let state = Arc::new(State {
            token: token.map(str::to_owned),
            inner: Mutex::new(Inner::default()),
            changed,
            cut,
        });
        let st = state.clone();
        let handle = server::serve_fn_with(opts, move |req| {
            let st = st.clone();
            async move { handle(st, req).await }
        })
        .await?;
        Ok(FakeApi { handle, state })
    }

    /// `http://127.0.0.1:PORT` (`https` with TLS).
    pub fn url(&self) -> String {
        self.handle.url()
    }

    /// Requests answered (lists and watches, including refused ones).
    pub fn requests(&self) -> u64 {
        self.handle.requests()
    }

    /// Adds or replaces an object (`ADDED` or `MODIFIED` for watchers); namespace
    /// defaults to `default` unless the kind is IngressClass.
    pub fn apply(&self, mut obj: Value) {
        let coll = collection(&obj);
        let cluster = obj["kind"] == "IngressClass";
        let ns = if cluster {
            String::new()
        } else {
            obj["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_owned()
        };
        if !cluster {
            obj["metadata"]["namespace"] = Value::String(ns.clone());
        }
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut inner = self.state.lock();
        inner.rv += 1;
        let rv = inner.rv;
        obj["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let existed = inner
            .objects
            .entry(coll.clone())
            .or_default()
            .insert((ns.clone(), name), obj.clone())
            .is_some();
        let kind = if existed { "MODIFIED" } else { "ADDED" };
        inner
            .log
            .push((rv, coll, ns, json!({"type": kind, "object": obj})));
        drop(inner);
        self.state.changed.send_replace(rv);
    }

    /// Deletes an object (by `apiVersion`, `kind`, `metadata.namespace`/`name`).
    pub fn delete(&self, obj: &Value) {
        let coll = collection(obj);
        let ns = if obj["kind"] == "IngressClass" {
            String::new()
        } else {
            obj["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_owned()
        };
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut inner = self.state.lock();
        let Some(mut old) = inner
            .objects
            .get_mut(&coll)
            .and_then(|m| m.remove(&(ns.clone(), name)))
        else {
            return;
        };
        inner.rv += 1;
        let rv = inner.rv;
        old["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        inner
            .log
            .push((rv, coll, ns, json!({"type": "DELETED", "object": old})));
        drop(inner);
        self.state.changed.send_replace(rv);
    }

    /// Every request so far, as `METHOD /path?query` (to check the selectors sent).
    pub fn request_log(&self) -> Vec<String> {
        self.state.lock().requests.clone()
    }

    /// Every status patch received so far: the path
    /// (`/apis/networking.k8s.io/v1/namespaces/NS/ingresses/NAME/status`) and the body.
    pub fn status_patches(&self) -> Vec<(String, Value)> {
        self.state.lock().patches.clone()
    }

    /// Answers the next `n` status patches with 503 Service Unavailable, as an overloaded
    /// API server does, without applying them.
    pub fn refuse_status_patches(&self, n: u32) {
        self.state.lock().refuse_patches = n;
    }

    /// Answers the next `n` list calls with 503 Service Unavailable, as an API server that
    /// is starting or overloaded does.
    pub fn refuse_lists(&self, n: u32) {
        self.state.lock().refuse_lists = n;
    }

    /// Cuts every open watch mid-stream, as a restarting API server or a dropped
    /// connection does: the clients see an error, not the end of the watch.
    pub fn cut_watches(&self) {
        self.state.cut.send_modify(|n| *n += 1);
    }

    /// Refuses lists and watches of `collection` (`/apis/GROUP/VERSION/PLURAL`, any
    /// namespace) with 403 Forbidden until [`FakeApi::allow`], as when RBAC does not grant
    /// them. Open watches are not cut (see [`FakeApi::cut_watches`]).
    pub fn forbid(&self, collection: &str) {
        self.state.lock().forbidden.insert(collection.to_owned());
    }

    /// Answers `collection` again after [`FakeApi::forbid`].
    pub fn allow(&self, collection: &str) {
        self.state.lock().forbidden.remove(collection);
    }

    /// How many list calls were refused by [`FakeApi::refuse_lists`].
    pub fn refused_lists(&self) -> u32 {
        self.state.lock().refused_lists
    }

    /// How many status patches were refused by [`FakeApi::refuse_status_patches`].
    pub fn refused_status_patches(&self) -> u32 {
        self.state.lock().refused_patches
    }

    /// The stored object (with its status), by collection path, namespace and name.
    pub fn get(&self, collection: &str, namespace: &str, name: &str) -> Option<Value> {
        self.state
            .lock()
            .objects
            .get(collection)
            .and_then(|m| m.get(&(namespace.to_owned(), name.to_owned())))
            .cloned()
    }

    /// Stops answering: the listener and every open watch are closed.
    pub fn stop(self) {}
}

/// One `labelSelector` term: key, `(equal?, value)` for `=`/`!=`, and for a bare key
/// whether it must exist.
type LabelTerm = (String, Option<(bool, String)>, bool);

/// `labelSelector` (`k=v`, `k!=v`, `k`, `!k`, comma-separated) and `fieldSelector`
/// (`a.b=v`, `a.b!=v`): the subset of the API's selector syntax the providers use.
struct Selectors {
    label: Vec<LabelTerm>,
    field: Vec<(String, bool, String)>,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Selectors {
    fn from_query(query: &str) -> Selectors {
        let label = query_param(query, "labelSelector")
            .map(decode)
            .unwrap_or_default();
        let field = query_param(query, "fieldSelector")
            .map(decode)
            .unwrap_or_default();
        let label = label
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                if let Some((k, v)) = t.split_once("!=") {
                    (
                        k.trim().to_owned(),
                        Some((false, v.trim().to_owned())),
                        true,
                    )
                } else if let Some((k, v)) = t.split_once('=') {
                    let v = v.trim_start_matches('=');
                    (k.trim().to_owned(), Some((true, v.trim().to_owned())), true)
                } else if let Some(k) = t.strip_prefix('!') {
                    (k.trim().to_owned(), None, false)
                } else {
                    (t.to_owned(), None, true)
                }
            })
            .collect();
        let field = field
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .filter_map(|t| {
                if let Some((k, v)) = t.split_once("!=") {
                    Some((k.to_owned(), false, v.to_owned()))
                } else {
                    t.split_once('=')
                        .map(|(k, v)| (k.to_owned(), true, v.trim_start_matches('=').to_owned()))
                }
            })
            .collect();
        Selectors { label, field }
    }

    fn matches(&self, o: &Value) -> bool {
        let labels = &o["metadata"]["labels"];
        let labels_ok = self.label.iter().all(|(k, cmp, exists)| {
            let v = labels.get(k).and_then(Value::as_str);
            match cmp {
                None => v.is_some() == *exists,
                Some((true, want)) => v == Some(want.as_str()),
                Some((false, want)) => v != Some(want.as_str()),
            }
        });
        let fields_ok = self.field.iter().all(|(path, eq, want)| {
            let pointer = format!("/{}", path.replace('.', "/"));
            let v = o
                .pointer(&pointer)
                .and_then(Value::as_str)
                .unwrap_or_default();
            (v == want) == *eq
        });
        labels_ok && fields_ok
    }
}

/// RFC 7386 merge patch.
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Some(t) = target.as_object_mut() {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// A `Status` failure, as the API server answers one.
fn failure(code: u16, message: String) -> Response<TestBody> {
    json_response(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "message": message}),
    )
}

/// The answer of an overloaded API server.
fn unavailable() -> Response<TestBody> {
    failure(
        503,
        "the server is currently unable to handle the request".into(),
    )
}

/// `PATCH /.../namespaces/NS/PLURAL/NAME/status` with a merge patch: the object's status
/// changes (watchers see `MODIFIED`) and the patch is recorded.
async fn patch_status(st: &State, path: &str, req: Request<Incoming>) -> Response<TestBody> {
    use http_body_util::BodyExt as _;
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if content_type != "application/merge-patch+json" {
        return failure(415, format!("unsupported patch type {content_type:?}"));
    }
    let parts: Vec<&str> = path.split('/').collect();
    let Some(i) = parts.iter().position(|p| *p == "namespaces") else {
        return failure(404, "not a namespaced path".into());
    };
    let (Some(ns), Some(plural), Some(name), Some(&"status"), None) = (
        parts.get(i + 1),
        parts.get(i + 2),
        parts.get(i + 3),
        parts.get(i + 4),
        parts.get(i + 5),
    ) else {
        return failure(405, "only the status subresource can be patched".into());
    };
    let mut coll = parts[..i].to_vec();
    coll.push(plural);
    let coll = coll.join("/");
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return failure(400, e.to_string()),
    };
    let Ok(patch) = serde_json::from_slice::<Value>(&body) else {
        return failure(400, "body is not JSON".into());
    };
    let mut inner = st.lock();
    if inner.refuse_patches > 0 {
        inner.refuse_patches -= 1;
        inner.refused_patches += 1;
        return unavailable();
    }
    inner.rv += 1;
    let rv = inner.rv;
    let Some(obj) = inner
        .objects
        .get_mut(&coll)
        .and_then(|m| m.get_mut(&((*ns).to_owned(), (*name).to_owned())))
    else {
        inner.rv -= 1;
        return failure(404, format!("{coll} {ns}/{name} not found"));
    };
    // Only the status subresource: anything else in the patch is ignored, as the API does.
    if let Some(status) = patch.get("status") {
        merge(&mut obj["status"], status);
    }
    obj["metadata"]["resourceVersion"] = Value::String(rv.to_string());
    let obj = obj.clone();
    inner.patches.push((path.to_owned(), patch));
    inner.log.push((
        rv,
        coll,
        (*ns).to_owned(),
        json!({"type": "MODIFIED", "object": obj.clone()}),
    ));
    drop(inner);
    st.changed.send_replace(rv);
    json_response(200, &obj)
}

async fn handle(st: Arc<State>, req: Request<Incoming>) -> Response<TestBody> {
    let auth = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if st
        .token
        .as_ref()
        .is_some_and(|t| auth != format!("Bearer {t}"))
    {
        return failure(401, "Unauthorized".into());
    }
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    st.lock().requests.push(format!(
        "{} {path}{}{query}",
        req.method(),
        if query.is_empty() { "" } else { "?" }
    ));
    if req.method() == http::Method::PATCH {
        return patch_status(&st, &path, req).await;
    }
    let selectors = Selectors::from_query(&query);
    let (coll, ns) = split_namespace(&path);
    let watching = matches!(query_param(&query, "watch"), Some("1" | "true"));
    if st.lock().forbidden.contains(&coll) {
        return failure(
            403,
            format!("{coll} is forbidden: the service account may not list or watch it"),
        );
    }
    if !watching {
        let mut inner = st.lock();
        if inner.refuse_lists > 0 {
            inner.refuse_lists -= 1;
            inner.refused_lists += 1;
            return unavailable();
        }
        let items: Vec<Value> = inner
            .objects
            .get(&coll)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter(|((n, _), _)| ns.as_ref().is_none_or(|want| want == n))
            .filter(|(_, o)| selectors.matches(o))
            .map(|(_, o)| {
                // Like the real API server: list items carry no apiVersion/kind.
                let mut o = o.clone();
                if let Some(m) = o.as_object_mut() {
                    m.remove("apiVersion");
                    m.remove("kind");
                }
                o
            })
            .collect();
        let list = json!({
            "apiVersion": "v1",
            "kind": "List",
            "metadata": {"resourceVersion": inner.rv.to_string()},
            "items": items,
        });
        return json_response(200, &list);
    }
    let from: u64 = query_param(&query, "resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let (tx, body) = body::channel();
    let mut changed = st.changed.subscribe();
    let mut cut = st.cut.subscribe();
    tokio::spawn(async move {
        let mut sent = from;
        loop {
            let lines: Vec<(u64, String)> = st
                .lock()
                .log
                .iter()
                .filter(|(rv, c, n, ev)| {
                    *rv > sent
                        && *c == coll
                        && ns.as_ref().is_none_or(|want| want == n)
                        && selectors.matches(&ev["object"])
                })
                .map(|(rv, _, _, ev)| (*rv, format!("{ev}\n")))
                .collect();
            for (rv, line) in lines {
                if tx.send(line).await.is_err() {
                    return;
                }
                sent = rv;
            }
            tokio::select! {
                c = changed.changed() => if c.is_err() {
                    return;
                },
                _ = cut.changed() => {
                    tx.abort().await;
                    return;
                }
            }
        }
    });
    let mut r = Response::new(body);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}
