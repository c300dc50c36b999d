//! Scraping weir's /metrics and parsing it with a real exposition-format parser
//! (shared by the metrics tests).
#![allow(dead_code)]

use std::collections::HashMap;

use prometheus_parse::{Scrape, Value};
use weir_testkit::client;

/// One parsed sample: name, labels, value (histograms give their count).
#[derive(Debug)]
pub struct Sample {
    pub name: String,
    pub labels: HashMap<String, String>,
    pub value: f64,
    pub buckets: Vec<(f64, f64)>,
}

pub async fn scrape(port: u16) -> Vec<Sample> {
    let resp = client::get(&format!("http://127.0.0.1:{port}/metrics"), None)
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
    );
    let lines = resp.body.lines().map(|l| Ok(l.to_owned()));
    let parsed = Scrape::parse(lines).unwrap();
    parsed
        .samples
        .into_iter()
        .map(|s| {
            let labels: HashMap<String, String> = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let (value, buckets) = match s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => (v, Vec::new()),
                Value::Histogram(h) => {
                    let inf = h
                        .iter()
                        .find(|b| b.less_than.is_infinite())
                        .map_or(0.0, |b| b.count);
                    (inf, h.iter().map(|b| (b.less_than, b.count)).collect())
                }
                Value::Summary(_) => (f64::NAN, Vec::new()),
            };
            Sample {
                name: s.metric,
                labels,
                value,
                buckets,
            }
        })
        .collect()
}

pub fn find<'a>(samples: &'a [Sample], name: &str, want: &[(&str, &str)]) -> Option<&'a Sample> {
    samples.iter().find(|s| {
        s.name == name
            && want
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
    })
}

pub fn value(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    find(samples, name, want)
        .unwrap_or_else(|| panic!("no {name} {want:?}"))
        .value
}
