//! Property tests: the indexed RouteSet agrees with a naive linear scan, and rendering round-trips.

#![allow(clippy::unwrap_used)]

mod common;
use common::Req;
use http::{HeaderMap, HeaderValue, Method};
use proptest::prelude::*;
use weir_rules::{Call, Expr, MatcherKind, RouteSetBuilder, Rule};

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(items).prop_map(str::to_owned)
}

fn leaf() -> impl Strategy<Value = Expr> {
    let one = |kind: MatcherKind, pool: &'static [&'static str]| {
        pick(pool).prop_map(move |a| Expr::Matcher(Call::new(kind, vec![a])))
    };
    let two = |kind: MatcherKind, keys: &'static [&'static str], vals: &'static [&'static str]| {
        (pick(keys), pick(vals)).prop_map(move |(k, v)| Expr::Matcher(Call::new(kind, vec![k, v])))
    };
    const HOSTS: &[&str] = &[
        "a.com",
        "b.com",
        "A.com",
        "a.com.",
        "*.a.com",
        "*",
        "c.org",
        "x.a.com",
        "*.x.a.com.",
    ];
    prop_oneof![
        // Host-heavy so that indexing paths get exercised.
        4 => one(MatcherKind::Host, HOSTS),
        1 => one(MatcherKind::HostRegexp, &["^a", "com$", "x\\.a", "^$"]),
        1 => one(MatcherKind::Path, &["/", "/a", "/a/b"]),
        1 => one(MatcherKind::PathPrefix, &["/", "/a", "/b"]),
        1 => one(MatcherKind::PathRegexp, &["^/a", "b$", "/{x}"]),
        1 => one(MatcherKind::Method, &["GET", "post"]),
        1 => two(MatcherKind::Header, &["X-A", "x-b"], &["1", "2", "a`b"]),
        1 => two(MatcherKind::HeaderRegexp, &["X-A"], &["^1", "\\d"]),
        1 => one(MatcherKind::Query, &["q", "r"]),
        1 => two(MatcherKind::Query, &["q", "r"], &["1", "a b"]),
        1 => two(MatcherKind::QueryRegexp, &["q"], &["^1", "2"]),
        1 => one(MatcherKind::ClientIP, &["10.0.0.0/8", "::1", "10.1.2.3"]),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner).prop_map(|(l, r)| Expr::Or(Box::new(l), Box::new(r))),
        ]
    })
}

fn request() -> impl Strategy<Value = Req> {
    (
        pick(&[
            "a.com",
            "b.com",
            "x.a.com",
            "y.x.a.com",
            "c.org",
            "",
            "a.com.",
            "x.a.com.",
            "com",
        ]),
        pick(&["/", "/a", "/a/b", "/b", "/ab", "/{x}"]),
        pick(&["GET", "POST", "post"]),
        proptest::sample::subsequence(
            vec![("x-a", "1"), ("x-a", "2"), ("x-b", "2"), ("x-b", "a`b")],
            0..4,
        ),
        pick(&["", "q", "q=1", "q=1&r=a+b", "r=a%20b;q=2", "q=%zz"]),
        pick(&["", "10.1.2.3", "::1", "192.168.0.1"]),
    )
        .prop_map(|(host, path, method, headers, query, ip)| {
            let mut map = HeaderMap::new();
            for (k, v) in headers {
                map.append(k, HeaderValue::from_static(v));
            }
            Req {
                host,
                path,
                method: Method::from_bytes(method.as_bytes()).unwrap(),
                headers: map,
                query,
                client_ip: ip.parse().ok(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn render_round_trips(e in expr()) {
        let src = e.to_string();
        let parsed = Rule::parse(&src).unwrap();
        prop_assert_eq!(parsed.expr(), &e, "rendered as {}", src);
    }

    #[test]
    fn index_agrees_with_linear_scan(
        routes in proptest::collection::vec((expr(), proptest::option::of(-2i64..3), pick(&["a", "b", "c"])), 0..24),
        reqs in proptest::collection::vec(request(), 1..16),
    ) {
        let rules: Vec<(Rule, i64, String)> = routes
            .into_iter()
            .map(|(e, prio, name)| {
                let rule = Rule::parse(&e.to_string()).unwrap();
                let prio = prio.unwrap_or_else(|| rule.default_priority());
                (rule, prio, name)
            })
            .collect();
        let mut builder = RouteSetBuilder::new();
        for (i, (rule, prio, name)) in rules.iter().enumerate() {
            builder.add(rule.clone(), *prio, name, i);
        }
        let set = builder.build();
        let mut order: Vec<usize> = (0..rules.len()).collect();
        order.sort_by(|&a, &b| rules[b].1.cmp(&rules[a].1).then(rules[a].2.cmp(&rules[b].2)).then(a.cmp(&b)));
        for req in &reqs {
            let view = req.view();
            let naive = order.iter().copied().find(|&i| rules[i].0.matches(&view));
            prop_assert_eq!(set.find(&view).copied(), naive, "request {:?}", req);
        }
    }
}
