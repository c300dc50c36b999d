//! The per-request cost of metrics: recording into a series set (the atomics), and a whole
//! probe (begin, finish, body drop) as an entrypoint runs it.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use weir_observe::labels::SeriesKey;
use weir_observe::{Metrics, MetricsConfig, Observer, SeriesSet};

fn record(c: &mut Criterion) {
    let set = SeriesSet::new(String::new(), &[0.1, 0.3, 1.2, 5.0]);
    let keys: Vec<SeriesKey> = [200u16, 404, 503]
        .iter()
        .flat_map(|&code| (0..3u8).map(move |m| SeriesKey::new(code, m, 0)))
        .collect();
    let mut i = 0;
    c.bench_function("series_record", |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            set.record(black_box(keys[i]), Duration::from_micros(250), 0, 120);
        });
    });

    let metrics = Arc::new(Metrics::new(MetricsConfig::default(), &["web".into()]));
    let handles = metrics.route_handles(
        "app@file",
        "app@file",
        false,
        weir_observe::RouteObservability::default(),
    );
    // The load balancer that answers names the service the request counts in.
    let origin = weir_observe::Origin {
        url: Arc::from("http://10.0.0.1:80"),
        service: metrics.service_handle("app@file"),
        status: 200,
        started: None,
        headers: None,
    };
    let observer = Arc::new(Observer::new(Some(metrics), None));
    let (parts, ()) = Request::get("http://app.test/")
        .body(())
        .unwrap()
        .into_parts();
    let name: Arc<str> = Arc::from("web");
    let router: Arc<str> = Arc::from("app@file");
    let client = "127.0.0.1:5000".parse().unwrap();
    c.bench_function("probe_begin_finish_drop", |b| {
        b.iter(|| {
            let peer = weir_observe::Peer {
                addr: client,
                tls: None,
                tls_client_subject: None,
                forwarded_for: None,
            };
            let mut probe = observer.begin(0, &name, &parts, peer);
            probe.routed(&router, &handles);
            let mut resp = Response::new(http_body_util::Empty::<bytes::Bytes>::new());
            resp.extensions_mut().insert(origin.clone());
            let resp = probe.finish(resp);
            drop(black_box(resp));
        });
    });
}

criterion_group!(benches, record);
criterion_main!(benches);
