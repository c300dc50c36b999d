//! Go RE2 → Rust regex translation.

#![allow(clippy::unwrap_used)]

use weir_rules::go_regex;

/// (pattern, haystack, expected match)
const CASES: &[(&str, &str, bool)] = &[
    // A `{` that is not a counted repetition is a literal in Go.
    ("/{path:(css|js)}", "/{path:css}", true),
    ("/{path:(css|js)}", "/css", false),
    ("http{secure:s?}", "http{secure:}", true),
    ("a{", "a{", true),
    ("a{,3}", "a{,3}", true),
    ("a{x}", "a{x}", true),
    ("}", "}", true),
    ("]", "]", true),
    ("^a{2}$", "aa", true),
    ("^a{2}$", "a{2}", false),
    ("^a{1,}$", "aaa", true),
    ("^a{1,2}$", "aaa", false),
    // Perl classes are ASCII-only in Go.
    ("^\\d+$", "123", true),
    ("^\\d+$", "١٢٣", false),
    ("^\\w+$", "abc_9", true),
    ("^\\w+$", "é", false),
    ("^\\W$", "é", true),
    ("^\\s$", "\u{a0}", false),
    ("^\\s$", "\t", true),
    ("^\\S$", "\u{a0}", true),
    ("^\\D$", "٣", true),
    ("é\\b", "éa", true),
    ("é\\b", "é", false),
    ("a\\b", "aé", true),
    ("\\Ba", "ba", true),
    ("^[\\d]$", "٣", false),
    ("^[^\\d]$", "٣", true),
    ("^[\\w-]+$", "a-b_c", true),
    ("^[a\\D]$", "x", true),
    // Class contents have no nesting or set operators in Go.
    ("^[[]$", "[", true),
    ("^[a&&b]+$", "&&ab", true),
    ("^[a~~b]+$", "~", true),
    ("^[!--]+$", ",", true),
    ("^[a-]$", "-", true),
    ("^[]a]$", "]", true),
    ("^[^]a]$", "b", true),
    ("^[[:alpha:]]+$", "abc", true),
    ("^[[:^digit:]]$", "a", true),
    ("^[\\[\\]]$", "]", true),
    ("^[\\x41-\\x43]$", "B", true),
    ("^[\\p{Greek}]$", "α", true),
    // Escapes.
    ("\\<a\\>", "<a>", true),
    ("^\\Qa.b*\\E$", "a.b*", true),
    ("^\\Qa.b*\\E$", "axb", false),
    ("^\\Q{x}", "{x}", true),
    ("^\\101$", "A", true),
    ("^\\0$", "\0", true),
    ("^\\x{1F9AD}$", "🦭", true),
    ("^\\x41$", "A", true),
    ("^\\pL+$", "héllo", true),
    ("^\\p{Lu}$", "É", true),
    ("^\\.\\-\\_\\!$", ".-_!", true),
    ("\\Aab\\z", "ab", true),
    // Flags and groups shared by both dialects.
    ("(?i)^abc$", "ABC", true),
    ("^(?P<x>a)(?<y>b)$", "ab", true),
    ("(?s)a.b", "a\nb", true),
    ("^a*?b+?c??d{1,2}?$", "aabbcdd", true),
    ("^(?:ab)+$", "abab", true),
    ("a.b", "a\nb", false),
    // Unanchored.
    ("b", "abc", true),
];

#[test]
fn translation_cases() {
    for (pattern, hay, want) in CASES {
        let re = go_regex(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
        assert_eq!(
            re.is_match(hay),
            *want,
            "{pattern:?} on {hay:?} (as {:?})",
            re.as_str()
        );
    }
}

#[test]
fn rejected_like_go() {
    for pattern in [
        "(abc",
        "abc)",
        "[abc",
        "a{1001}",
        "a{2,1}",
        "\\1",
        "\\8",
        "x\\",
        "[z-a]",
        "[[:nope:]]",
        "*",
        "a**",
        "a+*",
        "a*??",
        "a{2}*",
        "a{2}{3}",
        "\\q",
        "\\x{110000}",
    ] {
        assert!(go_regex(pattern).is_err(), "{pattern:?} should be rejected");
    }
}

#[test]
fn error_points_into_pattern() {
    let e = go_regex("ab{1001}").unwrap_err();
    assert_eq!(e.position, 2);
    assert!(e.message.contains("invalid repeat count"), "{}", e.message);
    let e = weir_rules::Rule::parse("PathRegexp(`/a{2000}`)").unwrap_err();
    assert_eq!(e.position, 14);
}

#[test]
fn size_limit() {
    assert!(go_regex("((((a{100}){100}){100}){100})").is_err());
}
