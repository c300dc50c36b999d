//! Per-matcher behaviour; cases ported from Traefik's pkg/muxer/http/matcher_test.go plus our own.

#![allow(clippy::unwrap_used)]

mod common;
use common::{Req, check};
use weir_rules::Rule;

fn rejects(rules: &[&str]) {
    for r in rules {
        assert!(Rule::parse(r).is_err(), "{r:?} should be rejected");
    }
}

#[test]
fn client_ip() {
    rejects(&[
        "ClientIP(`1`)",
        "ClientIP()",
        "ClientIP(``)",
        "ClientIP(`127.0.0.1`, `192.168.1.0/24`)",
        "ClientIP(`10.0.0.0/33`)",
        "ClientIP(`::1/129`)",
        "ClientIP(`10.0.0.0/`)",
    ]);
    check(
        "ClientIP(`127.0.0.1`)",
        &[
            (Req::ip("127.0.0.1"), true),
            (Req::ip("192.168.1.1"), false),
            (Req::default(), false),
        ],
    );
    check(
        "ClientIP(`192.168.1.0/24`)",
        &[
            (Req::ip("192.168.1.1"), true),
            (Req::ip("192.168.1.100"), true),
            (Req::ip("192.168.2.1"), false),
            (Req::ip("::ffff:192.168.1.7"), true),
            (Req::ip("::1"), false),
        ],
    );
    check(
        "ClientIP(`192.168.1.77/24`)",
        &[(Req::ip("192.168.1.1"), true)],
    );
    check(
        "ClientIP(`2001:db8::/32`)",
        &[
            (Req::ip("2001:db8::1"), true),
            (Req::ip("2001:db9::1"), false),
            (Req::ip("10.0.0.1"), false),
        ],
    );
    check(
        "ClientIP(`::1`)",
        &[(Req::ip("::1"), true), (Req::ip("::2"), false)],
    );
    check(
        "ClientIP(`0.0.0.0/0`)",
        &[(Req::ip("8.8.8.8"), true), (Req::ip("::1"), false)],
    );
}

#[test]
fn method() {
    rejects(&["Method()", "Method(``)", "Method(`GET`, `POST`)"]);
    for rule in ["Method(`GET`)", "Method(`get`)"] {
        check(
            rule,
            &[
                (Req::method("GET"), true),
                (Req::method("POST"), false),
                (Req::method("get"), false),
            ],
        );
    }
    check("Method(`purge`)", &[(Req::method("PURGE"), true)]);
}

#[test]
fn host() {
    rejects(&[
        "Host()",
        "Host(``)",
        "Host(`🦭.com`)",
        "Host(`/`)",
        "Host(`example.com`, `example.org`)",
    ]);
    // The caller lower-cases the request host and strips the port.
    check(
        "Host(`example.com`)",
        &[
            (Req::host("example.com"), true),
            (Req::host("example.org"), false),
            (Req::host("example.com."), true),
            (Req::host("example.org."), false),
            (Req::host(""), false),
            (Req::host("a.example.com"), false),
        ],
    );
    check(
        "Host(`example.com.`)",
        &[
            (Req::host("example.com"), true),
            (Req::host("example.com."), true),
            (Req::host("example.org"), false),
            (Req::host("example.org."), false),
        ],
    );
    check(
        "Host(`EXAMPLE.COM`)",
        &[
            (Req::host("example.com"), true),
            (Req::host("example.org"), false),
        ],
    );
    check(
        "Host(`xn--9t9h.com`)",
        &[
            (Req::host("xn--9t9h.com"), true),
            (Req::host("🦭.com"), false),
        ],
    );
    check(
        "Host(`*`)",
        &[
            (Req::host("anything.at.all"), true),
            (Req::host(""), true),
            (Req::host("x"), true),
        ],
    );
    check(
        "Host(`*.example.com`)",
        &[
            (Req::host("a.example.com"), true),
            (Req::host("a.example.com."), true),
            (Req::host("example.com"), false),
            (Req::host("a.b.example.com"), false),
            (Req::host("aexample.com"), false),
            (Req::host(""), false),
        ],
    );
    check(
        "Host(`*.Example.COM.`)",
        &[(Req::host("a.example.com"), true)],
    );
    check("Host(`::1`)", &[(Req::host("::1"), true)]);
    check("Host(`10.0.0.1`)", &[(Req::host("10.0.0.1"), true)]);
}

