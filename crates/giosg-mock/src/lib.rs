//! A faithful local giosg Chat API.
#![deny(missing_docs)]

mod data;

pub use data::{epoch, generate, Generator, DEMO_ORG, TAGS};
