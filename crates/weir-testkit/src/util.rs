//! Free loopback ports, polling with a deadline, and configuration snippets.

use std::net::TcpListener;
use std::time::{Duration, Instant};

/// How often [`wait_until`] re-checks its condition.
pub const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// A currently free port on 127.0.0.1 (bind to port 0, read it, release it).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(free_ports::<1>()?[0])
}

/// `N` distinct currently free ports on 127.0.0.1 (all held until every one is read).
pub fn free_ports<const N: usize>() -> anyhow::Result<[u16; N]> {
    let mut listeners = Vec::with_capacity(N);
    let mut ports = [0u16; N];
    for port in &mut ports {
        let l = TcpListener::bind("127.0.0.1:0")?;
        *port = l.local_addr()?.port();
        listeners.push(l);
    }
    Ok(ports)
}

/// Polls `condition` every [`POLL_INTERVAL`] until it returns true, or fails once `timeout`
/// has passed (after one last check).
///
/// ```no_run
/// # async fn demo(port: u16) -> anyhow::Result<()> {
/// use std::time::Duration;
/// use weir_testkit::{client, util::wait_until};
/// wait_until(Duration::from_secs(5), async || {
///     client::get(&format!("http://127.0.0.1:{port}/"), Some("new.test"))
///         .await
///         .is_ok_and(|r| r.status == 200)
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn wait_until(
    timeout: Duration,
    mut condition: impl AsyncFnMut() -> bool,
) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        if condition().await {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            anyhow::bail!("condition not met within {timeout:?}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// A static configuration with entry points `web` (127.0.0.1:`web`) and `traefik`
/// (127.0.0.1:`traefik`, which serves `/ping`), `ping` enabled, logs at DEBUG, and the file
/// provider reading `{{dynamic}}` (replaced by [`crate::WeirProcess`]) with watching on.
pub fn basic_static_config(web: u16, traefik: u16) -> String {
    format!(
        r#"entryPoints:
  web:
    address: "127.0.0.1:{web}"
  traefik:
    address: "127.0.0.1:{traefik}"
ping: {{}}
log:
  level: DEBUG
providers:
  file:
    filename: "{{{{dynamic}}}}"
    watch: true
"#
    )
}

/// A dynamic configuration with one router `r` (`rule`) to one service `s` load-balancing
/// over `servers` (full URLs such as [`crate::ServerHandle::url`]).
pub fn simple_dynamic_config(rule: &str, servers: &[String]) -> String {
    let mut out = format!(
        "http:\n  routers:\n    r:\n      rule: \"{}\"\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers:\n",
        rule.replace('\\', "\\\\").replace('"', "\\\"")
    );
    for url in servers {
        out.push_str(&format!("          - url: \"{url}\"\n"));
    }
    out
}

/// The JSON lines of `path` (an access log), parsed; lines that are not JSON, and a missing
/// file, give nothing.
pub fn json_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct() {
        let [a, b, c] = free_ports::<3>().unwrap();
        assert!(a != b && b != c && a != c);
        assert!(free_port().unwrap() > 0);
    }

    #[test]
    fn static_config_has_placeholder() {
        let s = basic_static_config(1, 2);
        assert!(s.contains("filename: \"{{dynamic}}\""), "{s}");
        assert!(s.contains("ping: {}"), "{s}");
        assert!(s.contains("127.0.0.1:2"), "{s}");
    }

    #[tokio::test]
    async fn wait_until_times_out_and_succeeds() {
        let mut n = 0;
        wait_until(Duration::from_secs(5), async || {
            n += 1;
            n >= 3
        })
        .await
        .unwrap();
        assert_eq!(n, 3);
        let err = wait_until(Duration::from_millis(60), async || false).await;
        assert!(err.is_err());
    }
}
