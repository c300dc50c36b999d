//! Grammar, operators, error reporting, string literals, name spellings, priority, hosts().

#![allow(clippy::unwrap_used)]

mod common;
use common::{Req, matches};
use weir_rules::{Call, Expr, MatcherKind, Rule};

fn host_req(host: &str, path: &str) -> Req {
    Req {
        host: host.into(),
        path: path.into(),
        ..Req::default()
    }
}

fn err(rule: &str) -> weir_rules::RuleError {
    match Rule::parse(rule) {
        Ok(_) => panic!("{rule:?} should fail"),
        Err(e) => e,
    }
}

#[test]
fn operators() {
    let a = host_req("a", "/x");
    let b_c = host_req("b", "/c");
    let b_x = host_req("b", "/x");
    // `&&` binds tighter than `||`.
    let rule = "Host(`a`) || Host(`b`) && Path(`/c`)";
    assert!(matches(rule, &a));
    assert!(matches(rule, &b_c));
    assert!(!matches(rule, &b_x));
    let grouped = "(Host(`a`) || Host(`b`)) && Path(`/c`)";
    assert!(!matches(grouped, &a));
    assert!(matches(grouped, &b_c));
    assert_eq!(
        Rule::parse(rule).unwrap().expr(),
        Rule::parse("Host(`a`) || (Host(`b`) && Path(`/c`))")
            .unwrap()
            .expr()
    );
    // `!` binds tightest; De Morgan holds.
    let reqs = [a.clone(), b_c.clone(), b_x.clone(), host_req("z", "/c")];
    for r in &reqs {
        assert_eq!(
            matches("!(Host(`a`) && Path(`/c`))", r),
            matches("!Host(`a`) || !Path(`/c`)", r),
            "{r:?}"
        );
        assert_eq!(
            matches("!(Host(`a`) || Path(`/c`))", r),
            matches("!Host(`a`) && !Path(`/c`)", r),
            "{r:?}"
        );
        assert_eq!(matches("!!Host(`b`)", r), matches("Host(`b`)", r));
        assert_eq!(
            matches("!Host(`b`) && Path(`/c`)", r),
            !matches("Host(`b`)", r) && matches("Path(`/c`)", r)
        );
    }
    // Left-associative chains.
    let e = Rule::parse("Path(`/a`) && Path(`/b`) && Path(`/c`)").unwrap();
    assert!(matches!(e.expr(), Expr::And(l, _) if matches!(**l, Expr::And(..))));
}

#[test]
fn whitespace_and_trailing_comma() {
    for rule in [
        "   Host ( `a` )   ",
        "Host(`a`)\n  && PathPrefix(`/`)",
        "\tHost(`a`)&&\r\nPath(`/`)",
        "Host(`a`,)",
        "Header(`a`, `b`,)",
    ] {
        assert!(Rule::parse(rule).is_ok(), "{rule:?}");
    }
}

#[test]
fn name_spellings() {
    for name in ["PathPrefix", "pathprefix", "PATHPREFIX", "Pathprefix"] {
        let rule = format!("{name}(`/a`)");
        assert!(matches(&rule, &Req::path("/abc")), "{name}");
    }
    for name in ["pathPrefix", "PathPREFIX", "Path_Prefix", "PathPrefixx"] {
        let e = err(&format!("{name}(`/a`)"));
        assert_eq!(e.position, 0);
        assert_eq!(e.message, format!("unknown matcher `{name}`"));
    }
    for kind in MatcherKind::ALL {
        assert_eq!(MatcherKind::from_name(kind.name()), Some(kind));
        assert_eq!(
            MatcherKind::from_name(&kind.name().to_lowercase()),
            Some(kind)
        );
        assert_eq!(
            MatcherKind::from_name(&kind.name().to_uppercase()),
            Some(kind)
        );
    }
    assert_eq!(
        MatcherKind::from_name("Clientip"),
        Some(MatcherKind::ClientIP)
    );
    assert_eq!(MatcherKind::from_name("clientIP"), None);
}

