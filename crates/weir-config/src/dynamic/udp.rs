//! The `udp` section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::http::WrrService;

/// The `udp` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UdpConfiguration {
    /// Routers by name.
    pub routers: BTreeMap<String, UdpRouter>,
    /// Services by name.
    pub services: BTreeMap<String, UdpService>,
}

/// `udp.routers.<name>` (UDP routers have no rule).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UdpRouter {
    /// Entrypoints (empty = all UDP entrypoints).
    pub entry_points: Vec<String>,
    /// Service.
    pub service: String,
}

/// `udp.services.<name>`: exactly one kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UdpService {
    /// Load balancer.
    pub load_balancer: Option<UdpServersLoadBalancer>,
    /// Weighted round robin.
    pub weighted: Option<UdpWeightedRoundRobin>,
}

impl UdpService {
    /// The kinds set, by their configuration names.
    pub fn kinds_set(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.load_balancer.is_some() {
            v.push("loadBalancer");
        }
        if self.weighted.is_some() {
            v.push("weighted");
        }
        v
    }
}

/// `udp.services.<name>.loadBalancer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UdpServersLoadBalancer {
    /// Servers.
    pub servers: Vec<UdpServer>,
}

/// A UDP backend.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UdpServer {
    /// `host:port`.
    pub address: String,
}

/// `udp.services.<name>.weighted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UdpWeightedRoundRobin {
    /// Children.
    pub services: Vec<WrrService>,
}
