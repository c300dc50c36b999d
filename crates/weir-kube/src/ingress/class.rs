//! Which Ingresses weir serves: `spec.ingressClassName` and the IngressClass' controller,
//! the legacy `kubernetes.io/ingress.class` annotation, and the default class.

use std::collections::BTreeMap;

use crate::objects::{IngressSpec, ObjectMeta};
use crate::options::{IngressOptions, NGINX_CONTROLLER};
use crate::set::{Body, Kind, ObjectSet};

/// The legacy class annotation.
pub const LEGACY_ANNOTATION: &str = "kubernetes.io/ingress.class";
/// Marks the cluster's default IngressClass.
pub const DEFAULT_CLASS_ANNOTATION: &str = "ingressclass.kubernetes.io/is-default-class";

/// An IngressClass: its controller and whether it is the default.
pub struct ClassInfo {
    pub controller: String,
    pub is_default: bool,
}

/// Every IngressClass by name.
pub fn classes(set: &ObjectSet) -> BTreeMap<String, ClassInfo> {
    set.of_kind(Kind::IngressClass)
        .filter_map(|(k, o)| match &o.body {
            Body::IngressClass(spec) => Some((
                k.name.clone(),
                ClassInfo {
                    controller: spec.controller.clone(),
                    is_default: o
                        .meta
                        .annotations
                        .get(DEFAULT_CLASS_ANNOTATION)
                        .is_some_and(|v| v.trim() == "true"),
                },
            )),
            _ => None,
        })
        .collect()
}

/// The decision for one Ingress: `Ok(is an ingress-nginx class)` when weir serves it, or
/// why not; plus warnings about the class fields themselves.
pub struct Choice {
    pub ours: Result<bool, String>,
    pub warnings: Vec<String>,
}

pub fn select(
    ing: &IngressOptions,
    classes: &BTreeMap<String, ClassInfo>,
    meta: &ObjectMeta,
    spec: &IngressSpec,
) -> Choice {
    let mut warnings = Vec::new();
    let annotation = meta.annotations.get(LEGACY_ANNOTATION).map(|s| s.trim());
    let is_nginx = |name: &str| {
        name == "nginx"
            || classes
                .get(name)
                .is_some_and(|c| c.controller == NGINX_CONTROLLER)
    };
    let ours_by_class = |name: &str| -> Result<bool, String> {
        if !ing.ingress_class.is_empty() {
            return if name == ing.ingress_class {
                Ok(is_nginx(name))
            } else {
                Err(format!(
                    "its class {name:?} is not the one weir serves ({:?})",
                    ing.ingress_class
                ))
            };
        }
        match classes.get(name) {
            Some(c) if ing.controllers.contains(&c.controller) => Ok(false),
            Some(c) => Err(format!(
                "IngressClass {name:?} belongs to controller {:?} (take it over with --providers.kubernetesingress.ingressclass={name})",
                c.controller
            )),
            None => Err(format!("IngressClass {name:?} does not exist")),
        }
    };
    let ours = if let Some(name) = spec.ingress_class_name.as_deref().filter(|n| !n.is_empty()) {
        if let Some(a) = annotation.filter(|a| *a != name) {
            warnings.push(format!(
                "the annotation {LEGACY_ANNOTATION}={a:?} disagrees with ingressClassName {name:?} (the API server refuses this on create); ingressClassName is used"
            ));
        }
        ours_by_class(name)
    } else if let Some(a) = annotation {
        if a == ing.ingress_class || (ing.ingress_class.is_empty() && a == "traefik") {
            Ok(is_nginx(a))
        } else {
            Err(format!("its {LEGACY_ANNOTATION} annotation is {a:?}"))
        }
    } else if let Some((name, _)) = classes.iter().find(|(_, c)| c.is_default) {
        // The API server gives new Ingresses without a class the default one.
        ours_by_class(name)
    } else if ing.ingress_class.is_empty() {
        Ok(false)
    } else {
        Err(format!(
            "it has no class, and weir serves the class {:?}",
            ing.ingress_class
        ))
    };
    Choice { ours, warnings }
}
