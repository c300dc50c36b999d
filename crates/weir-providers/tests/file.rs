//! The file provider against real files and the real file watcher.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use tokio::sync::mpsc;
use weir_providers::file::{FileProvider, FileProviderConfig, FileUpdate};

fn router_yaml(name: &str, host: &str) -> String {
    format!(
        "http:\n  routers:\n    {name}:\n      rule: \"Host(`{host}`)\"\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:1\n"
    )
}

/// Writes next to `path` and renames over it, as editors and config management do.
fn replace(path: &Path, contents: &str) {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn next(rx: &mut mpsc::Receiver<FileUpdate>) -> FileUpdate {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an update within 10s")
        .expect("watcher still running")
}

fn routers(update: &FileUpdate) -> Vec<String> {
    match update {
        Ok(s) => s.config.http.routers.keys().cloned().collect(),
        Err(e) => panic!("expected a configuration, got {e}"),
    }
}

#[test]
fn loads_yaml_and_toml_files() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("dyn.yaml");
    std::fs::write(&yaml, router_yaml("a", "a.test")).unwrap();
    let snap = FileProvider::new(FileProviderConfig::filename(&yaml))
        .load()
        .unwrap();
    assert_eq!(snap.provider, "file");
    assert!(snap.config.http.routers.contains_key("a"));

    let toml = dir.path().join("dyn.toml");
    std::fs::write(
        &toml,
        "[http.routers.t]\nrule = \"Host(`t.test`)\"\nservice = \"s\"\n",
    )
    .unwrap();
    let snap = FileProvider::new(FileProviderConfig::filename(&toml))
        .load()
        .unwrap();
    assert_eq!(snap.config.http.routers["t"].rule, "Host(`t.test`)");
}

#[test]
fn a_file_that_does_not_parse_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, "http:\n  routers:\n    r:\n      rule: [unclosed\n").unwrap();
    let err = FileProvider::new(FileProviderConfig::filename(&path))
        .load()
        .unwrap_err()
        .to_string();
    assert!(err.contains("broken.yaml"), "{err}");
    assert!(err.contains(':'), "{err}");
}

#[test]
fn a_directory_merges_files_and_reports_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("10-a.yaml"), router_yaml("a", "a.test")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/20-b.toml"),
        "[http.routers.b]\nrule = \"Host(`b.test`)\"\nservice = \"s\"\n",
    )
    .unwrap();
    // Same router name in a later file: the first definition wins and a warning says so.
    std::fs::write(
        dir.path().join("30-dup.yaml"),
        router_yaml("a", "other.test"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not configuration").unwrap();
    let snap = FileProvider::new(FileProviderConfig::directory(dir.path()))
        .load()
        .unwrap();
    let names: Vec<&String> = snap.config.http.routers.keys().collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(snap.config.http.routers["a"].rule, "Host(`a.test`)");
    let warnings: Vec<String> = snap.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("30-dup.yaml") && w.contains('a')),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn watch_follows_rewrites_and_keeps_going_after_a_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dyn.yaml");
    std::fs::write(&path, router_yaml("one", "one.test")).unwrap();
    let mut cfg = FileProviderConfig::filename(&path);
    cfg.debounce = Duration::from_millis(20);
    let (tx, mut rx) = mpsc::channel(8);
    let task = tokio::spawn(FileProvider::new(cfg).watch(tx));

    assert_eq!(routers(&next(&mut rx).await), ["one"]);
    replace(&path, &router_yaml("two", "two.test"));
    assert_eq!(routers(&next(&mut rx).await), ["two"]);

    // Broken: reported as an error naming the file.
    replace(&path, "http: [\n");
    match next(&mut rx).await {
        Err(e) => assert!(e.to_string().contains("dyn.yaml"), "{e}"),
        Ok(_) => panic!("a broken file must not produce a configuration"),
    }
    // Fixed in place (no rename): picked up again.
    std::fs::write(&path, router_yaml("three", "three.test")).unwrap();
    assert_eq!(routers(&next(&mut rx).await), ["three"]);

    drop(rx);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the watcher stops when the receiver is gone")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn unrelated_files_next_to_the_configuration_do_not_reload_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dyn.yaml");
    std::fs::write(&path, router_yaml("one", "one.test")).unwrap();
    let mut cfg = FileProviderConfig::filename(&path);
    cfg.debounce = Duration::from_millis(20);
    let (tx, mut rx) = mpsc::channel(8);
    let _task = tokio::spawn(FileProvider::new(cfg).watch(tx));
    assert_eq!(routers(&next(&mut rx).await), ["one"]);

    // A log file written continuously in the same folder (as weir's own logs may be) must
    // neither trigger reloads nor hold a real change back.
    let log = dir.path().join("weir.log");
    let writer = tokio::spawn(async move {
        // Bounded (20 s), longer than `next`'s deadline: aborted once the test is done.
        for i in 0..4000 {
            std::fs::write(&log, format!("line {i}\n")).unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    replace(&path, &router_yaml("two", "two.test"));
    assert_eq!(routers(&next(&mut rx).await), ["two"]);
    writer.abort();
}
