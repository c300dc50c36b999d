//! Client identity shared by ipAllowList, rateLimit and inFlightReq: CIDR ranges,
//! Traefik's `ipStrategy` and `sourceCriterion`.

use std::net::IpAddr;

use http::header::HOST;
use http::{HeaderName, Request};
use weir_config::dynamic::{IpStrategy as StrategyConfig, SourceCriterion as CriterionConfig};

use crate::handler::RequestContext;

/// An IP range (`10.0.0.0/8`, `2001:db8::/32`) or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, `v6` or `v6/n`.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = ip
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: prefix length must be 0..={max}"))?,
        };
        Ok(Cidr { addr, prefix })
    }

    /// Whether `ip` is in the range (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => mask_bits(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                self.prefix,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask_bits(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn mask_bits(net: u128, ip: u128, prefix: u8, width: u32) -> bool {
    let host_bits = width - u32::from(prefix);
    if host_bits >= 128 {
        return true;
    }
    (net >> host_bits) == (ip >> host_bits)
}

/// Parses a list of ranges, naming the field in errors.
pub fn parse_ranges(field: &str, list: &[String]) -> Result<Vec<Cidr>, String> {
    list.iter()
        .enumerate()
        .map(|(i, s)| Cidr::parse(s).map_err(|e| format!("{field}[{i}]: {e}")))
        .collect()
}

/// How the client IP is found (`ipStrategy`).
///
/// Without options it is the connection's peer. With `depth: n` it is the n-th address
/// from the right of `X-Forwarded-For` as the client sent it; with `excludedIPs`, the
/// rightmost address not in those ranges. `depth` wins when both are set. weir appends the
/// peer to `X-Forwarded-For` before middlewares run (Traefik does so only when forwarding),
/// so that last entry is skipped here to give Traefik's results.
#[derive(Debug, Clone, Default)]
pub struct IpStrategy {
    depth: usize,
    excluded: Vec<Cidr>,
    ipv6_subnet: Option<u8>,
}

impl IpStrategy {
    /// Checks the options.
    pub fn new(c: Option<&StrategyConfig>) -> Result<Self, String> {
        let Some(c) = c else {
            return Ok(Self::default());
        };
        let depth = usize::try_from(c.depth)
            .map_err(|_| format!("ipStrategy.depth {} must not be negative", c.depth))?;
        let excluded = parse_ranges("ipStrategy.excludedIPs", &c.excluded_ips)?;
        let ipv6_subnet = c
            .ipv6_subnet
            .map(|n| {
                u8::try_from(n)
                    .ok()
                    .filter(|n| *n <= 128)
                    .ok_or_else(|| format!("ipStrategy.ipv6Subnet {n} must be 0..=128"))
            })
            .transpose()?;
        Ok(Self {
            depth,
            excluded,
            ipv6_subnet,
        })
    }

    /// The client IP, or `None` when the strategy finds none (a short `X-Forwarded-For`,
    /// every entry excluded, or an entry that is not an IP).
    pub fn client_ip<B>(&self, req: &Request<B>, cx: &RequestContext) -> Option<IpAddr> {
        let ip = if self.depth == 0 && self.excluded.is_empty() {
            cx.client_addr.ip().to_canonical()
        } else {
            let mut entries: Vec<&str> = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .collect();
            // The peer weir appended itself.
            entries.pop();
            let raw = if self.depth > 0 {
                entries.len().checked_sub(self.depth).map(|i| entries[i])?
            } else {
                entries.iter().rev().copied().find(|e| {
                    e.parse::<IpAddr>()
                        .is_ok_and(|ip| !self.excluded.iter().any(|c| c.contains(ip)))
                })?
            };
            raw.parse::<IpAddr>().ok()?.to_canonical()
        };
        Some(match (ip, self.ipv6_subnet) {
            (IpAddr::V6(v6), Some(bits)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
                IpAddr::V6((u128::from(v6) & mask).into())
            }
            _ => ip,
        })
    }
}

