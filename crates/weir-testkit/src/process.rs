//! A weir process under test: configuration files in a temporary directory, output captured
//! to files, readiness by polling `/ping`, signals, and kill on drop.
//!
//! In static and dynamic configuration (and in extra files and arguments), `{{dir}}` is
//! replaced by the temporary directory and `{{dynamic}}` by the dynamic file's path.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::client;
use crate::util::POLL_INTERVAL;

/// Default deadline for [`WeirProcess::wait_ready`] when started by the builder.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(20);

const STATIC_FILE: &str = "static.yaml";
const DYNAMIC_FILE: &str = "dynamic.yaml";

/// Builds and starts a [`WeirProcess`].
#[derive(Debug, Clone)]
pub struct WeirBuilder {
    bin: PathBuf,
    static_yaml: Option<String>,
    dynamic_yaml: Option<String>,
    dynamic_name: String,
    files: Vec<(String, Vec<u8>)>,
    args: Option<Vec<String>>,
    extra_args: Vec<String>,
    env: Vec<(String, String)>,
    ping_port: Option<u16>,
    ready_timeout: Duration,
}

impl WeirBuilder {
    /// Static configuration (YAML). Without it weir runs with no `--config` (its embedded
    /// default).
    pub fn static_config(mut self, yaml: &str) -> Self {
        self.static_yaml = Some(yaml.to_owned());
        self
    }

    /// Dynamic configuration (YAML), written to `dynamic.yaml` (see
    /// [`WeirBuilder::dynamic_file_name`]).
    pub fn dynamic_config(mut self, yaml: &str) -> Self {
        self.dynamic_yaml = Some(yaml.to_owned());
        self
    }

    /// Names the dynamic file (e.g. `dynamic.toml`); default `dynamic.yaml`.
    pub fn dynamic_file_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.dynamic_name);
        self
    }

    /// Writes another file into the directory before start (certificates, a second dynamic
    /// file...). Placeholders are replaced when the content is UTF-8.
    pub fn file(mut self, name: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((name.to_owned(), contents.into()));
        self
    }

    /// Replaces the command line (default: `serve --config {{dir}}/static.yaml`, or just
    /// `serve` without static configuration).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args = Some(args.into_iter().map(Into::into).collect());
        self
    }

    /// Appends one argument to the command line.
    pub fn arg(mut self, arg: &str) -> Self {
        self.extra_args.push(arg.to_owned());
        self
    }

    /// Sets an environment variable for the process.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The port whose `/ping` must answer 200 before [`WeirBuilder::start`] returns.
    /// Without it `start` returns as soon as the process is spawned.
    pub fn ping_port(mut self, port: u16) -> Self {
        self.ping_port = Some(port);
        self
    }

    /// Deadline for readiness (default [`DEFAULT_READY_TIMEOUT`]).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Writes the files, spawns weir and (with a ping port) waits until it is ready.
    pub async fn start(self) -> anyhow::Result<WeirProcess> {
        let dir = tempfile::Builder::new()
            .prefix("weir-e2e-")
            .tempdir()
            .context("creating the test directory")?;
        let dynamic_path = dir.path().join(&self.dynamic_name);
        let subst = |s: &str| {
            s.replace("{{dir}}", &dir.path().to_string_lossy())
                .replace("{{dynamic}}", &dynamic_path.to_string_lossy())
        };
        for (name, contents) in &self.files {
            let contents = match std::str::from_utf8(contents) {
                Ok(text) => subst(text).into_bytes(),
                Err(_) => contents.clone(),
            };
            write_atomic(&dir.path().join(name), &contents)?;
        }
        if let Some(yaml) = &self.dynamic_yaml {
            write_atomic(&dynamic_path, subst(yaml).as_bytes())?;
        }
        let mut args = match (&self.args, &self.static_yaml) {
            (Some(args), _) => args.iter().map(|a| subst(a)).collect(),
            (None, Some(_)) => vec![
                "serve".to_owned(),
                "--config".to_owned(),
                dir.path().join(STATIC_FILE).to_string_lossy().into_owned(),
            ],
            (None, None) => vec!["serve".to_owned()],
        };
        args.extend(self.extra_args.iter().map(|a| subst(a)));
        if let Some(yaml) = &self.static_yaml {
            write_atomic(&dir.path().join(STATIC_FILE), subst(yaml).as_bytes())?;
        }

        let stdout_path = dir.path().join("stdout.log");
        let stderr_path = dir.path().join("stderr.log");
        let mut cmd = Command::new(&self.bin);
        cmd.args(&args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path)?)
            .stderr(std::fs::File::create(&stderr_path)?)
            .kill_on_drop(true);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("spawning {} {args:?}", self.bin.display()))?;
        let mut process = WeirProcess {
            child,
            dynamic_path,
            stdout_path,
            stderr_path,
            exit: None,
            dir,
        };
        if let Some(port) = self.ping_port {
            process.wait_ready(port, self.ready_timeout).await?;
        }
        Ok(process)
    }
}

/// A running weir binary. Killed (SIGKILL) on drop if still running; its directory is
/// removed then too.
#[derive(Debug)]
pub struct WeirProcess {
    child: Child,
    dynamic_path: PathBuf,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
    exit: Option<ExitStatus>,
    // Last: dropped after the child is killed.
    dir: TempDir,
}

