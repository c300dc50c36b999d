//! `WeirProcess` mechanics, exercised with stand-in programs (`sleep`, `sh`) so they do not
//! depend on the weir binary.

use std::time::Duration;

use weir_testkit::{WeirProcess, server, util};

#[tokio::test]
async fn files_signals_and_exit() {
    let mut p = WeirProcess::builder("sleep")
        .static_config("file: {{dynamic}}\n")
        .dynamic_config("dir: {{dir}}\n")
        .file("extra/cert.pem", "in {{dir}}")
        .args(["30"])
        .start()
        .await
        .unwrap();
    let dir = p.dir().to_path_buf();
    let dynamic = std::fs::read_to_string(p.dynamic_path()).unwrap();
    assert_eq!(dynamic, format!("dir: {}\n", dir.display()));
    let stat = std::fs::read_to_string(dir.join("static.yaml")).unwrap();
    assert!(stat.contains("dynamic.yaml"), "{stat}");
    let extra = std::fs::read_to_string(dir.join("extra/cert.pem")).unwrap();
    assert_eq!(extra, format!("in {}", dir.display()));

    p.rewrite_dynamic("second: true\n").unwrap();
    assert_eq!(
        std::fs::read_to_string(p.dynamic_path()).unwrap(),
        "second: true\n"
    );
    assert!(p.is_running());
    p.sigterm().unwrap();
    let status = p.wait_exit(Duration::from_secs(5)).await.unwrap();
    assert!(!status.success());
    assert!(!p.is_running());
    assert!(p.sigterm().is_err());
    drop(p);
    assert!(!dir.exists());
}

#[tokio::test]
async fn early_exit_fails_readiness_with_logs() {
    let port = util::free_port().unwrap();
    let err = WeirProcess::builder("sh")
        .args(["-c", "echo boom >&2; exit 3"])
        .ping_port(port)
        .start()
        .await
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("exited"), "{msg}");
    assert!(msg.contains("boom"), "{msg}");
}

#[tokio::test]
async fn readiness_polls_ping_until_deadline() {
    // Something answering /ping stands in for weir's traefik entry point.
    let ping = server::serve_fn(|req| async move {
        if req.uri().path() == "/ping" {
            server::response(200, "OK")
        } else {
            server::response(404, "")
        }
    })
    .await
    .unwrap();
    let mut p = WeirProcess::builder("sleep")
        .args(["30"])
        .ping_port(ping.port())
        .start()
        .await
        .unwrap();
    assert!(ping.requests() >= 1);
    p.kill().await.unwrap();

    let dead = util::free_port().unwrap();
    let err = WeirProcess::builder("sleep")
        .args(["30"])
        .ping_port(dead)
        .ready_timeout(Duration::from_millis(200))
        .start()
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("not ready"), "{err:#}");
}
