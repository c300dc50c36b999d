//! Building middlewares once per configuration, shared by every router that uses them.

use std::collections::{BTreeMap, HashMap, HashSet};

use weir_config::dynamic::{Middleware, MiddlewareKind};

use super::Inputs;
use super::names::{qualify, resolve};
use super::report::{ElementReport, Report};
use super::services::ServiceBuilder;
use crate::middleware::{self, Errors, Spec, StateRegistry, StateScope};
use std::sync::Arc;

pub(super) struct MiddlewareBuilder<'a> {
    defined: BTreeMap<String, (&'a str, &'a Middleware)>,
    /// The previous table's middleware states, to take over.
    previous_state: Option<Arc<StateRegistry>>,
    /// The states this compilation uses, for the new table.
    state: Arc<StateRegistry>,
    built: HashMap<String, Result<Spec, String>>,
    in_progress: HashSet<String>,
    reports: BTreeMap<String, ElementReport>,
}

impl<'a> MiddlewareBuilder<'a> {
    pub(super) fn new(inputs: &'a Inputs<'a>) -> Self {
        let mut defined = BTreeMap::new();
        for (provider, config) in inputs.providers {
            for (name, m) in &config.http.middlewares {
                defined.insert(qualify(name, provider), (provider.as_str(), m));
            }
        }
        Self {
            defined,
            previous_state: inputs.previous.map(|t| t.middleware_state().clone()),
            state: Arc::default(),
            built: HashMap::new(),
            in_progress: HashSet::new(),
            reports: BTreeMap::new(),
        }
    }

    /// Middleware `name`, built on first use; `user` (a router or a chain) is recorded in
    /// `usedBy`. `Err` is why it cannot serve.
    pub(super) fn get(
        &mut self,
        name: &str,
        user: &str,
        services: &mut ServiceBuilder<'_>,
    ) -> Result<Spec, String> {
        let result = self.build(name, services);
        self.record_use(name, user);
        result
    }

    fn build(&mut self, name: &str, services: &mut ServiceBuilder<'_>) -> Result<Spec, String> {
        if let Some(done) = self.built.get(name) {
            return done.clone();
        }
        let Some(&(provider, m)) = self.defined.get(name) else {
            return Err("does not exist".into());
        };
        if !self.in_progress.insert(name.to_owned()) {
            return Err("refers to itself through a chain".into());
        }
        let mut warnings = Vec::new();
        let scope = StateScope::new(
            self.previous_state.clone(),
            self.state.clone(),
            name,
            middleware::options_hash(m),
        );
        let (kind, result) = match m.kind() {
            None => {
                let set = m.kinds_set();
                let msg = if set.is_empty() {
                    "no middleware type set".to_owned()
                } else {
                    format!(
                        "exactly one middleware type must be set, found {}",
                        set.join(", ")
                    )
                };
                ("unknown", Err(msg))
            }
            Some(MiddlewareKind::Chain(c)) => {
                let mut items = Vec::with_capacity(c.middlewares.len());
                let mut result = Ok(());
                for (i, child) in c.middlewares.iter().enumerate() {
                    let child = resolve(child, provider);
                    match self.get(&child, name, services) {
                        Ok(spec) => items.push(spec),
                        Err(e) => {
                            result = Err(format!("middlewares[{i}] {child:?}: {e}"));
                            break;
                        }
                    }
                }
                ("chain", result.map(|()| Spec::Chain(items)))
            }
            Some(MiddlewareKind::IpWhiteList(c)) => {
                warnings.push("ipWhiteList is deprecated, use ipAllowList".to_owned());
                (
                    "ipWhiteList",
                    middleware::build(MiddlewareKind::IpAllowList(c), &scope),
                )
            }
            Some(kind @ MiddlewareKind::ContentType(c)) if c.auto_detect.is_some() => {
                warnings.push(
                    "autoDetect is deprecated: contentType: {} turns detection on, no middleware leaves it off"
                        .to_owned(),
                );
                ("contentType", middleware::build(kind, &scope))
            }
            Some(MiddlewareKind::Errors(c)) => {
                let service = resolve(&c.service, provider);
                let result = if c.service.is_empty() {
                    Err("service is empty".to_owned())
                } else {
                    services
                        .get(&service, name)
                        .map_err(|e| format!("service {service:?}: {e}"))
                        .and_then(|h| Errors::new(c, h))
                        .map(|m| Spec::Shared(Arc::new(m)))
                };
                ("errors", result)
            }
            Some(kind) => (middleware::kind_name(kind), middleware::build(kind, &scope)),
        };
        self.in_progress.remove(name);
        self.reports.insert(
            name.to_owned(),
            ElementReport::from_result(kind, provider, warnings, &result),
        );
        self.built.insert(name.to_owned(), result.clone());
        result
    }

    fn record_use(&mut self, name: &str, user: &str) {
        if let Some(r) = self.reports.get_mut(name)
            && !r.used_by.iter().any(|u| u == user)
        {
            r.used_by.push(user.to_owned());
        }
    }

    /// Builds the middlewares no router used (to report their errors), moves the reports
    /// into `report` and gives back the middleware states for the new table.
    pub(super) fn finish(
        mut self,
        report: &mut Report,
        services: &mut ServiceBuilder<'_>,
    ) -> Arc<StateRegistry> {
        let unused: Vec<String> = self
            .defined
            .keys()
            .filter(|n| !self.built.contains_key(*n))
            .cloned()
            .collect();
        for name in unused {
            let _ = self.build(&name, services);
        }
        report.middlewares = self.reports;
        self.state
    }
}