impl WeirProcess {
    /// Starts configuring a process for the binary at `bin` (in an integration test of the
    /// `weir` crate: `env!("CARGO_BIN_EXE_weir")`).
    pub fn builder(bin: impl AsRef<Path>) -> WeirBuilder {
        WeirBuilder {
            bin: bin.as_ref().to_path_buf(),
            static_yaml: None,
            dynamic_yaml: None,
            dynamic_name: DYNAMIC_FILE.to_owned(),
            files: Vec::new(),
            args: None,
            extra_args: Vec::new(),
            env: Vec::new(),
            ping_port: None,
            ready_timeout: DEFAULT_READY_TIMEOUT,
        }
    }

    /// Shorthand: writes both configurations, starts weir and waits for `/ping` on
    /// `ping_port`.
    pub async fn start(
        bin: impl AsRef<Path>,
        static_yaml: &str,
        dynamic_yaml: &str,
        ping_port: u16,
    ) -> anyhow::Result<WeirProcess> {
        Self::builder(bin)
            .static_config(static_yaml)
            .dynamic_config(dynamic_yaml)
            .ping_port(ping_port)
            .start()
            .await
    }

    /// The process id (None once reaped).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The temporary directory holding configuration and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Path of the dynamic configuration file.
    pub fn dynamic_path(&self) -> &Path {
        &self.dynamic_path
    }

    /// What the process wrote to stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Both outputs, labelled, for assertion messages.
    pub fn logs(&self) -> String {
        format!(
            "----- weir stdout -----\n{}\n----- weir stderr -----\n{}\n-----------------------",
            self.stdout(),
            self.stderr()
        )
    }

    /// Polls `GET http://127.0.0.1:PORT/ping` until it answers 200, failing (with the logs)
    /// if the process exits or `timeout` passes first.
    pub async fn wait_ready(&mut self, port: u16, timeout: Duration) -> anyhow::Result<()> {
        let url = format!("http://127.0.0.1:{port}/ping");
        let start = Instant::now();
        let mut last;
        loop {
            if let Some(status) = self.try_exit()? {
                bail!(
                    "weir exited ({status}) before {url} answered\n{}",
                    self.logs()
                );
            }
            match tokio::time::timeout(Duration::from_secs(2), client::get(&url, None)).await {
                Ok(Ok(resp)) if resp.status == 200 => return Ok(()),
                Ok(Ok(resp)) => last = format!("status {}", resp.status),
                Ok(Err(e)) => last = format!("{e:#}"),
                Err(_) => last = "timed out".to_owned(),
            }
            if start.elapsed() >= timeout {
                bail!(
                    "weir not ready: {url} did not answer 200 within {timeout:?} (last: {last})\n{}",
                    self.logs()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The exit status if the process has exited (non-blocking).
    pub fn try_exit(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait()?;
        }
        Ok(self.exit)
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.try_exit(), Ok(None))
    }

    /// Sends a signal by name (`TERM`, `INT`, `HUP`, `KILL`...) with `kill(1)`.
    pub fn signal(&mut self, name: &str) -> anyhow::Result<()> {
        if self.try_exit()?.is_some() {
            bail!("weir already exited; cannot send SIG{name}");
        }
        let pid = self
            .child
            .id()
            .ok_or_else(|| anyhow::anyhow!("weir has no pid"))?;
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid.to_string())
            .status()
            .context("running kill(1)")?;
        anyhow::ensure!(status.success(), "kill -{name} {pid} failed: {status}");
        Ok(())
    }

    /// Sends SIGTERM (graceful shutdown).
    pub fn sigterm(&mut self) -> anyhow::Result<()> {
        self.signal("TERM")
    }

    /// Waits for the process to exit, failing (with the logs) after `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        if let Some(status) = self.exit {
            return Ok(status);
        }
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                self.exit = Some(status);
                Ok(status)
            }
            Err(_) => bail!("weir still running after {timeout:?}\n{}", self.logs()),
        }
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if self.try_exit()?.is_none() {
            self.child.kill().await?;
            self.exit = self.child.try_wait()?;
        }
        Ok(())
    }

    /// Replaces the dynamic configuration atomically (write a temporary file, rename).
    pub fn rewrite_dynamic(&self, yaml: &str) -> anyhow::Result<()> {
        write_atomic(&self.dynamic_path, self.subst(yaml).as_bytes())
    }

    /// Writes (atomically) any file in the directory; placeholders are replaced.
    pub fn write_file(&self, name: &str, contents: &str) -> anyhow::Result<PathBuf> {
        let path = self.dir.path().join(name);
        write_atomic(&path, self.subst(contents).as_bytes())?;
        Ok(path)
    }

    fn subst(&self, s: &str) -> String {
        s.replace("{{dir}}", &self.dir.path().to_string_lossy())
            .replace("{{dynamic}}", &self.dynamic_path.to_string_lossy())
    }
}

/// Writes `path` atomically: a temporary file in the same directory, then a rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let parent = path
        .parent()
        .ok_or_else(|| anyhow::anyhow!("{} has no parent", path.display()))?;
    std::fs::create_dir_all(parent)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(parent)?;
    std::io::Write::write_all(&mut tmp, contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}
