//! Entrypoint defaults ("models" in Traefik): an entrypoint with `http.middlewares`,
//! `http.tls` or `observability` gets its own copy of every router on it, with those
//! defaults applied: the entrypoint's middlewares first, then the router's; the
//! entrypoint's TLS when the router has none (see `tls.rs`); its observability switches
//! where the router sets none. A router listed on several entrypoints is named
//! `<entrypoint>-<router>` on each of those, as Traefik names them (so metrics, access
//! logs and the API show the same names); on entrypoints without defaults it keeps its
//! name.

use std::borrow::Cow;

use weir_config::dynamic::Router;

use super::EntrypointInfo;

/// One router to compile: its (unqualified) name and its configuration, owned when an
/// entrypoint's defaults changed it.
pub(super) struct Expanded<'a> {
    pub name: Cow<'a, str>,
    pub router: Cow<'a, Router>,
}

/// The routers `router` (named `name`) becomes; `defaults` are the entrypoints of a
/// router that lists none.
pub(super) fn expand<'a>(
    name: &'a str,
    router: &'a Router,
    entrypoints: &[EntrypointInfo],
    defaults: &[usize],
) -> Vec<Expanded<'a>> {
    let listed: Vec<&str> = if router.entry_points.is_empty() {
        defaults
            .iter()
            .map(|&i| entrypoints[i].name.as_str())
            .collect()
    } else {
        router.entry_points.iter().map(String::as_str).collect()
    };
    let model = |ep: &str| {
        entrypoints
            .iter()
            .find(|e| e.name == ep)
            .filter(|e| e.has_model())
    };
    if !listed.iter().any(|ep| model(ep).is_some()) {
        return vec![Expanded {
            name: Cow::Borrowed(name),
            router: Cow::Borrowed(router),
        }];
    }
    let mut out = Vec::new();
    let mut plain = Vec::new();
    for (i, &ep_name) in listed.iter().enumerate() {
        if listed[..i].contains(&ep_name) {
            continue; // listed twice: one copy, as Traefik's map of routers keeps one
        }
        let Some(ep) = model(ep_name) else {
            // Unknown names stay with the router, which reports them.
            plain.push(ep_name.to_owned());
            continue;
        };
        let mut copy = router.clone();
        copy.entry_points = vec![ep.name.clone()];
        if !ep.middlewares.is_empty() {
            copy.middlewares = ep
                .middlewares
                .iter()
                .chain(&router.middlewares)
                .cloned()
                .collect();
        }
        if let Some(defaults) = &ep.observability {
            let o = copy.observability.get_or_insert_default();
            o.access_logs.get_or_insert(defaults.access_logs);
            o.metrics.get_or_insert(defaults.metrics);
            o.tracing.get_or_insert(defaults.tracing);
        }
        out.push(Expanded {
            name: if listed.len() > 1 {
                Cow::Owned(format!("{ep_name}-{name}"))
            } else {
                Cow::Borrowed(name)
            },
            router: Cow::Owned(copy),
        });
    }
    if !plain.is_empty() {
        let mut rest = router.clone();
        rest.entry_points = plain;
        out.push(Expanded {
            name: Cow::Borrowed(name),
            router: Cow::Owned(rest),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use weir_config::dynamic::RouterObservabilityConfig;
    use weir_config::static_config::ObservabilityConfig;

    use super::*;

    fn ep(name: &str) -> EntrypointInfo {
        EntrypointInfo {
            name: name.into(),
            as_default: true,
            ..EntrypointInfo::default()
        }
    }

    fn router(eps: &[&str], middlewares: &[&str]) -> Router {
        Router {
            entry_points: eps.iter().map(|s| s.to_string()).collect(),
            middlewares: middlewares.iter().map(|s| s.to_string()).collect(),
            rule: "Host(`a.test`)".into(),
            service: "s".into(),
            ..Router::default()
        }
    }

    fn names(out: &[Expanded<'_>]) -> Vec<String> {
        out.iter().map(|e| e.name.to_string()).collect()
    }

    #[test]
    fn entrypoints_without_defaults_leave_routers_alone() {
        let eps = [ep("web"), ep("websecure")];
        let r = router(&["web", "websecure"], &["m"]);
        let out = expand("r", &r, &eps, &[0, 1]);
        assert_eq!(names(&out), ["r"]);
        assert!(matches!(out[0].router, Cow::Borrowed(_)));
    }

    #[test]
    fn a_router_on_several_entrypoints_is_copied_for_those_with_defaults() {
        let mut web = ep("web");
        web.middlewares = vec!["auth@file".into()];
        web.observability = Some(ObservabilityConfig {
            access_logs: false,
            ..ObservabilityConfig::default()
        });
        let eps = [web, ep("websecure"), ep("admin")];
        let mut r = router(&["web", "websecure", "nope"], &["m"]);
        r.observability = Some(RouterObservabilityConfig {
            metrics: Some(false),
            ..RouterObservabilityConfig::default()
        });
        let out = expand("r", &r, &eps, &[0]);
        assert_eq!(names(&out), ["web-r", "r"]);
        assert_eq!(out[0].router.entry_points, ["web"]);
        assert_eq!(out[0].router.middlewares, ["auth@file", "m"]);
        let o = out[0].router.observability.as_ref().unwrap();
        // The router's own switch wins; the entrypoint fills the rest.
        assert_eq!(
            (o.metrics, o.access_logs, o.tracing),
            (Some(false), Some(false), Some(true))
        );
        assert_eq!(out[1].router.entry_points, ["websecure", "nope"]);
        assert_eq!(out[1].router.middlewares, ["m"]);
    }

    #[test]
    fn a_single_entrypoint_keeps_the_name_and_defaults_count_as_listed() {
        let mut websecure = ep("websecure");
        websecure.tls = Some(Default::default());
        let eps = [ep("web"), websecure];
        let r = router(&["websecure"], &[]);
        assert_eq!(names(&expand("r", &r, &eps, &[0, 1])), ["r"]);
        // No entryPoints: the default ones, both, so the copy is renamed.
        let r = router(&[], &[]);
        let out = expand("r", &r, &eps, &[0, 1]);
        assert_eq!(names(&out), ["websecure-r", "r"]);
        assert_eq!(out[1].router.entry_points, ["web"]);
        // An entrypoint listed twice makes one copy.
        let r = router(&["websecure", "websecure"], &[]);
        assert_eq!(names(&expand("r", &r, &eps, &[0, 1])), ["websecure-r"]);
    }
}
