//! Route lookup cost: host routers at 10 / 1,000 / 10,000 routes (hit on a middle host) and
//! 1,000 PathPrefix routers sharing one host.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use http::{HeaderMap, Method};
use weir_rules::{RequestView, RouteSet, RouteSetBuilder, Rule};

fn build(rules: impl Iterator<Item = String>) -> RouteSet<usize> {
    let mut b = RouteSetBuilder::new();
    for (i, src) in rules.enumerate() {
        let rule = Rule::parse(&src).unwrap();
        let prio = rule.default_priority();
        b.add(rule, prio, &format!("r{i}@file"), i);
    }
    b.build()
}

fn host_routers(c: &mut Criterion) {
    let headers = HeaderMap::new();
    let mut group = c.benchmark_group("host_routers");
    for n in [10usize, 1_000, 10_000] {
        let set = build((0..n).map(|i| format!("Host(`svc{i}.example.com`)")));
        let host = format!("svc{}.example.com", n / 2);
        let req = RequestView {
            host: &host,
            path: "/index.html",
            method: &Method::GET,
            headers: &headers,
            query: "",
            client_ip: None,
        };
        assert_eq!(set.find(&req), Some(&(n / 2)));
        group.bench_with_input(BenchmarkId::from_parameter(n), &req, |b, req| {
            b.iter(|| set.find(black_box(req)))
        });
    }
    group.finish();
}

fn path_prefix_routers(c: &mut Criterion) {
    let headers = HeaderMap::new();
    let set = build((0..1_000).map(|i| format!("Host(`api.example.com`) && PathPrefix(`/p{i}/`)")));
    let req = RequestView {
        host: "api.example.com",
        path: "/p500/users/42",
        method: &Method::GET,
        headers: &headers,
        query: "",
        client_ip: None,
    };
    assert_eq!(set.find(&req), Some(&500));
    c.bench_function("path_prefix_routers/1000_one_host", |b| {
        b.iter(|| set.find(black_box(&req)))
    });
}

criterion_group!(benches, host_routers, path_prefix_routers);
criterion_main!(benches);
