//! Kubernetes manifests end to end: `weir check -f` output and exit codes, and
//! `weir serve --manifests ... --endpoint ...` routing to real upstream servers.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use weir_testkit::{body, client, process::WeirProcess, server, util};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/kubernetes")
        .join(name)
        .canonicalize()
        .unwrap()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(WEIR)
        .args(args)
        .current_dir(dir)
        .env_remove("WEIR_CONFIGFILE")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

const STATIC: &str = "entryPoints:\n  web:\n    address: \":8000\"\n";

const GOOD: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: app, namespace: shop}\nspec:\n  ports: [{name: http, port: 80}]\n---\napiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: app, namespace: shop}\nspec:\n  entryPoints: [web]\n  routes:\n  - match: Host(`shop.test`)\n    kind: Rule\n    services: [{name: app, port: 80}]\n";

#[test]
fn check_manifests_passes_and_fails_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("static.yaml"), STATIC).unwrap();
    std::fs::create_dir(dir.path().join("m")).unwrap();
    std::fs::write(dir.path().join("m/10-app.yaml"), GOOD).unwrap();
    let out = run(
        dir.path(),
        &[
            "check",
            "--config",
            "static.yaml",
            "-f",
            "m",
            "--endpoint",
            "shop/typo:80=127.0.0.1:1",
        ],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("warning: --endpoint shop/typo:80: no Service shop/typo"),
        "{t}"
    );
    assert!(t.contains("shop-app-"), "{t}");
    assert!(t.contains("@kubernetescrd"), "{t}");
    assert!(t.contains("Host(`shop.test`)"), "{t}");

    // A later file names a Service that does not exist: reported at its line, exit 1,
    // and the good route is still listed.
    std::fs::write(
        dir.path().join("m/20-broken.yaml"),
        "# a comment\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: broken, namespace: shop}\nspec:\n  rules:\n  - host: broken.test\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service: {name: nowhere, port: {number: 80}}\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "--config", "static.yaml", "-f", "m"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("error: m/20-broken.yaml:13: Ingress shop/broken spec.rules[0].http.paths[0].backend.service: service shop/nowhere not found"),
        "{t}"
    );
    assert!(t.contains("Host(`shop.test`)"), "{t}");

    // A YAML syntax error names the file and line.
    std::fs::write(dir.path().join("m/30-syntax.yaml"), "kind: [\n").unwrap();
    let out = run(dir.path(), &["check", "--config", "static.yaml", "-f", "m"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("m/30-syntax.yaml:"), "{t}");

    // A missing path is an error before anything else.
    let out = run(
        dir.path(),
        &["check", "--config", "static.yaml", "-f", "nope"],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("nope"));
}

#[test]
fn check_todo_app_lists_its_routes_and_reports_nothing_in_the_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let todo = example("todo-app");
    let out = run(
        dir.path(),
        &[
            "check",
            "-f",
            todo.to_str().unwrap(),
            "--providers.kubernetesingress.ingressclass=nginx",
        ],
    );
    let t = text(&out);
    assert!(
        t.contains("todo-phaseiv-todo-app-api-todo-app-local-api@kubernetes"),
        "{t}"
    );
    assert!(
        t.contains("Host(`todo-app.local`) && PathRegexp(`(?i)^/api(/|$)(.*)`)"),
        "{t}"
    );
    assert!(
        t.contains("todo-phaseiv-todo-app-web-todo-app-local@kubernetes"),
        "{t}"
    );
    assert!(
        t.contains("-> todo-phaseiv-todo-app-frontend-3000@kubernetes"),
        "{t}"
    );
    // Nothing in the manifests themselves is wrong.
    assert!(!t.contains("ingress.yaml:"), "{t}");
    assert!(!t.contains("services.yaml:"), "{t}");

    // Without taking over the nginx class, weir says why it serves nothing.
    let out = run(dir.path(), &["check", "-f", todo.to_str().unwrap()]);
    let t = text(&out);
    assert!(t.contains("not served by weir"), "{t}");
    assert!(
        t.contains("--providers.kubernetesingress.ingressclass=nginx"),
        "{t}"
    );
}

