//! The command line: `check` output and exit codes, `version`, `--help`, startup errors.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

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

const STATIC: &str = "entryPoints:\n  web:\n    address: \":8000\"\nproviders:\n  file:\n    filename: dynamic.yaml\n";

#[test]
fn check_prints_the_table_and_passes_a_good_configuration() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("static.yaml"), STATIC).unwrap();
    std::fs::write(
        dir.path().join("dynamic.yaml"),
        "http:\n  routers:\n    app:\n      rule: \"Host(`app.test`) && PathPrefix(`/api`)\"\n      service: app\n  services:\n    app:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:9\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "--config", "static.yaml"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("entrypoint web"), "{t}");
    assert!(t.contains("app@file"), "{t}");
    assert!(t.contains("Host(`app.test`) && PathPrefix(`/api`)"), "{t}");
    assert!(t.contains("-> app@file"), "{t}");
    assert!(t.contains("no problems found"), "{t}");
}

#[test]
fn check_fails_and_names_each_problem() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("static.yaml"), STATIC).unwrap();
    std::fs::write(
        dir.path().join("dynamic.yaml"),
        "http:\n  routers:\n    bad:\n      rule: \"Host(`a.test`) && Pathh(`/x`)\"\n      service: nowhere\n      entryPoints: [web]\n      bogusField: 1\n",
    )
    .unwrap();
    let out = run(dir.path(), &["check", "--config", "static.yaml"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("bad@file"), "{t}");
    assert!(t.contains("Pathh"), "unknown matcher named: {t}");
    assert!(t.contains("bogusField"), "unknown field reported: {t}");
    assert!(t.contains("dynamic.yaml:"), "file and line: {t}");
}

#[test]
fn check_reports_a_file_that_does_not_parse() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("static.yaml"), STATIC).unwrap();
    std::fs::write(dir.path().join("dynamic.yaml"), "http:\n  routers: [\n").unwrap();
    let out = run(dir.path(), &["check", "--config", "static.yaml"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("dynamic.yaml"), "{t}");
}

#[test]
fn a_broken_static_file_is_a_startup_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("static.yaml"),
        "entryPoints:\n  web:\n    address: [1, 2\n",
    )
    .unwrap();
    let out = run(dir.path(), &["serve", "--config", "static.yaml"]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("static.yaml"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn check_on_the_embedded_default_passes() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["check"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("Host(`whoami.localhost`)"), "{t}");
    assert!(t.contains("whoami@internal"), "{t}");
    assert!(t.contains("ping@internal"), "{t}");
}

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["version"]);
    assert!(out.status.success());
    assert!(
        text(&out).contains(env!("CARGO_PKG_VERSION")),
        "{}",
        text(&out)
    );
    let out = run(dir.path(), &["--help"]);
    let t = text(&out);
    for word in ["serve", "check", "version", "--entrypoints.web.address"] {
        assert!(t.contains(word), "{word} missing from --help: {t}");
    }
    let out = run(dir.path(), &["serve", "--no-such-flag"]);
    assert!(!out.status.success());
}

#[test]
fn the_edge_basics_scenario_loads() {
    // A copy of ../shared/scenarios/edge-basics/file kept in the repository.
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../weir-config/tests/data/edge-basics");
    let out = run(&scenario, &["check", "--config", "static.yaml"]);
    let t = text(&out);
    // Every router of the scenario is in the table; none is missing for a parse error.
    for router in [
        "whoami-http@file",
        "whoami-https@file",
        "echo-http@file",
        "dashboard@file",
    ] {
        assert!(t.contains(router), "{router}: {t}");
    }
    assert!(!t.contains("does not parse"), "{t}");
}