#[test]
fn host_regexp() {
    rejects(&[
        "HostRegexp()",
        "HostRegexp(``)",
        "HostRegexp(`🦭.com`)",
        "HostRegexp(`(example.com`)",
        "HostRegexp(`example.com`, `example.org`)",
    ]);
    check(
        "HostRegexp(`^[a-zA-Z-]+\\.com$`)",
        &[
            (Req::host("example.com"), true),
            (Req::host("example.org"), false),
        ],
    );
    // The host is canonical (lower-case), so an upper-case-only regex never matches.
    check(
        "HostRegexp(`^[A-Z]+\\.com$`)",
        &[(Req::host("example.com"), false)],
    );
    // v2 template syntax compiles (the braces are literals) and never matches a real host.
    check(
        "HostRegexp(`{domain:[a-zA-Z-]+\\.com}`)",
        &[(Req::host("example.com"), false)],
    );
    // Unanchored.
    check(
        "HostRegexp(`example`)",
        &[(Req::host("www.example.org"), true)],
    );
}

#[test]
fn path() {
    rejects(&["Path()", "Path(``)", "Path(`css`)", "Path(`/css`, `/js`)"]);
    check(
        "Path(`/css`)",
        &[
            (Req::path("/"), false),
            (Req::path("/html"), false),
            (Req::path("/css"), true),
            (Req::path("/css/"), false),
            (Req::path("/css/main.css"), false),
        ],
    );
}

#[test]
fn path_prefix() {
    rejects(&[
        "PathPrefix()",
        "PathPrefix(``)",
        "PathPrefix(`css`)",
        "PathPrefix(`/css`, `/js`)",
    ]);
    check(
        "PathPrefix(\"/css\")",
        &[
            (Req::path("/"), false),
            (Req::path("/html"), false),
            (Req::path("/css"), true),
            (Req::path("/css/"), true),
            (Req::path("/css/main.css"), true),
            // Plain byte prefix, not segment-aware.
            (Req::path("/css-foo"), true),
            (Req::path("/CSS"), false),
        ],
    );
    check("PathPrefix(`/`)", &[(Req::path("/anything"), true)]);
}

#[test]
fn path_regexp() {
    rejects(&[
        "PathRegexp()",
        "PathRegexp(``)",
        "PathRegexp(`/(css`)",
        "PathRegexp(`/css`, `/js`)",
    ]);
    check(
        "PathRegexp(`^/(css|js)`)",
        &[
            (Req::path("/"), false),
            (Req::path("/html"), false),
            (Req::path("/css"), true),
            (Req::path("/CSS"), false),
            (Req::path("/css/"), true),
            (Req::path("/css/main.css"), true),
            (Req::path("/js"), true),
            (Req::path("/js/main.js"), true),
        ],
    );
    // v2 template syntax: Go reads `{path:` as literal text.
    check(
        "PathRegexp(\"/{path:(css|js)}\")",
        &[
            (Req::path("/css"), false),
            (Req::path("/{path:css}"), true),
            (Req::path("/{path:css}/"), true),
            (Req::path("/{path:js}"), true),
            (Req::path("/html"), false),
        ],
    );
    // No leading `/` requirement, unanchored.
    check("PathRegexp(`css`)", &[(Req::path("/static/css/x"), true)]);
}

#[test]
fn header() {
    rejects(&[
        "Header()",
        "Header(`X-Forwarded-Host`)",
        "Header(`X-Forwarded-Host`, ``)",
        "Header(``, `example.com`)",
        "Header(`X-Forwarded-Host`, `example.com`, `example.org`)",
    ]);
    for rule in [
        "Header(`X-Forwarded-Proto`, `https`)",
        "Header(`x-forwarded-proto`, `https`)",
    ] {
        check(
            rule,
            &[
                (Req::headers(&[("X-Forwarded-Proto", "https")]), true),
                (
                    Req::headers(&[
                        ("X-Forwarded-Proto", "http"),
                        ("X-Forwarded-Proto", "https"),
                    ]),
                    true,
                ),
                (
                    Req::headers(&[
                        ("X-Forwarded-Proto", "https"),
                        ("X-Forwarded-Proto", "http"),
                    ]),
                    true,
                ),
                (Req::headers(&[("X-Forwarded-Host", "example.com")]), false),
                // Values are compared whole, not comma-split, and case-sensitively.
                (Req::headers(&[("X-Forwarded-Proto", "http, https")]), false),
                (Req::headers(&[("X-Forwarded-Proto", "HTTPS")]), false),
            ],
        );
    }
    // A key that is not a valid header name compiles and never matches.
    check("Header(`bad key`, `v`)", &[(Req::default(), false)]);
}

