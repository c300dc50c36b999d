//! digestAuth through a real weir: the test answers challenges with its own MD5
//! computation (RFC 7616 with qop=auth), checks replays, stale nonces, wrong values and
//! users from a file.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use http::Request;
use md5::{Digest as _, Md5};
use weir_testkit::client::Client;
use weir_testkit::{HttpResponse, WeirProcess, body, server, util};

const DYNAMIC: &str = r#"
http:
  routers:
    inline:
      rule: Host(`inline.test`)
      middlewares: [digest]
      service: echo
    file:
      rule: Host(`file.test`)
      middlewares: [digest-file]
      service: echo
  middlewares:
    digest:
      digestAuth:
        users: ["alice:weir:{{alice}}"]
        realm: weir
        removeHeader: true
        headerField: X-User
    digest-file:
      digestAuth:
        usersFile: "{{dir}}/users.htdigest"
        realm: weir
  services:
    echo:
      loadBalancer:
        servers:
          - url: "{{upstream}}"
"#;

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The parameters of a `WWW-Authenticate: Digest ...` challenge (values without commas).
fn challenge(r: &HttpResponse) -> HashMap<String, String> {
    let h = r.header("www-authenticate").unwrap();
    let rest = h.strip_prefix("Digest ").unwrap();
    rest.split(", ")
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), v.trim_matches('"').to_owned())
        })
        .collect()
}

struct Answer<'a> {
    user: &'a str,
    password: &'a str,
    realm: &'a str,
    method: &'a str,
    uri: &'a str,
    nonce: &'a str,
    opaque: &'a str,
    nc: u32,
}

fn authorization(a: &Answer<'_>) -> String {
    let ha1 = md5_hex(&format!("{}:{}:{}", a.user, a.realm, a.password));
    let ha2 = md5_hex(&format!("{}:{}", a.method, a.uri));
    let nc = format!("{:08x}", a.nc);
    let cnonce = "0a4f113b";
    let response = md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", a.nonce));
    format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", algorithm=MD5, qop=auth, nc={nc}, cnonce=\"{cnonce}\", response=\"{response}\", opaque=\"{}\"",
        a.user, a.realm, a.nonce, a.uri, a.opaque
    )
}

async fn get(c: &Client, web: u16, host: &str, path: &str, auth: Option<&str>) -> HttpResponse {
    let mut req = Request::get(format!("http://127.0.0.1:{web}{path}")).header("host", host);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    c.request(req.body(body::empty()).unwrap()).await.unwrap()
}