/// Row 7 of the todo-app scenario: an annotation weir does not implement is reported with
/// its file and line, never dropped in silence.
#[test]
fn check_todo_app_reports_an_unsupported_annotation() {
    let dir = tempfile::tempdir().unwrap();
    let todo = example("todo-app");
    for name in ["ingress.yaml", "services.yaml"] {
        let text = std::fs::read_to_string(todo.join(name)).unwrap();
        let text = text.replacen(
            "    nginx.ingress.kubernetes.io/proxy-buffering: \"off\"\n",
            "    nginx.ingress.kubernetes.io/proxy-buffering: \"off\"\n    nginx.ingress.kubernetes.io/proxy-next-upstream-tries: \"3\"\n",
            1,
        );
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let out = run(
        dir.path(),
        &[
            "check",
            "-f",
            ".",
            "--providers.kubernetesingress.ingressclass=nginx",
        ],
    );
    let t = text(&out);
    let line = t
        .lines()
        .find(|l| l.contains("proxy-next-upstream-tries"))
        .unwrap_or_else(|| panic!("not reported: {t}"));
    assert!(line.contains("ingress.yaml:"), "{t}");
    assert!(line.contains("not supported"), "{t}");
    // It is the only problem.
    assert_eq!(t.matches("ingress.yaml:").count(), 1, "{t}");
}

fn static_config(web: u16, admin: u16) -> String {
    format!(
        "entryPoints:\n  web:\n    address: \"127.0.0.1:{web}\"\n  websecure:\n    address: \"127.0.0.1:0\"\n  traefik:\n    address: \"127.0.0.1:{admin}\"\nping: {{}}\n"
    )
}

#[tokio::test]
async fn todo_app_served_from_manifests_with_endpoints() {
    let frontend = server::echo("frontend").await.unwrap();
    let backend = server::echo("backend").await.unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let todo = example("todo-app");
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_config(web, admin))
        .arg("--manifests")
        .arg(todo.to_str().unwrap())
        .arg("--providers.kubernetesingress.ingressclass=nginx")
        .arg("--endpoint")
        .arg(&format!(
            "todo-phaseiv/todo-app-frontend:3000=127.0.0.1:{}",
            frontend.port()
        ))
        .arg("--endpoint")
        .arg(&format!(
            "todo-phaseiv/todo-app-backend:http=127.0.0.1:{}",
            backend.port()
        ))
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{web}");
    // Row 1: the frontend serves /.
    let r = client::get(&format!("{base}/"), Some("todo-app.local"))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    assert_eq!(r.header("x-upstream-name"), Some("frontend"));
    assert_eq!(r.echo().unwrap().path_and_query, "/");
    let r = client::get(&format!("{base}/tasks/list"), Some("todo-app.local"))
        .await
        .unwrap();
    assert_eq!(r.header("x-upstream-name"), Some("frontend"));
    // Row 6: another host gets 404.
    let r = client::get(&format!("{base}/"), Some("other.local"))
        .await
        .unwrap();
    assert_eq!(r.status, 404, "{}", weir.logs());
}

