#![allow(clippy::unwrap_used)]
//! The Helm chart and the binary agree: the chart is rendered with `helm template` (helm as
//! installed by `scripts/chart-check --tools-only`, or `$WEIR_HELM`), and weir is started
//! with the Deployment's own arguments, on loopback ports instead of the container ports.
//! Its probes' path and port answer, the metrics entrypoint serves the configured prefix's
//! families, and on SIGTERM it drains within the pod's termination grace period as the
//! chart's comments promise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use weir_config::static_config::{Ping, StaticConfiguration};
use weir_testkit::util::{free_port, wait_until};
use weir_testkit::{TestCa, WeirProcess, client};

const BIN: &str = env!("CARGO_BIN_EXE_weir");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart_dir() -> PathBuf {
    repo_root().join("deploy/helm/weir")
}

/// helm: `$WEIR_HELM`, else the one `scripts/chart-check` caches (installed on first use,
/// once per test binary: tests running at once on a fresh machine would race to install).
fn helm() -> PathBuf {
    static HELM: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    HELM.get_or_init(|| {
        if let Some(p) = std::env::var_os("WEIR_HELM") {
            return PathBuf::from(p);
        }
        let out = Command::new("bash")
            .arg(repo_root().join("scripts/chart-check"))
            .arg("--tools-only")
            .output()
            .expect("running scripts/chart-check --tools-only");
        assert!(
            out.status.success(),
            "scripts/chart-check --tools-only failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        PathBuf::from(stdout.lines().last().expect("a helm path").trim())
    })
    .clone()
}

/// `helm template` of the chart with a values file from `ci/` (None: the defaults).
fn render(values: Option<&str>) -> Vec<Value> {
    let mut cmd = Command::new(helm());
    cmd.args(["template", "weir"])
        .arg(chart_dir())
        .args(["--namespace", "weir"]);
    if let Some(v) = values {
        cmd.arg("-f").arg(chart_dir().join("ci").join(v));
    }
    let out = cmd.output().expect("running helm template");
    assert!(
        out.status.success(),
        "helm template failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_saphyr::from_str_multiple::<Value, Vec<Value>>(&text)
        .expect("helm's output is YAML")
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// What the chart tells the weir container.
struct Pod {
    args: Vec<String>,
    /// Container port name → port.
    ports: BTreeMap<String, u16>,
    probe_path: String,
    probe_port: String,
    termination_grace: u64,
    pre_stop_sleep: u64,
    /// The file provider's ConfigMap (file name → content), when rendered.
    dynamic_files: BTreeMap<String, String>,
}

fn pod(docs: &[Value]) -> Pod {
    let dep = docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("a Deployment");
    let spec = &dep["spec"]["template"]["spec"];
    let c = &spec["containers"][0];
    let args = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    let ports = c["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                u16::try_from(p["containerPort"].as_u64().unwrap()).unwrap(),
            )
        })
        .collect();
    let probe = &c["readinessProbe"]["httpGet"];
    assert_eq!(
        probe, &c["livenessProbe"]["httpGet"],
        "liveness and readiness probe the same endpoint"
    );
    let dynamic_files = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "weir-dynamic")
        .and_then(|cm| cm["data"].as_object())
        .map(|data| {
            data.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    Pod {
        args,
        ports,
        probe_path: probe["path"].as_str().unwrap().to_owned(),
        probe_port: probe["port"].as_str().unwrap().to_owned(),
        termination_grace: spec["terminationGracePeriodSeconds"].as_u64().unwrap(),
        pre_stop_sleep: c["lifecycle"]["preStop"]["sleep"]["seconds"]
            .as_u64()
            .unwrap_or(0),
        dynamic_files,
    }
}

/// Secret names of the certificate files the dynamic configuration refers to.
fn cert_secrets(files: &BTreeMap<String, String>) -> Vec<String> {
    let mut out: Vec<String> = files
        .values()
        .flat_map(|text| text.split("/etc/weir/certs/").skip(1))
        .filter_map(|rest| rest.split('/').next())
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn port_of(address: &str) -> u16 {
    address.rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn chart_ports_are_the_binary_defaults() {
    let pod = pod(&render(None));
    let embedded = StaticConfiguration::embedded_default();
    for name in ["web", "websecure", "traefik"] {
        let binary = port_of(&embedded.entry_points[name].address);
        assert_eq!(
            pod.ports[name], binary,
            "container port {name} is weir's default for that entrypoint"
        );
        assert!(
            pod.args
                .contains(&format!("--entrypoints.{name}.address=:{binary}")),
            "the args bind {name} on :{binary}: {:?}",
            pod.args
        );
    }
    // DESIGN.md's port plan: metrics on 9100.
    assert_eq!(pod.ports["metrics"], 9100);
    // The probes use weir's ping, on the entrypoint ping defaults to.
    assert_eq!(pod.probe_path, "/ping");
    assert_eq!(pod.probe_port, Ping::default().entry_point);
}

/// Starts weir with the pod's arguments, entrypoints moved to free loopback ports.
/// Kubernetes provider flags are left out: there is no cluster here (their parsing is
/// covered by `weir check` in `rendered_args_parse`). Paths under /etc/weir/ (the chart's
/// mounts) are moved into the test directory, where the ConfigMap's files are written.
async fn start(pod: &Pod) -> (WeirProcess, BTreeMap<String, u16>) {
    let mut loopback = BTreeMap::new();
    for name in pod.ports.keys() {
        loopback.insert(name.clone(), free_port().unwrap());
    }
    let mut args = Vec::new();
    for a in &pod.args {
        if a.starts_with("--providers.kubernetes") {
            continue;
        }
        let rewritten = match a
            .strip_prefix("--entrypoints.")
            .and_then(|r| r.split_once(".address="))
        {
            Some((name, _)) => format!("--entrypoints.{name}.address=127.0.0.1:{}", loopback[name]),
            None => a.replace("/etc/weir/", "{{dir}}/"),
        };
        args.push(rewritten);
    }
    let mut builder = WeirProcess::builder(BIN)
        .args(args)
        .ping_port(loopback[&pod.probe_port]);
    for (file, content) in &pod.dynamic_files {
        builder = builder.file(
            &format!("dynamic/{file}"),
            content.replace("/etc/weir/", "{{dir}}/"),
        );
    }
    // The Secrets and ConfigMaps the chart mounts: certificates under certs/<secret>/ and,
    // in the tls-files combination, a CA bundle for backends.
    let ca = TestCa::new().unwrap();
    for secret in cert_secrets(&pod.dynamic_files) {
        let cert = ca.issue(&[secret.as_str()]).unwrap();
        builder = builder
            .file(&format!("certs/{secret}/tls.crt"), cert.cert_pem)
            .file(&format!("certs/{secret}/tls.key"), cert.key_pem);
    }
    builder = builder.file("backend-ca/ca.crt", ca.cert_pem());
    (builder.start().await.unwrap(), loopback)
}

/// Held while a test runs weir: free loopback ports are picked before weir binds them, so
/// two tests of this file picking at the same time could be handed the same port.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn check_serving(combo: Option<&str>) {
    let docs = render(combo);
    let pod = pod(&docs);
    let (mut weir, ports) = start(&pod).await;
    let what = combo.unwrap_or("default values");

    let ping = format!(
        "http://127.0.0.1:{}{}",
        ports[&pod.probe_port], pod.probe_path
    );
    let r = client::get(&ping, None).await.unwrap();
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "OK"), "{what}");

    // The metrics entrypoint is bound where the chart's Service and ServiceMonitor point.
    let prefix = pod
        .args
        .iter()
        .find_map(|a| a.strip_prefix("--metrics.prometheus.prefix="))
        .unwrap_or("weir")
        .to_owned();
    let metrics = format!("http://127.0.0.1:{}/metrics", ports["metrics"]);
    let r = client::get(&metrics, None).await.unwrap();
    assert_eq!(r.status, 200, "{what}: /metrics\n{}", weir.logs());
    assert!(
        r.body.contains(&format!("{prefix}_config_reloads_total "))
            && r.body
                .contains(&format!("{prefix}_open_connections{{entrypoint=\"web\"")),
        "{what}: /metrics has the {prefix}_ names the dashboard and alerts use:\n{}",
        r.body
    );
    assert!(weir.is_running(), "{what}\n{}", weir.logs());
    weir.kill().await.unwrap();
}

#[tokio::test]
async fn default_values_serve_ping_and_metrics() {
    let _one = ONE_AT_A_TIME.lock().await;
    check_serving(None).await;
}

#[tokio::test]
async fn combinations_serve_ping_and_metrics() {
    let _one = ONE_AT_A_TIME.lock().await;
    for combo in [
        "monitoring-values.yaml",
        "nginx-migration-values.yaml",
        "one-replica-values.yaml",
        "metallb-values.yaml",
        "tls-files-values.yaml",
    ] {
        check_serving(Some(combo)).await;
    }
}

/// With the chart's shutdown settings: on SIGTERM, /ping turns 503 (readiness fails, the
/// endpoint is removed) while weir still accepts, and weir exits well within the
/// termination grace period left after the preStop sleep.
#[tokio::test]
async fn sigterm_drains_within_the_termination_grace_period() {
    let _one = ONE_AT_A_TIME.lock().await;
    let pod = pod(&render(None));
    let (mut weir, ports) = start(&pod).await;
    let ping = format!("http://127.0.0.1:{}/ping", ports[&pod.probe_port]);
    let web = format!("http://127.0.0.1:{}/", ports["web"]);

    let start = Instant::now();
    weir.sigterm().unwrap();
    wait_until(Duration::from_secs(5), async || {
        client::get(&ping, None)
            .await
            .is_ok_and(|r| r.status == 503)
    })
    .await
    .unwrap_or_else(|e| panic!("/ping did not turn 503 after SIGTERM: {e}\n{}", weir.logs()));
    // Still accepting during requestAcceptGraceTimeout: a new connection gets an answer.
    let r = client::get(&web, None).await;
    assert!(
        r.is_ok(),
        "web refused a request during the accept grace: {r:?}"
    );

    let budget = Duration::from_secs(pod.termination_grace - pod.pre_stop_sleep);
    let status = weir.wait_exit(budget).await.unwrap();
    assert!(status.success(), "{status}\n{}", weir.logs());
    assert!(start.elapsed() < budget);
}

/// Every combination's arguments, provider flags included, parse: `weir check` takes the
/// same static flags as `serve` and fails on an unknown one.
#[test]
fn rendered_args_parse() {
    for combo in [
        None,
        Some("monitoring-values.yaml"),
        Some("nginx-migration-values.yaml"),
        Some("one-replica-values.yaml"),
        Some("metallb-values.yaml"),
        Some("tls-files-values.yaml"),
    ] {
        let pod = pod(&render(combo));
        let dir = tempfile::tempdir().unwrap();
        let args: Vec<String> = pod.args[1..]
            .iter()
            .map(|a| a.replace("/etc/weir/", &format!("{}/", dir.path().display())))
            .collect();
        std::fs::create_dir_all(dir.path().join("dynamic")).unwrap();
        let out = Command::new(BIN)
            .arg("check")
            .args(&args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("unknown option") && !stderr.contains("unexpected argument"),
            "{combo:?}: weir rejects the chart's args: {stderr}"
        );
    }
}
