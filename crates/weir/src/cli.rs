//! Command-line interface. weir's own options are clap flags; the static configuration can
//! also be given as Traefik-style dotted flags (`--entrypoints.web.address=:8000`), which
//! clap cannot declare, so they are split off before clap parses the rest.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// weir: an edge router and Kubernetes ingress controller that reads Traefik's configuration.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about, long_about = None, propagate_version = true)]
#[command(after_help = STATIC_FLAGS_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve traffic: bind the entrypoints and route by the dynamic configuration.
    #[command(after_help = STATIC_FLAGS_HELP)]
    Serve(ConfigArgs),
    /// Validate a static and dynamic configuration, print the routing table and every
    /// problem; exit 1 if there are errors.
    #[command(after_help = STATIC_FLAGS_HELP)]
    Check(ConfigArgs),
    /// Print the version.
    Version,
}

/// Where the static configuration comes from.
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigArgs {
    /// Static configuration file (YAML or TOML, Traefik's format). Without it, weir runs on
    /// its embedded default: entrypoints web :8000, websecure :8443, traefik :9000 (/ping)
    /// and a demo router Host(`whoami.localhost`) → whoami@internal.
    #[arg(
        short = 'c',
        long = "config",
        visible_alias = "configfile",
        alias = "configFile",
        env = "WEIR_CONFIGFILE",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// Kubernetes manifests (a file or a folder of .yaml/.yml/.json files, read in name
    /// order; repeatable, read in the order given). Later objects with the same kind,
    /// namespace and name replace earlier ones, as `kubectl apply` does.
    #[arg(
        short = 'f',
        long = "manifests",
        visible_alias = "filename",
        value_name = "DIR_OR_FILE"
    )]
    pub manifests: Vec<PathBuf>,

    /// Read the subfolders of manifest folders too (kubectl's -R).
    #[arg(short = 'R', long = "recursive")]
    pub recursive: bool,

    /// Stand-in endpoints for a Service port of the manifests, e.g.
    /// `todo-phaseiv/todo-app-backend:8000=127.0.0.1:9101` (repeatable; several for one
    /// port balance between them).
    #[arg(long = "endpoint", value_name = "NAMESPACE/SERVICE:PORT=HOST:PORT")]
    pub endpoints: Vec<String>,

    /// Static configuration flags in Traefik's form; filled from the command line before
    /// clap runs (see the help footer).
    #[arg(skip)]
    pub static_flags: Vec<String>,
}

const STATIC_FLAGS_HELP: &str = "\
Static configuration can also be given as Traefik-style flags and environment variables,
which override the file (file < WEIR_* environment < flags):
  --entrypoints.web.address=:8000       --providers.file.filename=dynamic.yaml
  --providers.file.watch=false          --log.level=DEBUG       --api.insecure
  --providers.kubernetesingress.ingressclass=nginx  (with -f/--manifests)
  WEIR_ENTRYPOINTS_WEB_ADDRESS=:8000    WEIR_LOG_LEVEL=DEBUG
Environment: WEIR_WORKER_THREADS sets the number of worker threads (default: one per core).";

/// Parses the command line: dotted `--a.b.c[=v]` flags go to `static_flags`, the rest to clap.
pub fn parse() -> Cli {
    let (clap_args, dotted) = split_static_flags(std::env::args());
    let mut cli = Cli::parse_from(clap_args);
    match &mut cli.command {
        Command::Serve(a) | Command::Check(a) => a.static_flags = dotted,
        Command::Version => {}
    }
    cli
}

/// Top-level sections of the static configuration that can be given as a bare flag.
const STATIC_SECTIONS: [&str; 8] = [
    "ping",
    "api",
    "accesslog",
    "metrics",
    "tracing",
    "log",
    "hostresolver",
    "experimental",
];

/// Splits Traefik-style static flags (a `--` long option whose name contains a `.`) from
/// the arguments clap understands. A dotted flag's value follows `=`, or is the next
/// argument when that one does not start with `--`.
pub fn split_static_flags(args: impl IntoIterator<Item = String>) -> (Vec<String>, Vec<String>) {
    let mut clap_args = Vec::new();
    let mut dotted = Vec::new();
    let mut iter = args.into_iter().peekable();
    while let Some(arg) = iter.next() {
        let name = arg
            .strip_prefix("--")
            .map(|rest| rest.split('=').next().unwrap_or(""))
            .unwrap_or("");
        let is_dotted = name.contains('.');
        // Sections that are switched on by their bare name: `--ping`, `--api`,
        // `--accesslog`, `--metrics.prometheus`...
        let is_section = STATIC_SECTIONS.contains(&name.to_ascii_lowercase().as_str());
        if !is_dotted && !is_section {
            clap_args.push(arg);
            continue;
        }
        if arg.contains('=') || is_section {
            dotted.push(arg);
        } else if iter.peek().is_some_and(|next| !next.starts_with('-')) {
            let value = iter.next().unwrap_or_default();
            dotted.push(format!("{arg}={value}"));
        } else {
            dotted.push(arg);
        }
    }
    (clap_args, dotted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splits_dotted_flags() {
        let (c, d) = split_static_flags(s(&[
            "weir",
            "serve",
            "--config",
            "x.yaml",
            "--entrypoints.web.address=:8000",
            "--providers.file.filename",
            "dyn.yaml",
            "--api.insecure",
            "--log.level=DEBUG",
        ]));
        assert_eq!(c, s(&["weir", "serve", "--config", "x.yaml"]));
        assert_eq!(
            d,
            s(&[
                "--entrypoints.web.address=:8000",
                "--providers.file.filename=dyn.yaml",
                "--api.insecure",
                "--log.level=DEBUG",
            ])
        );
    }

    #[test]
    fn bare_sections_are_static_flags_and_short_options_are_not_values() {
        let (c, d) = split_static_flags(s(&[
            "weir",
            "check",
            "--ping",
            "--api",
            "--providers.file.watch",
            "-c",
            "static.yaml",
            "--accesslog=true",
        ]));
        assert_eq!(c, s(&["weir", "check", "-c", "static.yaml"]));
        assert_eq!(
            d,
            s(&[
                "--ping",
                "--api",
                "--providers.file.watch",
                "--accesslog=true"
            ])
        );
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