#[test]
fn error_positions_and_messages() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "empty rule"),
        ("   ", 0, "empty rule"),
        ("Host(`a`) && Hots(`b`)", 13, "unknown matcher `Hots`"),
        ("Host(`a`, `b`)", 0, "`Host` expects 1 argument, got 2"),
        ("Header(`a`)", 0, "`Header` expects 2 arguments, got 1"),
        ("Query()", 0, "`Query` expects 1 or 2 arguments, got 0"),
        ("Path(``)", 5, "empty argument to `Path`"),
        ("Header(`k`, ``)", 12, "empty argument to `Header`"),
        ("Path(`css`)", 5, "path `css` does not start with a `/`"),
        (
            "Host(example.com)",
            5,
            "argument `example` must be a string literal (`...` or \"...\")",
        ),
        (
            "Host('a')",
            5,
            "single quotes are not allowed, use `backticks` or \"double quotes\"",
        ),
        (
            "Host(1)",
            5,
            "numbers are not allowed, arguments must be string literals",
        ),
        (
            "Host(`a`) & Path(`/`)",
            10,
            "unexpected operator `&`, expected `&&`",
        ),
        (
            "Host(`a`) | Path(`/`)",
            10,
            "unexpected operator `|`, expected `||`",
        ),
        (
            "Host(`a`) Path(`/`)",
            10,
            "expected `&&`, `||` or end of rule, found `Path`",
        ),
        (
            "Host(`a`) &&",
            12,
            "expected a matcher, `!` or `(`, found end of rule",
        ),
        ("(Host(`a`)", 10, "expected `)`, found end of rule"),
        (
            "Host(`a`))",
            9,
            "expected `&&`, `||` or end of rule, found `)`",
        ),
        ("Host", 4, "expected `(` after `Host`, found end of rule"),
        ("Host(`a`", 8, "expected `,` or `)`, found end of rule"),
        ("Host(`a", 5, "unterminated raw string literal"),
        ("Host(\"a)", 5, "unterminated string literal"),
        ("Host(\"\\q\")", 6, "unknown escape sequence"),
        ("Host(`a`) && $", 13, "unexpected character `$`"),
        ("Host(`a`) == Host(`b`)", 10, "unexpected character `=`"),
        (
            "ClientIP(`1`)",
            9,
            "invalid value `1` for ClientIP matcher, expected an IP or a CIDR",
        ),
        (
            "Host(`🦭.com`)",
            5,
            "invalid value `🦭.com` for Host matcher, non-ASCII characters are not allowed",
        ),
        (
            "PathRegexp(`/(css`)",
            12,
            "PathRegexp: invalid regular expression: unclosed group",
        ),
    ];
    for (rule, pos, msg) in cases {
        let e = err(rule);
        assert_eq!(
            (e.position, e.message.as_str()),
            (*pos, *msg),
            "rule {rule:?}"
        );
    }
}

#[test]
fn error_display_has_caret() {
    let e = err("Host(`a`) && Hots(`b`)");
    assert_eq!(
        e.to_string(),
        "at column 14: unknown matcher `Hots`\n  Host(`a`) && Hots(`b`)\n               ^"
    );
    let e = err("Host(`a`) &&\n  Hots(`b`)");
    assert_eq!(
        e.to_string(),
        "at line 2, column 3: unknown matcher `Hots`\n    Hots(`b`)\n    ^"
    );
    // Columns count characters, not bytes.
    let e = err("Host(`é`) && Nope()");
    assert!(e.to_string().starts_with("at column 14:"), "{e}");
    assert_eq!(err("").to_string(), "at column 1: empty rule");
}

