//! Per-request cost of a middleware chain: headers + stripPrefix + rateLimit (a limit never
//! reached) in front of a service that answers at once, against the same service alone.
//! The request is built in both cases, so the difference is the chain.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt as _;
use http::{Request, Response};
use weir_config::dynamic::{Headers, MiddlewareKind, RateLimit, StripPrefix};
use weir_proxy::handler::SharedHandler;
use weir_proxy::middleware::{self, compose};
use weir_proxy::{Body, BoxFuture, Handler, RequestContext, body};

struct Answer;

impl Handler for Answer {
    fn handle<'a>(
        &'a self,
        _req: Request<Body>,
        _cx: &'a RequestContext,
    ) -> BoxFuture<'a, Response<Body>> {
        Box::pin(async { Response::new(body::empty()) })
    }
}

fn request() -> Request<Body> {
    Request::get("/api/items?page=2")
        .header("host", "bench.test")
        .header("user-agent", "bench")
        .header("x-forwarded-for", "127.0.0.1")
        .body(body::empty())
        .unwrap()
}

fn chain(c: &mut Criterion) {
    let cx = RequestContext {
        client_addr: "127.0.0.1:40000".parse().unwrap(),
        local_addr: "127.0.0.1:8000".parse().unwrap(),
        entrypoint: "web".into(),
        tls: false,
        router: None,
        observe: weir_observe::Wanted::default(),
        answered: weir_observe::Answered::default(),
    };
    let headers = Headers {
        custom_request_headers: BTreeMap::from([("X-Script-Name".into(), "bench".into())]),
        custom_response_headers: BTreeMap::from([("X-Served-By".into(), "weir".into())]),
        ..Headers::default()
    };
    let strip = StripPrefix {
        prefixes: vec!["/api".into()],
        force_slash: None,
    };
    let limit = RateLimit {
        average: 1_000_000_000,
        burst: 1_000_000_000,
        ..RateLimit::default()
    };
    let specs = [
        middleware::build(
            MiddlewareKind::Headers(&headers),
            &middleware::StateScope::detached(),
        )
        .unwrap(),
        middleware::build(
            MiddlewareKind::StripPrefix(&strip),
            &middleware::StateScope::detached(),
        )
        .unwrap(),
        middleware::build(
            MiddlewareKind::RateLimit(&limit),
            &middleware::StateScope::detached(),
        )
        .unwrap(),
    ];
    let service: SharedHandler = Arc::new(Answer);
    let with_chain = compose(&specs, service.clone(), "bench@file");

    let mut group = c.benchmark_group("middleware_chain");
    for (name, handler) in [
        ("none", service),
        ("headers+stripPrefix+rateLimit", with_chain),
    ] {
        let resp = handler.handle(request(), &cx).now_or_never().unwrap();
        assert_eq!(resp.status(), 200);
        group.bench_function(name, |b| {
            b.iter_batched(
                request,
                |req| handler.handle(black_box(req), &cx).now_or_never(),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, chain);
criterion_main!(benches);
