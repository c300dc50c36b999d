//! Scale: 5,000 Ingresses, each with its own Service and EndpointSlice (two ready
//! endpoints), go through what the live Ingress provider does on every change: the
//! objects' JSON into an `ObjectSet`, `translate`, the comparison with the last
//! configuration, and weir-proxy's `compile` into a routing table. Then one Ingress
//! changes and the same runs again, as the provider does today: the change goes into the
//! set kept from before (one object parsed), then translate and compile run in full.
//!
//! Prints the time of each phase (median of 5 runs) and the process' peak resident
//! memory (`VmHWM` from /proc/self/status). Not a criterion bench: peak memory is a
//! process-wide figure and the phases are long. Run it in release:
//!
//! ```sh
//! cargo bench -p weir-kube --bench scale
//! ```

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use weir_config::dynamic::Configuration;
use weir_kube::{IngressOptions, ObjectSet, Options, translate};
use weir_proxy::compile::{self, EntrypointInfo, Inputs};
use weir_proxy::service::HealthRegistry;
use weir_proxy::tls::TlsRegistry;
use weir_proxy::upstream::{TransportRegistry, TransportSettings};

const N: usize = 5_000;
const RUNS: usize = 5;

fn objects() -> Vec<Value> {
    let mut v = Vec::with_capacity(3 * N);
    for i in 0..N {
        let ns = format!("team-{}", i % 50);
        let name = format!("app-{i}");
        v.push(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"clusterIP": format!("10.96.{}.{}", i / 250, i % 250),
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
        }));
        v.push(json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": format!("{name}-abcde"), "namespace": ns,
                         "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [
                {"addresses": [format!("10.1.{}.{}", i / 250, i % 250)], "conditions": {"ready": true}},
                {"addresses": [format!("10.2.{}.{}", i / 250, i % 250)], "conditions": {"ready": true}}
            ]
        }));
        v.push(ingress(&ns, &name, i, "/"));
    }
    v
}

fn ingress(ns: &str, name: &str, i: usize, path: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"rules": [{"host": format!("app-{i}.example.com"), "http": {"paths": [
            {"path": path, "pathType": "Prefix",
             "backend": {"service": {"name": name, "port": {"number": 80}}}}
        ]}}]}
    })
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

struct Phases {
    set: Duration,
    translate: Duration,
    compare: Duration,
    compile: Duration,
}

/// Every object's JSON into a new set, timed.
fn full_set(store: &[Value]) -> (ObjectSet, Duration) {
    let t = Instant::now();
    let mut set = ObjectSet::new();
    for v in store {
        set.insert_json(v.clone()).unwrap();
    }
    (set, t.elapsed())
}

/// What follows the set: translate, compare, compile (`set_time` is the set's phase).
fn run_once(
    set: &ObjectSet,
    set_time: Duration,
    opts: &Options,
    last: Option<&Configuration>,
) -> (Phases, Configuration, usize) {
    let t = Instant::now();
    let mut tr = translate(set, opts);
    let translate_time = t.elapsed();
    assert!(tr.problems.is_empty(), "{:?}", tr.problems.first());
    let config = std::mem::take(&mut tr.ingress);

    let t = Instant::now();
    let changed = last != Some(&config);
    let compare_time = t.elapsed();
    assert!(changed);

    let t = Instant::now();
    let entrypoints = vec![EntrypointInfo {
        name: "web".into(),
        as_default: true,
        tls: None,
        ..EntrypointInfo::default()
    }];
    let providers = vec![("kubernetes".to_owned(), Arc::new(config.clone()))];
    let compiled = compile::compile(&Inputs {
        entrypoints: &entrypoints,
        providers: &providers,
        internal: &BTreeMap::new(),
        transports: &TransportRegistry::new(),
        health: &HealthRegistry::new(),
        tls: &TlsRegistry::new(),
        default_transport: &TransportSettings::default(),
        generation: 1,
        metrics: None,
        previous: None,
    });
    let compile_time = t.elapsed();
    let routers = compiled.report.routers.len();
    (
        Phases {
            set: set_time,
            translate: translate_time,
            compare: compare_time,
            compile: compile_time,
        },
        config,
        routers,
    )
}

fn report(title: &str, runs: Vec<Phases>) {
    let set = median(runs.iter().map(|p| p.set).collect());
    let tr = median(runs.iter().map(|p| p.translate).collect());
    let cmp = median(runs.iter().map(|p| p.compare).collect());
    let comp = median(runs.iter().map(|p| p.compile).collect());
    println!(
        "{title}: objects->set {}, translate {}, compare {}, compile {}, total {}",
        ms(set),
        ms(tr),
        ms(cmp),
        ms(comp),
        ms(set + tr + cmp + comp)
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let before = peak_rss_mib();
    let mut store = objects();
    let opts = Options {
        ingress: Some(IngressOptions::default()),
        ..Options::default()
    };
    println!(
        "{N} Ingresses, {N} Services, {N} EndpointSlices ({} objects), median of {RUNS} runs",
        store.len()
    );

    let mut full = Vec::new();
    let mut last = None;
    let mut kept = ObjectSet::new();
    for _ in 0..RUNS {
        // One set at a time, as in the provider.
        drop(std::mem::take(&mut kept));
        let (set, set_time) = full_set(&store);
        let (p, config, routers) = run_once(&set, set_time, &opts, None);
        assert_eq!(routers, N);
        full.push(p);
        last = Some(config);
        kept = set;
    }
    report("full build", full);

    // One Ingress changes its path: it goes into the kept set (as the live provider's
    // store does with a watch event); translate and compile run in full.
    let mut update = Vec::new();
    for k in 0..RUNS {
        let i = 2 * k + 1;
        let ns = format!("team-{}", i % 50);
        let changed = ingress(&ns, &format!("app-{i}"), i, &format!("/v{k}"));
        store[3 * i + 2] = changed.clone();
        let t = Instant::now();
        kept.insert_json(changed).unwrap();
        let set_time = t.elapsed();
        let (p, config, _) = run_once(&kept, set_time, &opts, last.as_ref());
        update.push(p);
        last = Some(config);
    }
    report("one Ingress changed", update);
    println!(
        "peak RSS (VmHWM): {:.0} MiB (at start: {before:.0} MiB)",
        peak_rss_mib()
    );
    // After the figures (it holds a second set): the kept set is the one a full rebuild
    // makes.
    let (rebuilt, _) = full_set(&store);
    let mut a = translate(&kept, &opts);
    let mut b = translate(&rebuilt, &opts);
    assert!(std::mem::take(&mut a.ingress) == std::mem::take(&mut b.ingress));
}
