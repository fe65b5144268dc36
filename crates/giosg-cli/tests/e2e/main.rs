//! End-to-end tests: the built `giosg` binary against giosg-mock on loopback.

mod common;
mod demo;
mod directory;
mod encrypted;
mod exit_codes;
mod export;
mod extreme;
mod faults;
mod flags;
mod formats;
mod injection;
mod lossless;
#[cfg(feature = "postgres")]
mod postgres;
mod queries;
mod report;
mod secrets;
mod shell;
mod sync;