#[test]
fn go_string_literals() {
    let arg = |rule: &str| match Rule::parse(rule).unwrap().expr() {
        Expr::Matcher(c) => c.args[1].clone(),
        e => panic!("{e:?}"),
    };
    let cases: &[(&str, &str)] = &[
        (r#"Header(`k`, "a\\b")"#, "a\\b"),
        (r#"Header(`k`, "say \"hi\"")"#, "say \"hi\""),
        (r#"Header(`k`, "t\tn\nr\r")"#, "t\tn\nr\r"),
        (r#"Header(`k`, "\x41\101\u00e9\U0001F9AD")"#, "AAé🦭"),
        (r#"Header(`k`, "\a\b\f\v")"#, "\x07\x08\x0c\x0b"),
        ("Header(`k`, `raw \\n \"x\"`)", "raw \\n \"x\""),
        ("Header(`k`, `multi\r\nline`)", "multi\nline"),
        (r#"Header(`k`, "é")"#, "é"),
    ];
    for (rule, want) in cases {
        assert_eq!(arg(rule), *want, "{rule}");
    }
    for bad in [
        r#"Header(`k`, "\'")"#,
        r#"Header(`k`, "\x4")"#,
        r#"Header(`k`, "\400")"#,
        r#"Header(`k`, "\uD800")"#,
        r#"Header(`k`, "\xff")"#,
        "Header(`k`, \"new\nline\")",
    ] {
        assert!(Rule::parse(bad).is_err(), "{bad:?}");
    }
    // Interpreted strings are how a regex backslash is written with double quotes.
    assert!(matches(r#"PathRegexp("^/a\\.b$")"#, &Req::path("/a.b")));
    assert!(!matches(r#"PathRegexp("^/a\\.b$")"#, &Req::path("/axb")));
}

#[test]
fn priority_and_source() {
    let r = Rule::parse("Host(`example.org`)").unwrap();
    assert_eq!(r.default_priority(), 19);
    assert_eq!(r.source(), "Host(`example.org`)");
    assert_eq!(
        Rule::parse("Host(`é.org`) ")
            .map(|r| r.default_priority())
            .ok(),
        None
    );
    assert_eq!(Rule::parse("Path(`/é`)").unwrap().default_priority(), 11);
}

#[test]
fn hosts_like_parse_domains() {
    let cases: &[(&str, &[&str])] = &[
        ("Host(`foo.bar`)", &["foo.bar"]),
        (
            "Host(`Foo.Bar`) || Host(`baz`) && Path(`/`)",
            &["foo.bar", "baz"],
        ),
        ("Host(`a`) || Host(`A`) || host(`b`)", &["a", "b"]),
        ("PathPrefix(`/`) && HostRegexp(`x`)", &[]),
        ("!Host(`neg`) && Host(`*.wild.com`)", &["neg", "*.wild.com"]),
    ];
    for (rule, want) in cases {
        assert_eq!(Rule::parse(rule).unwrap().hosts(), *want, "{rule}");
    }
}

#[test]
fn render_round_trip() {
    let rule = "!(Host(`a`) || Header(`k`, \"b`c\")) && (Path(`/x`) || Query(`q`)) || Method(`GET`) && !!ClientIP(`::1`)";
    let parsed = Rule::parse(rule).unwrap();
    let rendered = parsed.expr().to_string();
    assert_eq!(
        Rule::parse(&rendered).unwrap().expr(),
        parsed.expr(),
        "{rendered}"
    );
    let by_hand = Expr::Or(
        Box::new(Expr::Matcher(Call::new(
            MatcherKind::Path,
            vec!["/a".into()],
        ))),
        Box::new(Expr::Or(
            Box::new(Expr::Matcher(Call::new(
                MatcherKind::Path,
                vec!["/b".into()],
            ))),
            Box::new(Expr::Matcher(Call::new(
                MatcherKind::Path,
                vec!["/c".into()],
            ))),
        )),
    );
    assert_eq!(
        by_hand.to_string(),
        "Path(`/a`) || (Path(`/b`) || Path(`/c`))"
    );
}

#[test]
fn hostile_input_does_not_panic() {
    let deep = format!("{}Path(`/`){}", "(".repeat(5000), ")".repeat(5000));
    assert!(Rule::parse(&deep).is_err());
    let nots = format!("{}Path(`/`)", "!".repeat(100_000));
    assert!(Rule::parse(&nots).is_err());
    let long = vec!["Path(`/`)"; 1500].join(" && ");
    assert!(Rule::parse(&long).is_ok());
    let too_long = vec!["Path(`/`)"; 5000].join(" || ");
    assert!(Rule::parse(&too_long).is_err());
    for s in [
        "\"",
        "`",
        "(",
        ")",
        "!",
        "Host(",
        "Host(`a`,,)",
        "\u{0}",
        "Host(\"\\",
        "Host(\"\\x",
        "Host(\"\\u12",
    ] {
        let _ = Rule::parse(s);
    }
}
