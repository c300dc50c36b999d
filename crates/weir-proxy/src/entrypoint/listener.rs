//! Binding listener sockets.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;

/// Binds `addr` with `SO_REUSEADDR` (and `SO_REUSEPORT` when asked) and a deep backlog, so a
/// burst of connections during a rollout queues instead of being refused.
///
/// An unspecified IPv6 address (`:8000`) falls back to `0.0.0.0` on hosts without IPv6.
pub fn bind(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    match bind_exact(addr, reuse_port) {
        Err(e) if addr.is_ipv6() && addr.ip().is_unspecified() => {
            let v4 = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), addr.port());
            tracing::debug!(error = %e, "binding [::] failed; falling back to 0.0.0.0");
            bind_exact(v4, reuse_port)
        }
        other => other,
    }
}

fn bind_exact(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    if addr.is_ipv6() {
        // ":8000" means every address family, as in Go.
        let _ = socket.set_only_v6(false);
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    TcpListener::from_std(socket.into())
}

/// Shows IPv4 clients of a dual-stack listener as IPv4 (`127.0.0.1`, not
/// `::ffff:127.0.0.1`), as headers, logs and `ClientIP` rules expect.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => addr,
        },
        SocketAddr::V4(_) => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_addresses_become_ipv4() {
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().unwrap();
        assert_eq!(canonical(mapped), "127.0.0.1:5000".parse().unwrap());
        let v6: SocketAddr = "[::1]:5000".parse().unwrap();
        assert_eq!(canonical(v6), v6);
    }
}
