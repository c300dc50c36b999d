//! End-to-end test kit for weir.
//!
//! Everything listens on `127.0.0.1:0` and stops when its handle is dropped, so tests can run
//! in parallel without port clashes or leftovers.
//!
//! - [`server`]: upstream servers — [`server::echo`] (whoami-like, HTTP/1.1 + HTTP/2),
//!   [`server::serve_fn`] (custom behaviour from a closure), [`server::h2c_echo`] (HTTP/2
//!   prior knowledge only), [`server::https_echo`] (certificate from a [`tls::TestCa`]),
//!   [`server::tcp_echo`] (raw TCP);
//!   [`ws::ws_echo`] is a WebSocket echo server and [`ws::WsClient`] a tiny client.
//! - [`process::WeirProcess`]: writes static and dynamic configuration into a temporary
//!   directory, runs the weir binary, waits until `/ping` answers, signals and reaps it.
//! - [`client`]: small HTTP clients (plain HTTP/1.1, h2c, TLS with SNI and ALPN).
//! - [`util`]: free loopback ports and [`util::wait_until`] for polling with a deadline.
//!
//! ```no_run
//! # async fn demo(weir_bin: &str) -> anyhow::Result<()> {
//! use weir_testkit::{client, process::WeirProcess, server, util};
//! // weir_bin: env!("CARGO_BIN_EXE_weir") in an integration test of the weir crate.
//! let upstream = server::echo("one").await?;
//! let [web, admin] = util::free_ports::<2>()?;
//! let dynamic = format!(
//!     "http:\n  routers:\n    r:\n      rule: Host(`a.test`)\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://{}\n",
//!     upstream.addr
//! );
//! let weir = WeirProcess::builder(weir_bin)
//!     .static_config(&util::basic_static_config(web, admin))
//!     .dynamic_config(&dynamic)
//!     .ping_port(admin)
//!     .start()
//!     .await?;
//! let resp = client::get(&format!("http://127.0.0.1:{web}/x"), Some("a.test")).await?;
//! assert_eq!(resp.status, 200, "{}", weir.logs());
//! assert_eq!(resp.header("x-upstream-name"), Some("one"));
//! # Ok(()) }
//! ```

pub mod body;
pub mod client;
pub mod echo;
pub mod kubeapi;
pub mod process;
pub mod server;
pub mod tls;
pub mod util;
pub mod ws;

pub use body::TestBody;
pub use client::HttpResponse;
pub use echo::EchoDump;
pub use process::WeirProcess;
pub use server::ServerHandle;
pub use tls::TestCa;
