//! `ClientIP` values: a single address or a CIDR, matched like Go's `net.IPNet.Contains`.

use std::net::IpAddr;

/// An address prefix. A plain address is a full-length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IpNet {
    addr: IpAddr,
    bits: u8,
}

impl IpNet {
    /// Parses `1.2.3.4`, `::1`, `10.0.0.0/8` or `fe80::/10`. Host bits in a CIDR are allowed
    /// and masked away, as Go's `net.ParseCIDR` does.
    pub(crate) fn parse(s: &str) -> Option<IpNet> {
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => {
                if b.is_empty() || !b.bytes().all(|c| c.is_ascii_digit()) || b.len() > 3 {
                    return None;
                }
                (a.parse::<IpAddr>().ok()?, Some(b.parse::<u8>().ok()?))
            }
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        if bits > max {
            return None;
        }
        // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address to Go.
        let (addr, bits) = match addr {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) if bits >= 96 => (IpAddr::V4(v4), bits - 96),
                _ => (addr, bits),
            },
            IpAddr::V4(_) => (addr, bits),
        };
        Some(IpNet { addr, bits })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                self.bits,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), self.bits, 128)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, bits: u8, width: u32) -> bool {
    let bits = u32::from(bits).min(width);
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (a >> shift) == (b >> shift)
}
