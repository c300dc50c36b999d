//! The request headers that metrics and the access log read, found in one pass over the
//! header map: a hashed lookup per header cost more than walking a request's few headers.

use http::HeaderMap;
use http::header::{ACCEPT, CONNECTION, CONTENT_TYPE, HOST, REFERER, UPGRADE, USER_AGENT};

/// The values observation needs (empty when absent).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RequestHeaders<'a> {
    pub host: Option<&'a [u8]>,
    pub referer: &'a [u8],
    pub user_agent: &'a [u8],
    pub connection: &'a [u8],
    pub upgrade: &'a [u8],
    pub content_type: &'a [u8],
    pub accept: &'a [u8],
    /// `Referer` or `User-Agent` came more than once (the common log format prints all
    /// their values, joined).
    pub repeated: bool,
}

impl<'a> RequestHeaders<'a> {
    /// The first value of each header of interest.
    pub(crate) fn scan(headers: &'a HeaderMap) -> Self {
        let mut found = RequestHeaders::default();
        for (name, value) in headers {
            let value = value.as_bytes();
            let slot = if name == HOST {
                if found.host.is_none() {
                    found.host = Some(value);
                }
                continue;
            } else if name == CONNECTION {
                &mut found.connection
            } else if name == UPGRADE {
                &mut found.upgrade
            } else if name == CONTENT_TYPE {
                &mut found.content_type
            } else if name == ACCEPT {
                &mut found.accept
            } else if name == USER_AGENT {
                found.repeated |= !found.user_agent.is_empty();
                &mut found.user_agent
            } else if name == REFERER {
                found.repeated |= !found.referer.is_empty();
                &mut found.referer
            } else {
                continue;
            };
            if slot.is_empty() {
                *slot = value;
            }
        }
        found
    }
}

impl RequestHeaders<'_> {
    /// The protocol label's index ([`crate::labels::protocol_index`]).
    pub(crate) fn protocol(&self) -> u8 {
        use crate::labels::{GRPC, GRPC_WEB, HTTP, SSE, WEBSOCKET, lists};
        if lists(self.upgrade, b"websocket") && lists(self.connection, b"upgrade") {
            return WEBSOCKET;
        }
        if lists(self.accept, b"text/event-stream") {
            return SSE;
        }
        // Go's strings.HasPrefix: case matters.
        if self.content_type.starts_with(b"application/grpc-web") {
            return GRPC_WEB;
        }
        if self.content_type.starts_with(b"application/grpc") {
            return GRPC;
        }
        HTTP
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_value_of_each_header() {
        let mut h = HeaderMap::new();
        h.insert(HOST, "a.test".parse().unwrap());
        h.append(ACCEPT, "text/event-stream".parse().unwrap());
        h.append(ACCEPT, "text/html".parse().unwrap());
        h.insert("x-other", "1".parse().unwrap());
        let found = RequestHeaders::scan(&h);
        assert_eq!(found.host, Some(&b"a.test"[..]));
        assert_eq!(found.accept, b"text/event-stream");
        assert!(found.user_agent.is_empty() && found.referer.is_empty());
        assert!(!found.repeated, "a repeated Accept does not count");
        h.append(USER_AGENT, "a".parse().unwrap());
        assert!(!RequestHeaders::scan(&h).repeated);
        h.append(USER_AGENT, "b".parse().unwrap());
        let found = RequestHeaders::scan(&h);
        assert!(found.repeated);
        assert_eq!(found.user_agent, b"a");
    }
}
