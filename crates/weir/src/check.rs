//! `weir check`: everything `serve` would do short of binding sockets. Prints the routing
//! table and every problem; the exit status says whether there were errors.

use std::process::ExitCode;
use std::sync::Arc;

use weir_config::Diagnostic;
use weir_proxy::compile::{self, Inputs};
use weir_proxy::internal::ShutdownState;
use weir_proxy::service::HealthRegistry;
use weir_proxy::tls::TlsRegistry;
use weir_proxy::upstream::TransportRegistry;

use crate::cli::ConfigArgs;
use crate::setup;
use crate::static_load::StaticSource;

/// Runs the check and prints its findings to stdout.
pub async fn check(source: StaticSource, args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let cfg = &source.config;
    let mut problems: Vec<String> = Vec::new();
    let mut errors = 0usize;
    let mut note = |d: &Diagnostic, problems: &mut Vec<String>| {
        if d.is_error() {
            errors += 1;
        }
        problems.push(d.to_string());
    };
    for d in &source.diagnostics {
        note(d, &mut problems);
    }
    let entrypoints = setup::entrypoints(cfg)?;
    let mut providers = vec![(
        "internal".to_owned(),
        Arc::new(setup::internal_config(cfg, source.embedded)),
    )];
    if let Some(file) = setup::file_provider(cfg)? {
        match file.load() {
            Ok(snapshot) => {
                for d in &snapshot.diagnostics {
                    note(d, &mut problems);
                }
                providers.push(("file".to_owned(), Arc::new(snapshot.config)));
            }
            Err(e) => {
                errors += 1;
                problems.push(format!("error: {e}"));
            }
        }
    }
    let mut notes = Vec::new();
    if let Some(m) = crate::manifests::load(args, cfg)? {
        for d in &m.diagnostics {
            if d.is_error() {
                errors += 1;
            }
            problems.push(format!("{}: {d}", d.severity));
        }
        for (name, c) in m.providers {
            providers.push((name, Arc::new(c)));
        }
        notes.push(format!("{} Kubernetes objects read", m.objects));
        if !m.skipped.is_empty() {
            let kinds: Vec<String> = m
                .skipped
                .iter()
                .map(|(k, n)| format!("{k} ({n})"))
                .collect();
            notes.push(format!(
                "not routing objects, skipped: {}",
                kinds.join(", ")
            ));
        }
        if !m.dns_services.is_empty() {
            notes.push(format!(
                "no endpoints given (--endpoint) for {}; they point at the services' cluster DNS names",
                m.dns_services.join(", ")
            ));
        }
    }
    let infos: Vec<_> = entrypoints.iter().map(|e| e.info.clone()).collect();
    let mut internal = setup::internal_services(
        cfg,
        Arc::new(ShutdownState::default()),
        http::StatusCode::SERVICE_UNAVAILABLE,
    );
    let names: Vec<String> = infos.iter().map(|i| i.name.clone()).collect();
    crate::observe::internal_services(crate::observe::metrics(cfg, &names).as_ref(), &mut internal);
    crate::observe::api_services(
        cfg,
        Arc::new(weir_api::ApiState::empty(Arc::new(cfg.clone()))),
        &mut internal,
    );
    let compiled = compile::compile(&Inputs {
        entrypoints: &infos,
        providers: &providers,
        internal: &internal,
        transports: &TransportRegistry::new(),
        health: &HealthRegistry::new(),
        tls: &TlsRegistry::new(),
        default_transport: &setup::default_transport(cfg),
        generation: 1,
        metrics: None,
        previous: None,
    });
    print!(
        "{}",
        crate::table_print::routing_table(&compiled.report, &names)
    );
    print_certificates(&compiled.report);
    errors += compiled.report.error_count();
    for n in &notes {
        println!("note: {n}");
    }
    problems.extend(compiled.report.problems());
    if problems.is_empty() {
        println!("\nno problems found");
    } else {
        println!("\nproblems:");
        for p in &problems {
            println!("  {p}");
        }
    }
    Ok(if errors > 0 {
        println!("\n{errors} error(s)");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The certificates that loaded, with their names and expiry.
fn print_certificates(report: &compile::Report) {
    let loaded: Vec<_> = report
        .certificates
        .iter()
        .filter_map(|c| c.info.as_ref().map(|i| (c, i)))
        .collect();
    if loaded.is_empty() {
        return;
    }
    println!("certificates:");
    for (c, info) in loaded {
        let names = if c.default {
            "(default certificate)".to_owned()
        } else {
            info.sans.join(", ")
        };
        println!(
            "  {}  {names}  not after {}",
            c.cert_file, info.not_after_text
        );
    }
}