/// Rows 2 to 5 of the todo-app scenario, on the API Ingress (rewrite, `proxy-body-size:
/// 10m`, `proxy-buffering: off`), served from the manifests with a local backend.
#[tokio::test]
async fn todo_app_api_rewrite() {
    let frontend = server::echo("frontend").await.unwrap();
    // The backend echoes, except `/chat`: a server-sent-events reply whose second event is
    // only produced once the test has seen the first.
    let (events, chat) = body::channel();
    let chat = Arc::new(Mutex::new(Some(chat)));
    let backend = server::serve_fn(move |req| {
        let chat = chat.clone();
        async move {
            if req.uri().path() != "/chat" {
                return server::echo_response("backend", req).await;
            }
            let mut resp = server::response(200, "");
            resp.headers_mut()
                .insert("content-type", "text/event-stream".parse().unwrap());
            if let Some(b) = chat.lock().unwrap().take() {
                *resp.body_mut() = b;
            }
            resp
        }
    })
    .await
    .unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let todo = example("todo-app");
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_config(web, admin))
        .arg("--manifests")
        .arg(todo.to_str().unwrap())
        .arg("--providers.kubernetesingress.ingressclass=nginx")
        .arg("--endpoint")
        .arg(&format!(
            "todo-phaseiv/todo-app-frontend:3000=127.0.0.1:{}",
            frontend.port()
        ))
        .arg("--endpoint")
        .arg(&format!(
            "todo-phaseiv/todo-app-backend:8000=127.0.0.1:{}",
            backend.port()
        ))
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{web}");
    let c = client::Client::http1();
    // Rows 2 and 3: the backend gets the path without /api, query kept.
    for (path, want) in [
        ("/api/health", "/health"),
        ("/api/tasks?done=false", "/tasks?done=false"),
        ("/API/x", "/x"),
        ("/api", "/"),
    ] {
        let r = c
            .get(&format!("{base}{path}"), Some("todo-app.local"))
            .await
            .unwrap();
        assert_eq!(
            r.header("x-upstream-name"),
            Some("backend"),
            "{path}: {}",
            weir.logs()
        );
        assert_eq!(r.echo().unwrap().path_and_query, want);
    }

    // Row 4: the chat reply streams through, event by event.
    let req = Request::get(format!("{base}/api/chat"))
        .header("host", "todo-app.local")
        .body(body::empty())
        .unwrap();
    let resp = c.send(req).await.unwrap();
    assert_eq!(resp.status(), 200, "{}", weir.logs());
    let mut incoming = resp.into_body();
    events.send("data: one\n\n").await.unwrap();
    assert_eq!(client::next_data(&mut incoming).await, "data: one\n\n");
    events.send("data: two\n\n").await.unwrap();
    drop(events);
    assert_eq!(client::next_data(&mut incoming).await, "data: two\n\n");

    // Row 5: 5 MB is accepted (the backend gets all of it, with its length), 11 MB is 413
    // whether the client declares the length or streams it chunked.
    const MB: usize = 1024 * 1024;
    let upload = |b: body::TestBody| {
        Request::post(format!("{base}/api/attachments"))
            .header("host", "todo-app.local")
            .body(b)
            .unwrap()
    };
    let r = c.request(upload(body::big(5 * MB))).await.unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    let dump = r.echo().unwrap();
    assert_eq!(dump.path_and_query, "/attachments");
    assert_eq!(dump.header("content-length"), Some("5242880"));
    assert_eq!(dump.body.len(), 5 * MB);
    let chunked = |n: usize| {
        body::chunked(
            (0..n).map(|_| Bytes::from(vec![b'u'; MB])).collect(),
            Duration::ZERO,
        )
    };
    let r = c.request(upload(chunked(5))).await.unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    assert_eq!(r.echo().unwrap().header("content-length"), Some("5242880"));
    let before = backend.requests();
    let r = client::Client::http1()
        .request(upload(body::big(11 * MB)))
        .await
        .unwrap();
    assert_eq!(r.status, 413, "{}", weir.logs());
    let r = client::Client::http1()
        .request(upload(chunked(11)))
        .await
        .unwrap();
    assert_eq!(r.status, 413, "{}", weir.logs());
    assert_eq!(backend.requests(), before, "the backend never saw them");
}

