//! The dashboard in a real browser: headless Chromium loads `/dashboard/` from a running
//! weir serving the edge-basics routing, the routers and services appear, the broken
//! router is flagged, and the request counters move after traffic. Screenshots (laptop
//! and phone sizes) are kept in the test output folder.
//!
//! Skipped, with a message, when no `chromium` is installed (Debian: `apt-get install
//! chromium`).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use weir_testkit::tls::TestCa;
use weir_testkit::{WeirProcess, client, server, util};

const BIN: &str = env!("CARGO_BIN_EXE_weir");

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let ok = Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            ok.then(|| PathBuf::from(name))
        })
}

/// Runs headless Chromium on `url` with `extra` arguments; returns stdout.
fn browse(chrome: &Path, url: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--virtual-time-budget=4000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of the "Traffic" cell of `name`'s row in the rendered routers table.
fn traffic_of(dom: &str, name: &str) -> String {
    let row = dom
        .split("<tr>")
        .find(|r| r.contains(&format!("<code>{name}</code>")))
        .unwrap_or_else(|| panic!("no row for {name}"));
    let cell = row.split("data-label=\"Traffic\">").nth(1).unwrap();
    cell.split("</td>").next().unwrap().to_owned()
}

#[tokio::test]
async fn dashboard_renders_routers_and_live_counts() {
    let Some(chrome) = chromium() else {
        eprintln!("SKIPPED: no chromium installed; the dashboard's files are tested in api.rs");
        return;
    };
    let whoami = server::echo("whoami").await.unwrap();
    let echo = server::echo("echo").await.unwrap();
    let [web, traefik] = util::free_ports::<2>().unwrap();
    let static_yaml = format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
  traefik:
    address: "127.0.0.1:{traefik}"
api:
  dashboard: true
ping: {{}}
metrics:
  prometheus:
    entryPoint: traefik
providers:
  file:
    filename: "{{{{dynamic}}}}"
"#
    );
    // The edge-basics file scenario's HTTP routing, with local backends and a router
    // whose service is missing.
    let dynamic = format!(
        r#"http:
  routers:
    whoami-http:
      entryPoints: [web]
      rule: Host(`whoami.local`)
      service: whoami
    echo-http:
      entryPoints: [web]
      rule: Host(`echo.local`)
      service: echo
    dashboard:
      entryPoints: [web]
      rule: Host(`traefik.local`) && (PathPrefix(`/dashboard`) || PathPrefix(`/api`))
      service: api@internal
    orphan:
      entryPoints: [web]
      rule: Host(`orphan.local`)
      service: gone
    quiet:
      entryPoints: [web]
      rule: Host(`quiet.local`)
      service: echo
      observability:
        metrics: false
  services:
    whoami:
      loadBalancer:
        servers:
          - url: "{}"
    echo:
      loadBalancer:
        servers:
          - url: "{}"
tls:
  certificates:
    - certFile: "{{{{dir}}}}/later.crt"
      keyFile: "{{{{dir}}}}/later.key"
    - certFile: "{{{{dir}}}}/soon.crt"
      keyFile: "{{{{dir}}}}/soon.key"
"#,
        whoami.url(),
        echo.url()
    );
    // One certificate expiring in 5 days (a warning), one in 2031.
    let ca = TestCa::new().unwrap();
    let soon = ca
        .issue_expiring_in(&["soon.test"], Duration::from_secs(5 * 86_400))
        .unwrap();
    let later = ca
        .issue_with(&["later.test", "www.later.test"], &[7], (2031, 3, 4))
        .unwrap();
    let _p = WeirProcess::builder(BIN)
        .static_config(&static_yaml)
        .dynamic_config(&dynamic)
        .file("soon.crt", soon.cert_pem)
        .file("soon.key", soon.key_pem)
        .file("later.crt", later.cert_pem)
        .file("later.key", later.key_pem)
        .ping_port(traefik)
        .start()
        .await
        .unwrap();
    let echo_req = async || {
        let r = client::get(&format!("http://127.0.0.1:{web}/"), Some("echo.local"))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    };
    echo_req().await;
    // The request is recorded when its body is done: wait until the API has it.
    let counted = async |n: u64| {
        util::wait_until(Duration::from_secs(5), async || {
            let r = client::get(
                &format!("http://127.0.0.1:{web}/api/weir/traffic"),
                Some("traefik.local"),
            )
            .await
            .unwrap();
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            v["routers"]["echo-http@file"]["total"] == n
        })
        .await
        .unwrap();
    };
    counted(1).await;

    // Through the scenario's own router to api@internal: Host traefik.local on `web`.
    let resolve = "--host-resolver-rules=MAP traefik.local 127.0.0.1";
    let dash = format!("http://traefik.local:{web}/dashboard/#routers");
    let dom = browse(&chrome, &dash, &[resolve, "--dump-dom"]);
    for name in [
        "whoami-http@file",
        "echo-http@file",
        "dashboard@file",
        "orphan@file",
    ] {
        assert!(
            dom.contains(&format!("<code>{name}</code>")),
            "{name} missing:\n{dom}"
        );
    }
    // Rendered by the script (the server's first paint has no Traffic column), with the
    // broken router first and flagged.
    let orphan = dom.find("<code>orphan@file</code>").unwrap();
    let echo_at = dom.find("<code>echo-http@file</code>").unwrap();
    assert!(orphan < echo_at);
    assert!(dom.contains("pill disabled"));
    assert!(dom.contains("the service \"gone@file\" does not exist"));
    assert!(
        traffic_of(&dom, "echo-http@file").contains("1 total"),
        "{dom}"
    );

    for _ in 0..4 {
        echo_req().await;
    }
    counted(5).await;
    let dom = browse(&chrome, &dash, &[resolve, "--dump-dom"]);
    let cell = traffic_of(&dom, "echo-http@file");
    assert!(cell.contains("5 total") && cell.contains("200×5"), "{cell}");
    // A router with metrics switched off says so instead of showing no traffic.
    let quiet = traffic_of(&dom, "quiet@file");
    assert!(quiet.contains("not measured"), "{quiet}");

    let services = browse(
        &chrome,
        &format!("http://traefik.local:{web}/dashboard/#services"),
        &[resolve, "--dump-dom"],
    );
    assert!(services.contains("<code>echo@file</code>"));
    assert!(services.contains(&format!("<code>{}</code>", echo.url())));
    assert!(services.contains("pill UP"));

    // Certificates: the one expiring soon first, flagged, with its days left.
    let certs = browse(
        &chrome,
        &format!("http://traefik.local:{web}/dashboard/#certificates"),
        &[resolve, "--dump-dom"],
    );
    let soon_at = certs
        .find("<code>soon.test</code>")
        .unwrap_or_else(|| panic!("soon.test missing:\n{certs}"));
    let later_at = certs.find("<code>later.test</code>").unwrap();
    assert!(soon_at < later_at);
    assert!(certs.contains("pill warning"), "{certs}");
    assert!(certs.contains("expires in 4 day(s)"), "{certs}");
    assert!(certs.contains("later.test, www.later.test"));
    assert!(certs.contains("2031-03-04T00:00:00Z"));

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    for (file, size, tab) in [
        ("dashboard-laptop.png", "1280,900", "overview"),
        ("dashboard-phone.png", "390,844", "routers"),
        ("dashboard-certificates.png", "1280,900", "certificates"),
    ] {
        let path = shots.join(file);
        browse(
            &chrome,
            &format!("http://traefik.local:{web}/dashboard/#{tab}"),
            &[
                resolve,
                &format!("--window-size={size}"),
                &format!("--screenshot={}", path.display()),
            ],
        );
        let png = std::fs::read(&path).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{file}");
        eprintln!("screenshot: {}", path.display());
    }
}
