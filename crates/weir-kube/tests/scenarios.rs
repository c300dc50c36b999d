#![allow(clippy::unwrap_used)]
//! The two scenarios' manifests, translated.

use std::path::PathBuf;

use weir_kube::manifests::Manifests;
use weir_kube::{Options, translate};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/kubernetes")
        .join(name)
}

#[test]
fn smoke() {
    let m = Manifests::read(&[example("todo-app")], false).unwrap();
    let mut opts = Options::both();
    opts.offline = true;
    opts.ingress.as_mut().unwrap().ingress_class = "nginx".into();
    let t = translate(&m.set, &opts);
    println!("{}", serde_json::to_string_pretty(&t.ingress).unwrap());
    for p in &t.problems {
        println!("{}", m.locate(p));
    }
    for d in &m.diagnostics {
        println!("{d}");
    }
    let m = Manifests::read(&[example("edge-basics")], true).unwrap();
    let t = translate(&m.set, &opts);
    println!("{}", serde_json::to_string_pretty(&t.crd).unwrap());
    for p in &t.problems {
        println!("{}", m.locate(p));
    }
    println!("{:?}", m.skipped);
}
