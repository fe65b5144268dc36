//! A faithful local giosg Chat API, for tests, demos and benchmarks.
//!
//! [`MockServer`] serves `GET /api/v5/orgs/<org>/chats` over HTTP/1.1 on 127.0.0.1 from a
//! background thread, following `chat-api.md` and the project's decisions:
//!
//! - all 12 query parameters, combinable; the canonical order is the requested `ordering`
//!   (default `start_time` ascending; `-` for descending; several keys) with ties broken by
//!   `id` ascending, a missing time sorting last ascending and first descending; `since_id`
//!   returns the chats strictly after that chat in this order (nothing if it is unknown);
//! - the full pagination envelope with absolute `next_page_url` / `previous_page_url` on the
//!   server's own origin, keeping the request's query;
//! - Django REST framework errors: 400 `{"param": ["message"]}` for a malformed parameter or a
//!   `page_size` outside 1 to 100, 401 without or with a wrong token (`Token` and `Bearer`
//!   accepted), 403 for another org, 404 for other paths and for a page past the last, 405 for
//!   other methods;
//! - deterministic [`Fault`]s from a [`FaultPlan`]: statuses with `Retry-After`, latency,
//!   dropped connections, truncated and stalled bodies, data drifting while a client pages,
//!   chats deleted (the oldest, a page's last, a request's `since_id`) or inserted while a
//!   client pages, envelopes that contradict themselves (no next page, a shifted `count`, a
//!   short page), a server ignoring `since_id`, a foreign `next_page_url`, redirects, and
//!   oversized bodies;
//! - a record of every request ([`RecordedRequest`]), with the token masked.
//!
//! The `giosg-mock` binary serves generated chats for manual use:
//! `giosg-mock --port 8080 --chats 1000 --seed 1 [--token T] [--latency-ms MS]`.
//!
//! Listings are cached (filter and order without the page), so paging through a large data
//! set costs O(page) per request.
//!
//! # Where each behaviour lives
//!
//! - `emulate.rs`: the Django REST framework emulation, a pure function from a request's parts
//!   (method, path, query, `Authorization`), the data and the API's identity to a reply, with
//!   no sockets: routing, authentication, listing and paging, error bodies, page URLs, and the
//!   faults that change what is answered (scripted statuses and redirects, data changed while a
//!   client pages, envelopes that contradict themselves);
//! - `params.rs`: the 12 query parameters, parsed and validated, with the messages of a 400;
//! - `store.rs`: the data: chats in canonical order, filters and orders, the listing cache,
//!   and the changes a fault or [`MockServer::push_chats`] makes;
//! - `fault.rs`: what can go wrong ([`Fault`]) and when ([`FaultPlan`], by request number);
//! - `wire.rs`: how a reply goes out, and the faults below HTTP semantics: gzip, truncated,
//!   stalled and dribbled bodies, oversized bodies and gzip bombs streamed lazily, a connection
//!   closed mid-body;
//! - `server.rs`: the lifecycle ([`MockServer`], [`MockServerBuilder`], the background thread
//!   and accept loop) and, per request, its fault, latency and record ([`RecordedRequest`]);
//! - `data.rs`: the seeded generator of realistic chats ([`generate`], [`Generator`]).
//!
//! ```
//! use giosg_mock::{Fault, FaultPlan, MockServer};
//! let server = MockServer::builder()
//!     .generated(7, 40)
//!     .faults(FaultPlan::new().on_request(0, Fault::too_many_requests(Some("1"))))
//!     .start()
//!     .unwrap();
//! assert_eq!(server.chats(), giosg_mock::generate(7, 40));
//! assert_eq!(server.token(), "mock-token");
//! ```

mod data;
mod directory;
mod emulate;
mod encrypt;
mod fault;
mod params;
mod record;
mod server;
mod store;
mod wire;

pub use data::{epoch, generate, Generator, DEMO_ORG, TAGS};
pub use directory::{rooms, users};
pub use encrypt::{encrypt, encrypted_rooms};
pub use fault::{Fault, FaultPlan};
pub use record::RecordedRequest;
pub use server::{MockServer, MockServerBuilder, DEFAULT_TOKEN};
