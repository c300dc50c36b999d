//! Kubernetes for weir: one pure translation from a set of Kubernetes objects to weir's
//! dynamic configuration, shared by the live providers and the offline `manifests` source.
//!
//! - [`set::ObjectSet`]: the objects, keyed by kind, namespace and name.
//! - [`translate()`]: objects + [`Options`] → one [`Configuration`] per provider
//!   (`kubernetescrd` for the `traefik.io` CRDs, `kubernetes` for Ingress) and every
//!   [`Problem`], naming kind/namespace/name and field.
//! - [`manifests`]: multi-document YAML files read from disk into a set, with the file
//!   and line of every object and field.

pub mod backend;
mod crd;
mod ingress;
pub mod manifests;
pub mod names;
pub mod objects;
pub mod options;
pub mod problem;
mod secrets;
pub mod set;
mod yaml;

use weir_config::dynamic::Configuration;

pub use crd::schema::{CrdManifest, manifests as crd_manifests};
pub use options::{BackendOptions, CrdOptions, IngressOptions, Options};
pub use problem::Problem;
pub use set::{Inserted, Kind, ObjectRef, ObjectSet};

/// Provider name of the CRD translation (`name@kubernetescrd`).
pub const CRD_PROVIDER: &str = "kubernetescrd";
/// Provider name of the Ingress translation (`name@kubernetes`).
pub const INGRESS_PROVIDER: &str = "kubernetes";

/// What a translation produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Translation {
    /// From the `traefik.io` CRDs (provider `kubernetescrd`).
    pub crd: Configuration,
    /// From Ingress objects (provider `kubernetes`).
    pub ingress: Configuration,
    /// Everything that could not be translated as written.
    pub problems: Vec<Problem>,
}

impl Translation {
    /// The configurations with their provider names, for the compiler.
    pub fn providers(&self, opts: &Options) -> Vec<(String, Configuration)> {
        let mut v = Vec::new();
        if opts.crd.is_some() {
            v.push((CRD_PROVIDER.to_owned(), self.crd.clone()));
        }
        if opts.ingress.is_some() {
            v.push((INGRESS_PROVIDER.to_owned(), self.ingress.clone()));
        }
        v
    }
}

/// The Ingresses of `set` that weir serves with `opts` (their class is weir's, their
/// namespace is read): the live provider writes their `status.loadBalancer`.
pub fn served_ingresses(set: &ObjectSet, opts: &IngressOptions) -> Vec<ObjectRef> {
    ingress::served(set, opts)
}

/// Translates `set`. Pure: same objects and options, same result.
pub fn translate(set: &ObjectSet, opts: &Options) -> Translation {
    let mut t = Translation::default();
    if let Some(crd) = &opts.crd {
        crd::translate(set, opts, crd, &mut t.crd, &mut t.problems);
    }
    if let Some(ing) = &opts.ingress {
        ingress::translate(set, opts, ing, &mut t.ingress, &mut t.problems);
    }
    t
}