#[tokio::test]
async fn digest_auth() {
    let upstream = server::echo("up").await.unwrap();
    let [web, admin] = util::free_ports::<2>().unwrap();
    let dynamic = DYNAMIC
        .replace("{{alice}}", &md5_hex("alice:weir:alice-pw"))
        .replace("{{upstream}}", &upstream.url());
    let users_file = format!(
        "# htdigest\nbob:weir:{}\ncarol:elsewhere:{}\n",
        md5_hex("bob:weir:bob-pw"),
        md5_hex("carol:elsewhere:carol-pw")
    );
    let weir = WeirProcess::builder(env!("CARGO_BIN_EXE_weir"))
        .static_config(
            &(util::basic_static_config(web, admin)
                + "accessLog:\n  format: json\n  filePath: \"{{dir}}/access.json\"\n"),
        )
        .dynamic_config(&dynamic)
        .file("users.htdigest", users_file)
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let c = Client::http1();

    let r = get(&c, web, "inline.test", "/x?y=1", None).await;
    assert_eq!(r.status, 401, "{}", weir.logs());
    let ch = challenge(&r);
    assert_eq!(ch["realm"], "weir");
    assert_eq!(ch["qop"], "auth");
    assert_eq!(ch["algorithm"], "MD5");
    let (nonce, opaque) = (ch["nonce"].clone(), ch["opaque"].clone());
    let answer = |password, uri, nonce, opaque, nc| Answer {
        user: "alice",
        password,
        realm: "weir",
        method: "GET",
        uri,
        nonce,
        opaque,
        nc,
    };

    let first = authorization(&answer("alice-pw", "/x?y=1", &nonce, &opaque, 1));
    let r = get(&c, web, "inline.test", "/x?y=1", Some(&first)).await;
    assert_eq!(r.status, 200);
    let dump = r.echo().unwrap();
    assert_eq!(dump.header("x-user"), Some("alice"));
    assert_eq!(dump.header("authorization"), None, "removeHeader");
    // The user is the access log's ClientUsername.
    let log_path = weir.dir().join("access.json");
    let users = || -> Vec<String> {
        util::json_lines(&log_path)
            .iter()
            .map(|l| l["ClientUsername"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    util::wait_until(Duration::from_secs(5), async || users().len() >= 2)
        .await
        .unwrap();
    assert_eq!(users()[..2], ["-", "alice"]);

    // The same header again is a replay; a higher nonce count is fine.
    let r = get(&c, web, "inline.test", "/x?y=1", Some(&first)).await;
    assert_eq!(r.status, 401);
    let second = authorization(&answer("alice-pw", "/x?y=1", &nonce, &opaque, 2));
    let r = get(&c, web, "inline.test", "/x?y=1", Some(&second)).await;
    assert_eq!(r.status, 200);

    // Wrong password, a uri that is not the request's, a wrong opaque.
    for (what, auth, path) in [
        ("password", answer("nope", "/x", &nonce, &opaque, 3), "/x"),
        (
            "uri",
            answer("alice-pw", "/other", &nonce, &opaque, 4),
            "/x",
        ),
        ("opaque", answer("alice-pw", "/x", &nonce, "0000", 5), "/x"),
    ] {
        let r = get(&c, web, "inline.test", path, Some(&authorization(&auth))).await;
        assert_eq!(r.status, 401, "wrong {what}");
        assert!(!challenge(&r).contains_key("stale"), "wrong {what}");
    }

    // A right answer for a nonce weir never issued: a new challenge with stale=true.
    let unknown = "00112233445566778899aabbccddeeff";
    let auth = authorization(&answer("alice-pw", "/x", unknown, &opaque, 1));
    let r = get(&c, web, "inline.test", "/x", Some(&auth)).await;
    assert_eq!(r.status, 401);
    let ch = challenge(&r);
    assert_eq!(ch.get("stale").map(String::as_str), Some("true"));
    assert_ne!(ch["nonce"], unknown);

    // usersFile: users of the middleware's realm only; Authorization kept by default.
    let r = get(&c, web, "file.test", "/", None).await;
    let ch = challenge(&r);
    let bob = Answer {
        user: "bob",
        password: "bob-pw",
        realm: "weir",
        method: "GET",
        uri: "/",
        nonce: &ch["nonce"],
        opaque: &ch["opaque"],
        nc: 1,
    };
    let r = get(&c, web, "file.test", "/", Some(&authorization(&bob))).await;
    assert_eq!(r.status, 200);
    assert!(r.echo().unwrap().header("authorization").is_some());
    let carol = Answer {
        user: "carol",
        password: "carol-pw",
        realm: "weir",
        nc: 2,
        ..bob
    };
    let r = get(&c, web, "file.test", "/", Some(&authorization(&carol))).await;
    assert_eq!(r.status, 401, "carol is in another realm");

    // A reload keeps the nonces and opaque of an unchanged middleware: no new challenge.
    let more = dynamic.replace(
        "  middlewares:\n",
        "    extra:\n      rule: Host(`extra.test`)\n      service: echo\n  middlewares:\n",
    );
    weir.rewrite_dynamic(&more).unwrap();
    util::wait_until(Duration::from_secs(10), async || {
        get(&c, web, "extra.test", "/", None).await.status == 200
    })
    .await
    .unwrap();
    let after = authorization(&answer("alice-pw", "/x", &nonce, &opaque, 10));
    let r = get(&c, web, "inline.test", "/x", Some(&after)).await;
    assert_eq!(r.status, 200, "{}", weir.logs());
}
