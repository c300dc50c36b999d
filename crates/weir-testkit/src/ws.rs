//! A WebSocket echo server and a tiny client (RFC 6455), hand-rolled: the handshake and frame
//! coding take less code than a dependency.
//!
//! The server answers the HTTP/1.1 upgrade with 101 (and `X-Upstream-Name`,
//! `X-Echo-Path`), then echoes every data frame with the same opcode and FIN bit, answers
//! pings with pongs, and echoes a close frame before closing. A request that is not an
//! upgrade gets `426 Upgrade Required`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Cursor;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::server::{ServerHandle, spawn_accept_loop};

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX_HEAD: usize = 64 * 1024;
const MAX_PAYLOAD: u64 = 16 * 1024 * 1024;
/// Deadline for [`WsClient::recv`] and the client handshake.
pub const WS_TIMEOUT: Duration = Duration::from_secs(10);

/// Opcode: continuation frame.
pub const OP_CONT: u8 = 0x0;
/// Opcode: text frame.
pub const OP_TEXT: u8 = 0x1;
/// Opcode: binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Opcode: close.
pub const OP_CLOSE: u8 = 0x8;
/// Opcode: ping.
pub const OP_PING: u8 = 0x9;
/// Opcode: pong.
pub const OP_PONG: u8 = 0xA;

/// One WebSocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// FIN bit.
    pub fin: bool,
    /// Opcode (`OP_*`).
    pub opcode: u8,
    /// Unmasked payload.
    pub payload: Vec<u8>,
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsMessage {
    /// A text message (fragments joined).
    Text(String),
    /// A binary message (fragments joined).
    Binary(Vec<u8>),
    /// A ping.
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A close frame: code (if any) and reason.
    Close(Option<u16>, String),
}

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    let mut input = key.trim().as_bytes().to_vec();
    input.extend_from_slice(GUID.as_bytes());
    base64(&sha1(&input))
}

/// Reads one frame (unmasking it if masked).
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> anyhow::Result<Frame> {
    let mut head = [0u8; 2];
    r.read_exact(&mut head)
        .await
        .context("reading frame header")?;
    let fin = head[0] & 0x80 != 0;
    let opcode = head[0] & 0x0F;
    let masked = head[1] & 0x80 != 0;
    let len = match head[1] & 0x7F {
        126 => u64::from(r.read_u16().await?),
        127 => r.read_u64().await?,
        n => u64::from(n),
    };
    if len > MAX_PAYLOAD {
        bail!("frame of {len} bytes is over the test limit");
    }
    let mut mask = [0u8; 4];
    if masked {
        r.read_exact(&mut mask).await?;
    }
    let mut payload = vec![0u8; usize::try_from(len)?];
    r.read_exact(&mut payload)
        .await
        .context("reading frame payload")?;
    if masked {
        apply_mask(&mut payload, mask);
    }
    Ok(Frame {
        fin,
        opcode,
        payload,
    })
}

/// Writes one frame, masked with `mask` when given (clients must mask, servers must not).
pub async fn write_frame<W: AsyncWrite + Unpin>(
    w: &mut W,
    frame: &Frame,
    mask: Option<[u8; 4]>,
) -> anyhow::Result<()> {
    let mut out = Vec::with_capacity(frame.payload.len() + 14);
    out.push(if frame.fin { 0x80 } else { 0 } | (frame.opcode & 0x0F));
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let len = frame.payload.len();
    if len < 126 {
        out.push(mask_bit | u8::try_from(len)?);
    } else if let Ok(len16) = u16::try_from(len) {
        out.push(mask_bit | 126);
        out.extend_from_slice(&len16.to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&u64::try_from(len)?.to_be_bytes());
    }
    let start = out.len();
    if let Some(m) = mask {
        out.extend_from_slice(&m);
        out.extend_from_slice(&frame.payload);
        apply_mask(&mut out[start + 4..], m);
    } else {
        out.extend_from_slice(&frame.payload);
    }
    w.write_all(&out).await?;
    w.flush().await?;
    Ok(())
}

fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}

