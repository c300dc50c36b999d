//! RouteSet ordering and index behaviour.

#![allow(clippy::unwrap_used)]

mod common;
use common::Req;
use weir_rules::{RouteSet, RouteSetBuilder, Rule};

fn set(routes: &[(&str, Option<i64>, &str)]) -> RouteSet<&'static str> {
    let mut b = RouteSetBuilder::new();
    for (i, (rule, prio, name)) in routes.iter().enumerate() {
        let rule = Rule::parse(rule).unwrap();
        let prio = prio.unwrap_or_else(|| rule.default_priority());
        // Leak the index as a static label so values are easy to compare.
        let label: &'static str = Box::leak(format!("r{i}").into_boxed_str());
        b.add(rule, prio, name, label);
    }
    b.build()
}

fn find(set: &RouteSet<&'static str>, host: &str, path: &str) -> Option<&'static str> {
    let req = Req {
        host: host.into(),
        path: path.into(),
        ..Req::default()
    };
    set.find(&req.view()).copied()
}

#[test]
fn longer_rule_wins_by_default() {
    let s = set(&[
        ("Host(`foobar.traefik.com`)", None, "a"),
        ("HostRegexp(`[a-z]+\\.traefik\\.com`)", None, "b"),
        (
            "Host(`foobar.traefik.com`) && PathPrefix(`/api`)",
            None,
            "c",
        ),
    ]);
    // The documented gotcha: the regex rule (34) beats the plain host (26).
    assert_eq!(find(&s, "foobar.traefik.com", "/"), Some("r1"));
    assert_eq!(find(&s, "foobar.traefik.com", "/api/x"), Some("r2"));
    assert_eq!(find(&s, "other.traefik.com", "/"), Some("r1"));
    assert_eq!(find(&s, "traefik.org", "/"), None);
}

#[test]
fn explicit_priority_and_tie_break() {
    let s = set(&[
        ("PathPrefix(`/`)", Some(100), "zeta"),
        ("PathPrefix(`/`)", Some(100), "alpha"),
        ("PathPrefix(`/`)", Some(1000), "low-name"),
    ]);
    assert_eq!(find(&s, "x", "/"), Some("r2"));
    let s = set(&[
        ("PathPrefix(`/`)", Some(5), "zeta"),
        ("PathPrefix(`/`)", Some(5), "alpha"),
    ]);
    assert_eq!(
        find(&s, "x", "/"),
        Some("r1"),
        "name ascending on equal priority"
    );
    let s = set(&[
        ("PathPrefix(`/`)", Some(5), "same"),
        ("PathPrefix(`/`)", Some(5), "same"),
    ]);
    assert_eq!(find(&s, "x", "/"), Some("r0"), "insertion order last");
    let s = set(&[
        ("Host(`a`)", Some(-5), "n"),
        ("PathPrefix(`/`)", Some(-1), "m"),
    ]);
    assert_eq!(
        find(&s, "a", "/"),
        Some("r1"),
        "negative priorities order too"
    );
    let order: Vec<_> = s.iter().map(|(_, p, n, _)| (p, n.to_owned())).collect();
    assert_eq!(order, vec![(-1, "m".to_owned()), (-5, "n".to_owned())]);
}

#[test]
fn indexed_and_fallback_routes_interleave_by_rank() {
    let s = set(&[
        ("Host(`a.com`)", Some(10), "h10"),
        ("PathPrefix(`/`)", Some(20), "f20"),
        ("Host(`a.com`) || Host(`b.com`)", Some(30), "h30"),
        ("Host(`*.a.com`)", Some(40), "w40"),
        ("!Host(`a.com`)", Some(5), "n5"),
        ("Host(`A.COM.`) && Path(`/only`)", Some(50), "h50"),
    ]);
    assert_eq!(find(&s, "a.com", "/x"), Some("r2"));
    assert_eq!(find(&s, "a.com.", "/only"), Some("r5"));
    assert_eq!(find(&s, "b.com", "/x"), Some("r2"));
    assert_eq!(find(&s, "x.a.com", "/x"), Some("r3"));
    assert_eq!(find(&s, "x.a.com.", "/x"), Some("r3"));
    assert_eq!(find(&s, "y.x.a.com", "/x"), Some("r1"));
    assert_eq!(find(&s, "", "/x"), Some("r1"));
    assert_eq!(find(&s, "c.com", "/x"), Some("r1"));
    let s = set(&[
        ("!Host(`a.com`)", Some(5), "n5"),
        ("Host(`*`)", Some(1), "any"),
    ]);
    assert_eq!(find(&s, "a.com", "/"), Some("r1"));
    assert_eq!(find(&s, "", "/"), Some("r0"));
    assert_eq!(s.fallback_len(), 2);
    assert_eq!(s.len(), 2);
    assert!(!s.is_empty());
    assert!(
        RouteSetBuilder::<u8>::new()
            .build()
            .find(&Req::default().view())
            .is_none()
    );
}

#[test]
fn host_routes_are_indexed() {
    let rules = [
        "Host(`a`)",
        "Host(`a`) && Path(`/x`)",
        "(Host(`a`) || Host(`b`)) && Method(`GET`)",
        "Path(`/x`) && (Host(`a`) || Host(`*.b`))",
        "Host(`*.a.com`)",
    ];
    let mut b = RouteSetBuilder::new();
    for r in rules {
        b.add(Rule::parse(r).unwrap(), 0, r, ());
    }
    assert_eq!(b.build().fallback_len(), 0);
    for r in [
        "Host(`a`) || Path(`/`)",
        "HostRegexp(`a`)",
        "!Host(`a`)",
        "Host(`*`)",
        "Path(`/`)",
        "Host(`*a.com`)",
    ] {
        let mut b = RouteSetBuilder::new();
        b.add(Rule::parse(r).unwrap(), 0, r, ());
        assert_eq!(b.build().fallback_len(), 1, "{r}");
    }
}

#[test]
fn route_set_is_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RouteSet<String>>();
    assert_send_sync::<Rule>();
}
