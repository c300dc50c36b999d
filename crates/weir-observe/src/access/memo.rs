//! Rendered pieces of JSON lines that repeat from one line to the next: a route's names
//! and URL, the entrypoint, the client's address. Each is kept, by the address of the
//! configuration object it came from (or the IP it prints), while the same one comes back.

use std::net::IpAddr;
use std::sync::Arc;

/// Slots of the route memo; routes map to one by address.
const ROUTE_SLOTS: usize = 16;

/// A kept route: router, service and server URL.
type OwnedRoute = [Option<Arc<str>>; 3];

/// The identity of a route as a line names it: router, service and server URL.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RouteKey<'a> {
    pub router: Option<&'a Arc<str>>,
    pub service: Option<&'a Arc<str>>,
    pub url: Option<&'a Arc<str>>,
}

impl RouteKey<'_> {
    fn same(&self, kept: &OwnedRoute) -> bool {
        fn same(a: Option<&Arc<str>>, b: Option<&Arc<str>>) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
        }
        same(self.router, kept[0].as_ref())
            && same(self.service, kept[1].as_ref())
            && same(self.url, kept[2].as_ref())
    }

    fn owned(&self) -> OwnedRoute {
        [
            self.router.cloned(),
            self.service.cloned(),
            self.url.cloned(),
        ]
    }

    fn slot(&self) -> usize {
        let addr = |a: Option<&Arc<str>>| a.map_or(0, |a| Arc::as_ptr(a).cast::<u8>() as usize);
        // Allocations are at least 16-byte aligned: the low bits say nothing.
        let mixed = (addr(self.router) ^ addr(self.url).rotate_left(7)) >> 4;
        mixed % ROUTE_SLOTS
    }
}

/// Memos of one writer thread.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    routes: [(OwnedRoute, Vec<u8>); ROUTE_SLOTS],
    entrypoint: (Option<Arc<str>>, Vec<u8>),
    client: (Option<IpAddr>, Vec<u8>),
}

impl Memo {
    /// The route's piece, rendered by `render` when not kept.
    pub(crate) fn route(&mut self, key: RouteKey<'_>, render: impl FnOnce(&mut Vec<u8>)) -> &[u8] {
        // `slot()` is below ROUTE_SLOTS.
        let slot = &mut self.routes[key.slot()];
        if !key.same(&slot.0) || slot.1.is_empty() {
            slot.0 = key.owned();
            slot.1.clear();
            render(&mut slot.1);
        }
        &slot.1
    }

    /// The entrypoint's piece, rendered by `render` when not kept.
    pub(crate) fn entrypoint(
        &mut self,
        name: &Arc<str>,
        render: impl FnOnce(&mut Vec<u8>),
    ) -> &[u8] {
        let (kept, text) = &mut self.entrypoint;
        if !kept.as_ref().is_some_and(|n| Arc::ptr_eq(n, name)) {
            *kept = Some(name.clone());
            text.clear();
            render(text);
        }
        text
    }

    /// The client IP's text, rendered by `render` when not kept.
    pub(crate) fn client(&mut self, ip: IpAddr, render: impl FnOnce(&mut Vec<u8>)) -> &[u8] {
        // The buffer is reused: consecutive lines often come from different clients.
        let (kept, text) = &mut self.client;
        if *kept != Some(ip) {
            *kept = Some(ip);
            text.clear();
            render(text);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_is_rendered_again_only_for_other_objects() {
        let mut memo = Memo::default();
        let (router, service) = (Arc::from("a@file"), Arc::from("s@file"));
        let a = RouteKey {
            router: Some(&router),
            service: Some(&service),
            url: None,
        };
        let mut renders = 0;
        for _ in 0..3 {
            let text = memo.route(a, |t| {
                renders += 1;
                t.extend_from_slice(b"A");
            });
            assert_eq!(text, b"A");
        }
        assert_eq!(renders, 1);
        // Equal names from another configuration are other objects: rendered again.
        let other = Arc::from("a@file");
        let b = RouteKey {
            router: Some(&other),
            ..a
        };
        assert_eq!(memo.route(b, |t| t.extend_from_slice(b"B")), b"B");
        // `a` shares `b`'s slot or not: either way the text is `a`'s.
        let again = memo.route(a, |t| t.extend_from_slice(b"A2")).to_vec();
        assert!(again == b"A" || again == b"A2", "{again:?}");

        let one: IpAddr = "10.0.0.1".parse().unwrap();
        let two: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(memo.client(one, |t| t.extend_from_slice(b"1")), b"1");
        assert_eq!(memo.client(one, |t| t.extend_from_slice(b"x")), b"1");
        assert_eq!(memo.client(two, |t| t.extend_from_slice(b"2")), b"2");
    }
}
