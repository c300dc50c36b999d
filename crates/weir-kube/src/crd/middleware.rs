//! Middleware CRDs: the spec is Traefik's dynamic middleware, except that files become
//! Secrets (`basicAuth.secret`, `digestAuth.secret`, `forwardAuth.tls.caSecret` /
//! `certSecret`), chain entries are `{name, namespace}` references and `errors.service`
//! is a service entry.

use serde_json::{Map, Value};
use weir_config::dynamic::Middleware;

use super::Cx;
use super::spec::{LoadBalancerSpec, ObjectReference};
use crate::names::object_id;
use crate::secrets;
use crate::set::{Kind, ObjectRef};

pub(crate) fn middlewares(cx: &mut Cx<'_>) {
    for (key, obj) in cx.objects(Kind::Middleware) {
        let crate::set::Body::Crd(spec) = &obj.body else {
            continue;
        };
        let mut spec = spec.clone();
        let Some(map) = spec.as_object_mut() else {
            cx.sink(key).error("spec", "must be a mapping");
            continue;
        };
        if let Err((field, e)) = resolve(cx, key, map) {
            cx.sink(key).error(field, e);
            continue;
        }
        match serde_json::from_value::<Middleware>(spec) {
            Ok(m) => {
                match m.kinds_set().len() {
                    1 => {}
                    0 => {
                        cx.sink(key).error("spec", "no middleware type is set");
                        continue;
                    }
                    _ => {
                        cx.sink(key).error(
                            "spec",
                            format!(
                                "several middleware types are set ({}); set one",
                                m.kinds_set().join(", ")
                            ),
                        );
                        continue;
                    }
                }
                cx.out
                    .http
                    .middlewares
                    .insert(object_id(&key.namespace, &key.name), m);
            }
            Err(e) => cx.sink(key).error("spec", e.to_string()),
        }
    }
}

type Fail = (String, String);

fn take_string(map: &mut Map<String, Value>, k: &str) -> Option<String> {
    match map.remove(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

fn resolve(cx: &mut Cx<'_>, key: &ObjectRef, map: &mut Map<String, Value>) -> Result<(), Fail> {
    let ns = key.namespace.clone();
    for (kind, file_key) in [("basicAuth", "users"), ("digestAuth", "users")] {
        if let Some(Value::Object(auth)) = map.get_mut(kind)
            && let Some(secret) = take_string(auth, "secret")
        {
            let users = secrets::users(cx.set, &ns, &secret, file_key)
                .map_err(|e| (format!("spec.{kind}.secret"), e))?;
            auth.insert("users".into(), Value::from(users));
        }
    }
    if let Some(Value::Object(fa)) = map.get_mut("forwardAuth")
        && let Some(Value::Object(tls)) = fa.get_mut("tls")
    {
        if let Some(secret) = take_string(tls, "caSecret") {
            let ca = secrets::ca_bundle(cx.set, &ns, &secret)
                .map_err(|e| ("spec.forwardAuth.tls.caSecret".to_owned(), e))?;
            tls.insert("ca".into(), Value::from(ca));
        }
        if let Some(secret) = take_string(tls, "certSecret") {
            let (cert, k) = secrets::tls_pair(cx.set, &ns, &secret)
                .map_err(|e| ("spec.forwardAuth.tls.certSecret".to_owned(), e))?;
            tls.insert("cert".into(), Value::from(cert));
            tls.insert("key".into(), Value::from(k));
        }
    }
    if let Some(Value::Object(chain)) = map.get_mut("chain")
        && let Some(list) = chain.remove("middlewares")
    {
        let refs: Vec<ObjectReference> = serde_json::from_value(list)
            .map_err(|e| ("spec.chain.middlewares".to_owned(), e.to_string()))?;
        let mut names = Vec::new();
        for (i, r) in refs.iter().enumerate() {
            let n = cx
                .ref_name(&ns, &r.name, &r.namespace)
                .map_err(|e| (format!("spec.chain.middlewares[{i}]"), e))?;
            names.push(Value::from(n));
        }
        chain.insert("middlewares".into(), Value::Array(names));
    }
    if let Some(Value::Object(errors)) = map.get_mut("errors")
        && let Some(svc) = errors.remove("service")
    {
        let spec: LoadBalancerSpec = serde_json::from_value(svc)
            .map_err(|e| ("spec.errors.service".to_owned(), e.to_string()))?;
        let name = if spec.is_traefik_service() {
            cx.ref_name(&ns, &spec.name, &spec.namespace)
                .map_err(|e| ("spec.errors.service".to_owned(), e))?
        } else {
            let (lb, _) = cx
                .load_balancer(&ns, &spec)
                .map_err(|e| ("spec.errors.service".to_owned(), e))?;
            let name = format!("{}-errorpage-service", object_id(&ns, &key.name));
            cx.out.http.services.insert(
                name.clone(),
                weir_config::dynamic::Service {
                    load_balancer: Some(lb),
                    ..Default::default()
                },
            );
            name
        };
        errors.insert("service".into(), Value::from(name));
    }
    if let Some(Value::Object(rl)) = map.get_mut("rateLimit")
        && let Some(Value::Object(redis)) = rl.get_mut("redis")
        && redis.contains_key("secret")
    {
        return Err((
            "spec.rateLimit.redis.secret".into(),
            "Redis credentials from a Secret are not supported by weir yet".into(),
        ));
    }
    Ok(())
}