#[tokio::test]
async fn edge_basics_served_from_manifests_with_endpoints() {
    let whoami = server::echo("whoami").await.unwrap();
    let echo = server::echo("echo").await.unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let edge = example("edge-basics");
    let weir = WeirProcess::builder(WEIR)
        .static_config(&static_config(web, admin))
        .arg("--manifests")
        .arg(edge.to_str().unwrap())
        .arg("--endpoint")
        .arg(&format!("default/whoami:80=127.0.0.1:{}", whoami.port()))
        .arg("--endpoint")
        .arg(&format!("default/echo:http=127.0.0.1:{}", echo.port()))
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{web}");
    // Rows 3 and 4.
    let r = client::get(&format!("{base}/"), Some("whoami.local"))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    assert_eq!(r.header("x-upstream-name"), Some("whoami"));
    assert_eq!(r.echo().unwrap().host, "whoami.local");
    let r = client::get(&format!("{base}/x"), Some("echo.local"))
        .await
        .unwrap();
    assert_eq!(r.header("x-upstream-name"), Some("echo"), "{}", weir.logs());
    // Row 1: no route.
    let r = client::get(&format!("{base}/"), None).await.unwrap();
    assert_eq!(r.status, 404);
    // The missing TLS secrets are logged with their file and line.
    assert!(weir.logs().contains("40-tls.yaml:19"), "{}", weir.logs());
}

/// The rest of edge-basics: TLS from the user's Secrets (row 6), the dashboard (row 5)
/// and, with `-R`, the redirect step (row 7).
#[tokio::test]
async fn edge_basics_tls_dashboard_and_redirect_step() {
    use weir_testkit::tls::TestCa;
    let whoami = server::echo("whoami").await.unwrap();
    let echo = server::echo("echo").await.unwrap();
    let ca = TestCa::new().unwrap();
    let whoami_cert = ca.issue(&["whoami.local"]).unwrap();
    let traefik_cert = ca.issue(&["traefik.local"]).unwrap();
    let secret = |ns: &str, name: &str, c: &weir_testkit::tls::IssuedCert| {
        let indent = |pem: &str| {
            pem.lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        };
        format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {ns}}}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n{}  tls.key: |\n{}",
            indent(&c.cert_pem),
            indent(&c.key_pem)
        )
    };
    let secrets = secret("default", "whoami-tls-cert", &whoami_cert)
        + &secret("traefik", "traefik-tls-cert", &traefik_cert);
    let [web, websecure, admin] = util::free_ports::<3>().unwrap();
    let edge = example("edge-basics");
    let weir = WeirProcess::builder(WEIR)
        .static_config(&format!(
            "entryPoints:\n  web:\n    address: \"127.0.0.1:{web}\"\n  websecure:\n    address: \"127.0.0.1:{websecure}\"\n  traefik:\n    address: \"127.0.0.1:{admin}\"\nping: {{}}\napi: {{}}\n"
        ))
        .file("secrets.yaml", secrets)
        .args(["serve", "--config", "{{dir}}/static.yaml", "-R"])
        .arg("--manifests")
        .arg(edge.to_str().unwrap())
        .arg("--manifests")
        .arg("{{dir}}/secrets.yaml")
        .arg("--endpoint")
        .arg(&format!("default/whoami:80=127.0.0.1:{}", whoami.port()))
        .arg("--endpoint")
        .arg(&format!("default/echo:80=127.0.0.1:{}", echo.port()))
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    assert!(!weir.logs().contains("secret"), "{}", weir.logs());
    // Row 6: HTTPS with the user's certificate for whoami.local.
    let addr = format!("127.0.0.1:{websecure}").parse().unwrap();
    let r = client::get_tls(addr, "whoami.local", "/", ca.cert_pem())
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    assert_eq!(r.header("x-upstream-name"), Some("whoami"));
    // Row 7: the redirect step replaced whoami-http.
    let base = format!("http://127.0.0.1:{web}");
    let r = client::get(&format!("{base}/"), Some("whoami.local"))
        .await
        .unwrap();
    assert_eq!(r.status, 301, "{}", weir.logs());
    assert_eq!(r.header("location"), Some("https://whoami.local/"));
    // echo.local is untouched by the redirect step.
    let r = client::get(&format!("{base}/"), Some("echo.local"))
        .await
        .unwrap();
    assert_eq!(r.header("x-upstream-name"), Some("echo"));
    // Row 5: the dashboard's API lists the Kubernetes routers.
    let r = client::get(&format!("{base}/api/http/routers"), Some("traefik.local"))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    assert!(r.body.contains("@kubernetescrd"), "{}", r.body);
}