/// What groups requests for rate and in-flight limits (`sourceCriterion`): a request
/// header, the request host, or (the default) the client IP by an [`IpStrategy`].
#[derive(Debug, Clone)]
pub enum SourceCriterion {
    /// The client IP.
    Ip(IpStrategy),
    /// A request header's value.
    Header(HeaderName),
    /// The `Host` header.
    Host,
}

impl SourceCriterion {
    /// Checks the options; Traefik's precedence is ipStrategy, then the header, then the
    /// host.
    pub fn new(c: Option<&CriterionConfig>) -> Result<Self, String> {
        let Some(c) = c else {
            return Ok(SourceCriterion::Ip(IpStrategy::default()));
        };
        if c.ip_strategy.is_some() {
            return IpStrategy::new(c.ip_strategy.as_ref()).map(SourceCriterion::Ip);
        }
        if !c.request_header_name.is_empty() {
            return HeaderName::from_bytes(c.request_header_name.as_bytes())
                .map(SourceCriterion::Header)
                .map_err(|_| {
                    format!(
                        "sourceCriterion.requestHeaderName {:?} is not a header name",
                        c.request_header_name
                    )
                });
        }
        if c.request_host {
            return Ok(SourceCriterion::Host);
        }
        Ok(SourceCriterion::Ip(IpStrategy::default()))
    }

    /// The source key of a request (`None`: no source could be found).
    pub fn key<B>(&self, req: &Request<B>, cx: &RequestContext) -> Option<String> {
        match self {
            SourceCriterion::Ip(s) => s.client_ip(req, cx).map(|ip| ip.to_string()),
            SourceCriterion::Header(h) => Some(
                req.headers()
                    .get(h)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_default(),
            ),
            SourceCriterion::Host => Some(
                req.headers()
                    .get(HOST)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_default(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx() -> RequestContext {
        RequestContext {
            client_addr: "10.0.0.9:1234".parse().unwrap_or_else(|_| unreachable!()),
            local_addr: "127.0.0.1:80".parse().unwrap_or_else(|_| unreachable!()),
            entrypoint: "web".into(),
            tls: false,
            router: None,
            observe: weir_observe::Wanted::default(),
            answered: weir_observe::Answered::default(),
        }
    }

    #[test]
    fn ranges() {
        let c = Cidr::parse("192.168.1.0/24").unwrap_or_else(|e| panic!("{e}"));
        assert!(c.contains("192.168.1.77".parse().unwrap_or_else(|_| unreachable!())));
        assert!(!c.contains("192.168.2.1".parse().unwrap_or_else(|_| unreachable!())));
        assert!(
            c.contains(
                "::ffff:192.168.1.3"
                    .parse()
                    .unwrap_or_else(|_| unreachable!())
            )
        );
        let all = Cidr::parse("0.0.0.0/0").unwrap_or_else(|e| panic!("{e}"));
        assert!(all.contains("8.8.8.8".parse().unwrap_or_else(|_| unreachable!())));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope").is_err());
    }

    #[test]
    fn strategies() {
        let req = Request::get("/")
            .header("x-forwarded-for", "1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9")
            .body(())
            .unwrap_or_default();
        let get = |depth: i64, excluded: &[&str]| {
            IpStrategy::new(Some(&StrategyConfig {
                depth,
                excluded_ips: excluded.iter().map(|s| s.to_string()).collect(),
                ipv6_subnet: None,
            }))
            .unwrap_or_else(|e| panic!("{e}"))
            .client_ip(&req, &cx())
            .map(|ip| ip.to_string())
        };
        assert_eq!(get(0, &[]).as_deref(), Some("10.0.0.9"));
        assert_eq!(get(1, &[]).as_deref(), Some("3.3.3.3"));
        assert_eq!(get(3, &[]).as_deref(), Some("1.1.1.1"));
        assert_eq!(get(4, &[]), None);
        assert_eq!(get(0, &["3.3.3.0/24"]).as_deref(), Some("2.2.2.2"));
        assert_eq!(get(2, &["3.3.3.0/24"]).as_deref(), Some("2.2.2.2"));
    }
}
