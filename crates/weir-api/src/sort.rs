//! `sortBy` and `direction` of the list endpoints, with Traefik's semantics: routers sort
//! by `name`, `provider`, `priority`, `status`, `rule`, `service` or `entryPoints` (their
//! count), services by `name`, `type`, `servers` (their count), `provider` or `status`,
//! middlewares by `name`, `type`, `provider` or `status`. Elements with equal keys keep
//! name order, in the same direction; an unknown or missing `sortBy` sorts by name.
//! `direction` is `asc` by default, and anything else sorts descending.
//!
//! The keys are read from the elements' JSON as the API shows them, so a field an element
//! kind does not have (a service's `rule`) is equal for all and leaves name order, as
//! Traefik's fallback does.

use serde_json::Value;

/// One element's sort key.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key<'a> {
    Count(i64),
    Text(&'a str),
}

/// The order `sortBy` and `direction` ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Order {
    /// The `sortBy` field (empty: by name).
    pub by: String,
    /// `direction` was missing or `asc`.
    pub ascending: bool,
}

impl Default for Order {
    fn default() -> Self {
        Order {
            by: String::new(),
            ascending: true,
        }
    }
}

impl Order {
    /// The order of `sortBy=by&direction=direction` (either may be missing).
    pub fn new(by: Option<&str>, direction: Option<&str>) -> Order {
        Order {
            by: by.unwrap_or_default().to_owned(),
            ascending: matches!(direction, None | Some("" | "asc")),
        }
    }

    /// Sorts `(name, element)` pairs; without `sortBy` or `direction` they keep the order
    /// they come in (name order, or the list's own, as certificates' problems first).
    /// `priority` gives an element's effective priority when the list has one (HTTP
    /// routers: the rule's length when none is configured), which the JSON does not show.
    pub fn sort(&self, items: &mut [(String, Value)], priority: impl Fn(&str) -> Option<i64>) {
        if *self == Order::default() {
            return;
        }
        let by = self.by.as_str();
        items.sort_by(|(name_a, a), (name_b, b)| {
            let order = element_key(by, name_a, a, &priority)
                .cmp(&element_key(by, name_b, b, &priority))
                .then_with(|| name_a.cmp(name_b));
            if self.ascending {
                order
            } else {
                order.reverse()
            }
        });
    }
}

/// The key of the element `name`, `v` for `field`, the effective priority first.
fn element_key<'a>(
    field: &str,
    name: &str,
    v: &'a Value,
    priority: &impl Fn(&str) -> Option<i64>,
) -> Option<Key<'a>> {
    match field {
        "priority" => priority(name).map(Key::Count).or_else(|| key(field, v)),
        _ => key(field, v),
    }
}

/// `v`'s key for `field`, `None` when the field sorts by name.
fn key<'a>(field: &str, v: &'a Value) -> Option<Key<'a>> {
    let text = |k: &str| Key::Text(v.get(k).and_then(Value::as_str).unwrap_or(""));
    let count = |v: Option<&Value>| {
        Key::Count(
            v.and_then(Value::as_array)
                .map_or(0, |a| i64::try_from(a.len()).unwrap_or(i64::MAX)),
        )
    };
    Some(match field {
        "provider" | "status" | "rule" | "service" | "type" => text(field),
        // The configured priority (0 when none), when the list knows no effective one.
        "priority" => Key::Count(v.get("priority").and_then(Value::as_i64).unwrap_or(0)),
        // The entrypoints it is configured on, else those it serves on.
        "entryPoints" => count(v.get("entryPoints").or_else(|| v.get("using"))),
        "servers" => count(v.pointer("/loadBalancer/servers")),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names(order: &Order, items: &[Value]) -> Vec<String> {
        let mut pairs: Vec<(String, Value)> = items
            .iter()
            .map(|v| (v["name"].as_str().unwrap_or("").to_owned(), v.clone()))
            .collect();
        order.sort(&mut pairs, |_| None);
        pairs.into_iter().map(|(n, _)| n).collect()
    }

    fn by(field: &str, direction: &str) -> Order {
        Order::new(Some(field), Some(direction))
    }

    #[test]
    fn equal_keys_keep_name_order_in_the_same_direction() {
        let items = [
            json!({"name": "b", "provider": "b"}),
            json!({"name": "b2", "provider": "a"}),
            json!({"name": "a", "provider": "b"}),
            json!({"name": "a2", "provider": "a"}),
        ];
        assert_eq!(
            names(&by("provider", "asc"), &items),
            ["a2", "b2", "a", "b"]
        );
        assert_eq!(
            names(&by("provider", "desc"), &items),
            ["b", "a", "b2", "a2"]
        );
    }

    #[test]
    fn counts_and_priorities_compare_as_numbers() {
        let items = [
            json!({"name": "a", "priority": 10, "entryPoints": ["web"]}),
            json!({"name": "b", "priority": 9, "using": ["web", "websecure"]}),
            json!({"name": "c"}),
        ];
        assert_eq!(names(&by("priority", "asc"), &items), ["c", "b", "a"]);
        assert_eq!(names(&by("entryPoints", "desc"), &items), ["b", "a", "c"]);
        let services = [
            json!({"name": "one", "loadBalancer": {"servers": [{}, {}]}}),
            json!({"name": "two", "loadBalancer": {"servers": [{}]}}),
            json!({"name": "weighted", "weighted": {}}),
        ];
        assert_eq!(
            names(&by("servers", "asc"), &services),
            ["weighted", "two", "one"]
        );
    }

    #[test]
    fn an_effective_priority_wins_over_the_configured_one() {
        let mut pairs: Vec<(String, Value)> = ["short", "long", "set"]
            .iter()
            .map(|n| ((*n).to_owned(), json!({"name": n})))
            .collect();
        pairs[2].1["priority"] = json!(5);
        let effective = |name: &str| match name {
            "short" => Some(10),
            "long" => Some(40),
            _ => None,
        };
        by("priority", "desc").sort(&mut pairs, effective);
        let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["long", "short", "set"]);
    }

    #[test]
    fn unknown_fields_sort_by_name_and_any_other_direction_is_descending() {
        let items = [
            json!({"name": "b"}),
            json!({"name": "a"}),
            json!({"name": "c"}),
        ];
        assert_eq!(
            names(&Order::default(), &items),
            ["b", "a", "c"],
            "as given"
        );
        assert_eq!(names(&by("nope", "asc"), &items), ["a", "b", "c"]);
        assert_eq!(names(&by("name", "desc"), &items), ["c", "b", "a"]);
        assert_eq!(names(&by("name", "down"), &items), ["c", "b", "a"]);
        assert_eq!(
            names(&Order::new(Some("rule"), None), &items),
            ["a", "b", "c"]
        );
    }
}
