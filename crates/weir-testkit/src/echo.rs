//! The echo server's text dump, and its parser for assertions.
//!
//! Format (one item per line, whoami-like):
//! ```text
//! Name: <server name>
//! RemoteAddr: 127.0.0.1:54321
//! GET /path?query HTTP/1.1
//! Host: example.test
//! <header>: <value>          (every other header, in received order)
//! Body-Length: <n>
//!
//! <body, as lossy UTF-8>
//! ```

use std::net::SocketAddr;

use http::request::Parts;

/// Renders a request as the echo server's text dump.
pub fn render(name: &str, peer: SocketAddr, parts: &Parts, body: &[u8]) -> String {
    let mut out = String::with_capacity(256 + body.len());
    out.push_str(&format!("Name: {name}\nRemoteAddr: {peer}\n"));
    let pq = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    out.push_str(&format!("{} {pq} {:?}\n", parts.method, parts.version));
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    out.push_str(&format!("Host: {host}\n"));
    for (k, v) in &parts.headers {
        if k == http::header::HOST {
            continue;
        }
        out.push_str(&format!(
            "{}: {}\n",
            k,
            String::from_utf8_lossy(v.as_bytes())
        ));
    }
    out.push_str(&format!("Body-Length: {}\n\n", body.len()));
    out.push_str(&String::from_utf8_lossy(body));
    out
}

/// A parsed echo dump.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EchoDump {
    /// The upstream server's name.
    pub name: String,
    /// Address the request came from (the proxy's upstream connection).
    pub remote_addr: String,
    /// Request method.
    pub method: String,
    /// Path and query as received by the upstream.
    pub path_and_query: String,
    /// `HTTP/1.1`, `HTTP/2.0`, ...
    pub version: String,
    /// Host header (or `:authority` on HTTP/2).
    pub host: String,
    /// Every other header, lowercase names, in received order.
    pub headers: Vec<(String, String)>,
    /// The request body (lossy UTF-8).
    pub body: String,
}

impl EchoDump {
    /// Parses a dump produced by the echo server.
    pub fn parse(text: &str) -> anyhow::Result<EchoDump> {
        let (head, body) = text
            .split_once("\n\n")
            .ok_or_else(|| anyhow::anyhow!("not an echo dump (no blank line): {text:?}"))?;
        let mut dump = EchoDump {
            body: body.to_owned(),
            ..EchoDump::default()
        };
        for (i, line) in head.lines().enumerate() {
            if i == 2 {
                let mut it = line.splitn(3, ' ');
                dump.method = it.next().unwrap_or_default().to_owned();
                dump.path_and_query = it.next().unwrap_or_default().to_owned();
                dump.version = it.next().unwrap_or_default().to_owned();
                continue;
            }
            let (k, v) = line
                .split_once(": ")
                .or_else(|| line.split_once(':'))
                .ok_or_else(|| anyhow::anyhow!("bad echo dump line {line:?}"))?;
            match (i, k) {
                (0, "Name") => dump.name = v.to_owned(),
                (1, "RemoteAddr") => dump.remote_addr = v.to_owned(),
                (3, "Host") => dump.host = v.to_owned(),
                (_, "Body-Length") => {}
                _ => dump.headers.push((k.to_ascii_lowercase(), v.to_owned())),
            }
        }
        Ok(dump)
    }

    /// First value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header (name case-insensitive), in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_then_parse() {
        let req = http::Request::builder()
            .method("POST")
            .uri("/a/b?c=d")
            .header("host", "x.test")
            .header("x-one", "1")
            .header("x-one", "2")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let text = render(
            "up",
            "127.0.0.1:9".parse().unwrap(),
            &parts,
            b"hello\n\nworld",
        );
        let d = EchoDump::parse(&text).unwrap();
        assert_eq!(d.name, "up");
        assert_eq!(d.remote_addr, "127.0.0.1:9");
        assert_eq!(d.method, "POST");
        assert_eq!(d.path_and_query, "/a/b?c=d");
        assert_eq!(d.version, "HTTP/1.1");
        assert_eq!(d.host, "x.test");
        assert_eq!(d.header_all("X-One"), vec!["1", "2"]);
        assert_eq!(d.header("x-two"), None);
        assert_eq!(d.body, "hello\n\nworld");
    }
}