#[test]
fn header_regexp() {
    rejects(&[
        "HeaderRegexp()",
        "HeaderRegexp(`X-Forwarded-Host`)",
        "HeaderRegexp(`X-Forwarded-Host`, ``)",
        "HeaderRegexp(``, `example.com`)",
        "HeaderRegexp(`X-Forwarded-Host`,`(example.com`)",
        "HeaderRegexp(`X-Forwarded-Host`, `example.com`, `example.org`)",
    ]);
    for rule in [
        "HeaderRegexp(`X-Forwarded-Proto`, `^https?$`)",
        "HeaderRegexp(`x-forwarded-proto`, `^https?$`)",
    ] {
        check(
            rule,
            &[
                (Req::headers(&[("X-Forwarded-Proto", "http")]), true),
                (Req::headers(&[("X-Forwarded-Proto", "https")]), true),
                (Req::headers(&[("X-Forwarded-Proto", "HTTPS")]), false),
                (
                    Req::headers(&[("X-Forwarded-Proto", "ws"), ("X-Forwarded-Proto", "https")]),
                    true,
                ),
                (Req::headers(&[("X-Forwarded-Host", "example.com")]), false),
            ],
        );
    }
    check(
        "HeaderRegexp(`X-Forwarded-Proto`, `http{secure:s?}`)",
        &[
            (Req::headers(&[("X-Forwarded-Proto", "http")]), false),
            (Req::headers(&[("X-Forwarded-Proto", "https")]), false),
            (
                Req::headers(&[("X-Forwarded-Proto", "http{secure:}")]),
                true,
            ),
            (
                Req::headers(&[("X-Forwarded-Proto", "HTTP{secure:}")]),
                false,
            ),
            (
                Req::headers(&[("X-Forwarded-Proto", "http{secure:s}")]),
                true,
            ),
            (
                Req::headers(&[("X-Forwarded-Proto", "http{secure:S}")]),
                false,
            ),
            (
                Req::headers(&[
                    ("X-Forwarded-Proto", "ws"),
                    ("X-Forwarded-Proto", "http{secure:s}"),
                ]),
                true,
            ),
        ],
    );
}

#[test]
fn query() {
    rejects(&[
        "Query()",
        "Query(``)",
        "Query(``, `traefik`)",
        "Query(`q`, ``)",
        "Query(`q`, `traefik`, `proxy`)",
    ]);
    check(
        "Query(`q`, `traefik`)",
        &[
            (Req::query(""), false),
            (Req::query("q=traefik"), true),
            (Req::query("rel=ddg&q=traefik"), true),
            (Req::query("q=traefik&q=proxy"), true),
            (Req::query("q=awesome&q=traefik"), true),
            (Req::query("q=nginx"), false),
            (Req::query("rel=ddg"), false),
            (Req::query("q=TRAEFIK"), false),
            (Req::query("Q=traefik"), false),
            (Req::query("rel=traefik"), false),
            // Go url.Query details: `;` separates, `%XX` and `+` decode, bad escapes drop the pair.
            (Req::query("a=1;q=traefik"), true),
            (Req::query("%71=tra%65fik"), true),
            (Req::query("q=traefik%zz"), false),
            (Req::query("q=traefik%"), false),
            (Req::query("x=%zz&q=traefik"), true),
        ],
    );
    check(
        "Query(`q`, `a b`)",
        &[
            (Req::query("q=a+b"), true),
            (Req::query("q=a%20b"), true),
            (Req::query("q=a%2Bb"), false),
        ],
    );
    check(
        "Query(`a+b`, `1`)",
        &[(Req::query("a%2Bb=1"), true), (Req::query("a+b=1"), false)],
    );
    check(
        "Query(`mobile`)",
        &[
            (Req::query(""), false),
            (Req::query("mobile"), true),
            (Req::query("mobile="), true),
            (Req::query("mobile=true"), false),
        ],
    );
}

#[test]
fn query_regexp() {
    rejects(&[
        "QueryRegexp()",
        "QueryRegexp(``)",
        "QueryRegexp(`q`, `(traefik`)",
        "QueryRegexp(`q`, `traefik`, `proxy`)",
    ]);
    check(
        "QueryRegexp(`q`, `^(traefik|nginx)$`)",
        &[
            (Req::query(""), false),
            (Req::query("q=traefik"), true),
            (Req::query("rel=ddg&q=traefik"), true),
            (Req::query("q=traefik&q=proxy"), true),
            (Req::query("q=awesome&q=traefik"), true),
            (Req::query("q=TRAEFIK"), false),
            (Req::query("Q=traefik"), false),
            (Req::query("rel=traefik"), false),
            (Req::query("q=nginx"), true),
            (Req::query("q=NGINX"), false),
            (Req::query("q=haproxy"), false),
            (Req::query("rel=ddg"), false),
        ],
    );
    check(
        "QueryRegexp(`q`, `^.*$`)",
        &[
            (Req::query(""), false),
            (Req::query("q=TRAEFIK"), true),
            (Req::query("q"), true),
            (Req::query("Q=x"), false),
        ],
    );
    check(
        "QueryRegexp(`q`, `{value:(traefik|nginx)}`)",
        &[
            (Req::query("q=traefik"), false),
            (Req::query("q={value:traefik}"), true),
        ],
    );
    // One argument: same as Query(key).
    check(
        "QueryRegexp(`mobile`)",
        &[
            (Req::query("mobile"), true),
            (Req::query("mobile=1"), false),
        ],
    );
}
