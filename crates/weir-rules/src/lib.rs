//! The Traefik v3 HTTP rule language: parser, compiled matchers and a host-indexed route set.
//!
//! ```
//! use weir_rules::{RequestView, Rule, RouteSetBuilder};
//!
//! let rule = Rule::parse("Host(`example.com`) && PathPrefix(`/api`)").unwrap();
//! let mut routes = RouteSetBuilder::new();
//! routes.add(rule.clone(), rule.default_priority(), "api@file", "api");
//! let routes = routes.build();
//!
//! let headers = http::HeaderMap::new();
//! let req = RequestView {
//!     host: "example.com",
//!     path: "/api/v1",
//!     method: &http::Method::GET,
//!     headers: &headers,
//!     query: "",
//!     client_ip: None,
//! };
//! assert_eq!(routes.find(&req), Some(&"api"));
//! ```
//!
//! Semantics follow Traefik v3 (`pkg/muxer/http`); see `docs/rules.md` for the details and the
//! few deliberate differences.

mod ast;
mod error;
mod host;
mod index;
mod ip;
mod lexer;
mod matcher;
mod parser;
mod query;
mod regex;
mod request;
mod rule;

pub use crate::ast::{Call, Expr, MatcherKind};
pub use crate::error::RuleError;
pub use crate::index::{RouteSet, RouteSetBuilder};
pub use crate::regex::{go_regex, translate as translate_go_regex};
pub use crate::request::RequestView;
pub use crate::rule::Rule;
