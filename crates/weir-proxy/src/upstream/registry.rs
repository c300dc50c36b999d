//! Clients that outlive configuration reloads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use super::client::{ClientBuildError, UpstreamClient};
use super::settings::TransportSettings;

type Clients = HashMap<(String, TransportSettings), Weak<UpstreamClient>>;

/// Upstream clients keyed by (transport name, settings).
///
/// The registry only holds weak references: a client lives as long as some compiled
/// configuration uses it. When the next configuration asks for the same name with equal
/// settings while the current one is still installed, it gets the same client and so the
/// same warm connection pools; changed settings give a new client. Cloning shares the
/// registry.
#[derive(Debug, Clone, Default)]
pub struct TransportRegistry {
    clients: Arc<Mutex<Clients>>,
}

impl TransportRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The live client for `name` with `settings`, or a new one. Called while compiling a
    /// configuration (not per request); also forgets clients nobody uses any more.
    pub fn get_or_create(
        &self,
        name: &str,
        settings: &TransportSettings,
    ) -> Result<Arc<UpstreamClient>, ClientBuildError> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        clients.retain(|_, weak| weak.strong_count() > 0);
        let key = (name.to_owned(), settings.clone());
        if let Some(client) = clients.get(&key).and_then(Weak::upgrade) {
            return Ok(client);
        }
        let client = Arc::new(UpstreamClient::new(settings)?);
        clients.insert(key, Arc::downgrade(&client));
        Ok(client)
    }

    /// How many clients are alive, for tests and metrics.
    pub fn len(&self) -> usize {
        self.clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
    }

    /// Whether no client is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