/// Reads an HTTP head (up to the blank line); returns it and whatever was read past it.
async fn read_head<R: AsyncRead + Unpin>(r: &mut R) -> anyhow::Result<(String, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(pos + 4);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > MAX_HEAD {
            bail!("HTTP head over {MAX_HEAD} bytes");
        }
        let n = r.read(&mut chunk).await?;
        if n == 0 {
            bail!(
                "connection closed before the end of the HTTP head: {:?}",
                String::from_utf8_lossy(&buf)
            );
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Header lookup in a raw head (case-insensitive name).
fn head_header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn has_token(value: Option<&str>, token: &str) -> bool {
    value.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// Starts a WebSocket echo server named `name`.
pub async fn ws_echo(name: &str) -> anyhow::Result<ServerHandle> {
    let owned = name.to_owned();
    let spawned = spawn_accept_loop(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        move |stream, _peer, stats| {
            let name = owned.clone();
            async move {
                let _ = serve_ws(stream, &name, &stats).await;
            }
        },
    )
    .await?;
    Ok(spawned.into_handle(name))
}

async fn serve_ws(
    mut stream: TcpStream,
    name: &str,
    stats: &crate::server::Stats,
) -> anyhow::Result<()> {
    let (head, rest) = read_head(&mut stream).await?;
    stats
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = head
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let key = head_header(&head, "sec-websocket-key");
    let upgrade = has_token(head_header(&head, "upgrade"), "websocket")
        && has_token(head_header(&head, "connection"), "upgrade");
    let Some(key) = key.filter(|_| upgrade) else {
        let body = "websocket upgrade required\n";
        let resp = format!(
            "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nConnection: close\r\nX-Upstream-Name: {name}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(resp.as_bytes()).await?;
        return Ok(());
    };
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\nX-Upstream-Name: {name}\r\nX-Echo-Path: {path}\r\n\r\n",
        accept_key(key)
    );
    stream.write_all(resp.as_bytes()).await?;
    let (rd, mut wr) = stream.into_split();
    let mut rd = Cursor::new(rest).chain(rd);
    loop {
        let frame = read_frame(&mut rd).await?;
        match frame.opcode {
            OP_PING => {
                let pong = Frame {
                    fin: true,
                    opcode: OP_PONG,
                    payload: frame.payload,
                };
                write_frame(&mut wr, &pong, None).await?;
            }
            OP_PONG => {}
            OP_CLOSE => {
                write_frame(&mut wr, &frame, None).await?;
                wr.shutdown().await?;
                return Ok(());
            }
            _ => write_frame(&mut wr, &frame, None).await?,
        }
    }
}

/// A minimal WebSocket client over any byte stream (TCP, TLS...).
#[derive(Debug)]
pub struct WsClient<S = TcpStream> {
    stream: Cursor<Vec<u8>>,
    io: S,
    /// Status line of the handshake response.
    pub status_line: String,
    /// Headers of the 101 response (names lowercase).
    pub headers: Vec<(String, String)>,
}

impl WsClient<TcpStream> {
    /// Connects to `addr` and performs the handshake for `path` with `Host: host`.
    pub async fn connect(addr: SocketAddr, host: &str, path: &str) -> anyhow::Result<Self> {
        let tcp = tokio::time::timeout(WS_TIMEOUT, TcpStream::connect(addr))
            .await
            .context("connect timed out")?
            .with_context(|| format!("connecting to {addr}"))?;
        WsClient::handshake(tcp, host, path, &[]).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsClient<S> {
    /// Performs the client handshake on an open stream. Fails (with the response head) if
    /// the answer is not a valid 101.
    pub async fn handshake(
        mut io: S,
        host: &str,
        path: &str,
        extra_headers: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let key = base64(&random_bytes::<16>());
        let mut req = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        );
        for (k, v) in extra_headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        let (head, rest) = tokio::time::timeout(WS_TIMEOUT, async {
            io.write_all(req.as_bytes()).await?;
            io.flush().await?;
            read_head(&mut io).await
        })
        .await
        .context("WebSocket handshake timed out")??;
        let status_line = head.lines().next().unwrap_or_default().to_owned();
        if status_line.split(' ').nth(1) != Some("101") {
            bail!(
                "WebSocket handshake refused: {head}{}",
                String::from_utf8_lossy(&rest)
            );
        }
        let expected = accept_key(&key);
        if head_header(&head, "sec-websocket-accept") != Some(expected.as_str()) {
            bail!("bad Sec-WebSocket-Accept in {head}");
        }
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Ok(WsClient {
            stream: Cursor::new(rest),
            io,
            status_line,
            headers,
        })
    }

    /// A header of the 101 response.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Sends one (masked) frame.
    pub async fn send_frame(&mut self, frame: &Frame) -> anyhow::Result<()> {
        write_frame(&mut self.io, frame, Some(random_bytes::<4>())).await
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: &str) -> anyhow::Result<()> {
        self.send_frame(&Frame {
            fin: true,
            opcode: OP_TEXT,
            payload: text.as_bytes().to_vec(),
        })
        .await
    }

    /// Sends a binary message.
    pub async fn send_binary(&mut self, data: &[u8]) -> anyhow::Result<()> {
        self.send_frame(&Frame {
            fin: true,
            opcode: OP_BINARY,
            payload: data.to_vec(),
        })
        .await
    }

    /// Sends a ping.
    pub async fn ping(&mut self, data: &[u8]) -> anyhow::Result<()> {
        self.send_frame(&Frame {
            fin: true,
            opcode: OP_PING,
            payload: data.to_vec(),
        })
        .await
    }

    /// Receives one frame (within [`WS_TIMEOUT`]).
    pub async fn recv_frame(&mut self) -> anyhow::Result<Frame> {
        let mut rd = (&mut self.stream).chain(&mut self.io);
        tokio::time::timeout(WS_TIMEOUT, read_frame(&mut rd))
            .await
            .context("no WebSocket frame within the deadline")?
    }

    /// Receives one message, joining fragments (within [`WS_TIMEOUT`] per frame).
    pub async fn recv(&mut self) -> anyhow::Result<WsMessage> {
        let first = self.recv_frame().await?;
        match first.opcode {
            OP_PING => return Ok(WsMessage::Ping(first.payload)),
            OP_PONG => return Ok(WsMessage::Pong(first.payload)),
            OP_CLOSE => {
                let code = (first.payload.len() >= 2)
                    .then(|| u16::from_be_bytes([first.payload[0], first.payload[1]]));
                let reason = String::from_utf8_lossy(first.payload.get(2..).unwrap_or_default())
                    .into_owned();
                return Ok(WsMessage::Close(code, reason));
            }
            OP_TEXT | OP_BINARY => {}
            op => bail!("unexpected opcode {op:#x}"),
        }
        let mut payload = first.payload;
        let mut fin = first.fin;
        while !fin {
            let next = self.recv_frame().await?;
            if next.opcode != OP_CONT {
                bail!(
                    "expected a continuation frame, got opcode {:#x}",
                    next.opcode
                );
            }
            payload.extend_from_slice(&next.payload);
            fin = next.fin;
        }
        if first.opcode == OP_TEXT {
            Ok(WsMessage::Text(String::from_utf8(payload)?))
        } else {
            Ok(WsMessage::Binary(payload))
        }
    }

    /// Sends a close frame (code 1000) and waits for the peer's close.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.send_frame(&Frame {
            fin: true,
            opcode: OP_CLOSE,
            payload: 1000u16.to_be_bytes().to_vec(),
        })
        .await?;
        loop {
            if let WsMessage::Close(..) = self.recv().await? {
                return Ok(());
            }
        }
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(8) {
        let v = RandomState::new().build_hasher().finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    out
}

/// SHA-1 (only for the handshake's accept key, as RFC 6455 requires).
fn sha1(data: &[u8]) -> [u8; 20] {
    use sha1::Digest as _;
    sha1::Sha1::digest(data).into()
}

/// Standard base64 with padding.
fn base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_accept_key() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn sha1_and_base64_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&sha1(b"abc")), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
        let long = vec![b'a'; 1000];
        assert_eq!(base64(&sha1(&long)), "KR6abGaZSUm1e6XmUDYemPw2sbo=");
    }

    #[tokio::test]
    async fn frames_round_trip_in_memory() {
        for len in [0usize, 5, 125, 126, 65535, 65536, 70000] {
            let frame = Frame {
                fin: len % 2 == 0,
                opcode: OP_BINARY,
                payload: (0..len).map(|i| (i % 251) as u8).collect(),
            };
            let mut buf = Vec::new();
            write_frame(&mut buf, &frame, Some([1, 2, 3, 4]))
                .await
                .unwrap();
            let back = read_frame(&mut buf.as_slice()).await.unwrap();
            assert_eq!(back, frame, "len {len}");
        }
    }
}
