//! The `weir` binary: command line, logging, runtime, and the wiring of providers, compiler
//! and data plane.

mod check;
mod cli;
mod logging;
mod manifests;
mod observe;
mod reload;
mod serve;
mod setup;
mod static_load;
mod table_print;

use std::process::ExitCode;

use cli::Command;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::parse();
    let args = match cli.command {
        Command::Version => {
            println!("weir {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::Serve(ref a) | Command::Check(ref a) => a.clone(),
    };
    let source = match static_load::resolve(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("weir: {e:#}");
            return ExitCode::from(2);
        }
    };
    let is_check = matches!(cli.command, Command::Check(_));
    let level = if source.embedded {
        "INFO"
    } else {
        source.config.log.level.as_str()
    };
    logging::init(
        if is_check { "WARN" } else { level },
        source.config.log.format.eq_ignore_ascii_case("json"),
    );
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("weir: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if is_check {
        runtime.block_on(check::check(source, &args))
    } else {
        runtime
            .block_on(serve::serve(source, &args))
            .map(|()| ExitCode::SUCCESS)
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("weir: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A multi-threaded runtime with `WEIR_WORKER_THREADS` workers (default: one per core).
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    b.enable_all();
    if let Some(n) = std::env::var("WEIR_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        b.worker_threads(n);
    }
    b.build()
}
