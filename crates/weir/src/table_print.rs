//! Printing a compiled configuration for humans: the routing table per entrypoint, then
//! every problem.

use std::fmt::Write;

use weir_proxy::compile::{Report, Status};

/// Renders the routing table: per entrypoint, its routers in the order they are tried.
pub fn routing_table(report: &Report, entrypoints: &[String]) -> String {
    let mut out = String::new();
    for ep in entrypoints {
        let mut routers: Vec<_> = report
            .routers
            .iter()
            .filter(|(_, r)| r.entry_points.iter().any(|e| e == ep))
            .collect();
        // Same order as the matcher: priority descending, then name.
        routers.sort_by(|(an, a), (bn, b)| b.priority.cmp(&a.priority).then_with(|| an.cmp(bn)));
        let _ = writeln!(out, "entrypoint {ep}:");
        if routers.is_empty() {
            let _ = writeln!(out, "  (no routers)");
        }
        for (name, r) in routers {
            let mark = match r.status {
                Status::Enabled => "  ",
                Status::Warning => "! ",
                Status::Disabled => "x ",
            };
            let tls = if r.tls { " [tls]" } else { "" };
            let _ = writeln!(
                out,
                "{mark}{name}  priority={}  {}  -> {}{tls}",
                r.priority, r.rule, r.service
            );
            if !r.middlewares.is_empty() {
                let _ = writeln!(out, "      middlewares: {}", r.middlewares.join(", "));
            }
        }
    }
    let orphans: Vec<_> = report
        .routers
        .iter()
        .filter(|(_, r)| r.entry_points.is_empty())
        .collect();
    if !orphans.is_empty() {
        let _ = writeln!(out, "routers on no entrypoint:");
        for (name, r) in orphans {
            let _ = writeln!(out, "x {name}  {}  -> {}", r.rule, r.service);
        }
    }
    out
}
