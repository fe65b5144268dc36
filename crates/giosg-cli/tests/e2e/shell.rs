//! The command as a shell tool: `--version`, `completions <shell>`, the timeout flags, and what
//! a 429 asking for a long wait says.

use crate::common::{chats, giosg, run};
use giosg_mock::{Fault, FaultPlan, MockServer};
use std::time::Duration;

#[test]
fn version_prints_the_crate_version() {
    let out = run(&mut giosg(["--version"]));
    assert_eq!(
        out.ok().trim(),
        format!("giosg {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "_giosg()"),
        ("zsh", "#compdef giosg"),
        ("fish", "complete -c giosg"),
        ("elvish", "giosg"),
        ("powershell", "giosg"),
    ] {
        let out = run(&mut giosg(["completions", shell]));
        let script = out.ok();
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("export"), "{shell} completes subcommands");
    }
    run(&mut giosg(["completions", "tcsh"])).fails(2);
}

#[test]
fn the_overall_timeout_is_a_flag_and_its_error_says_which_fired() {
    let mock = MockServer::builder()
        .generated(5, 30)
        .faults(FaultPlan::new().on_request(0, Fault::Stall(Duration::from_secs(30))))
        .start()
        .unwrap();
    let out = run(&mut chats(
        &mock,
        "list",
        &["--timeout", "1", "--max-attempts", "1"],
    ));
    let line = out.fails(5);
    assert!(line.contains("overall timeout"), "{line}");
    assert!(line.contains("--timeout"), "{line}");
}

#[test]
fn a_retry_after_longer_than_max_wait_fails_at_once_saying_what_was_asked() {
    let mock = MockServer::builder()
        .generated(5, 30)
        .faults(FaultPlan::new().on_request(0, Fault::too_many_requests(Some("86400"))))
        .start()
        .unwrap();
    let out = run(&mut chats(&mock, "list", &[]));
    let line = out.fails(4);
    assert!(line.contains("86400 s"), "{line}");
    assert!(line.contains("--max-wait"), "{line}");
    assert!(!line.contains("--max-attempts"), "{line}");
    assert!(line.contains("(HTTP 429)"), "{line}");
    assert_eq!(mock.requests().len(), 1, "no retry was attempted");
}

#[test]
fn a_retry_after_too_long_names_the_status_that_carried_it() {
    for status in [503, 500] {
        let mock = MockServer::builder()
            .generated(5, 30)
            .faults(FaultPlan::new().on_request(
                0,
                Fault::Status {
                    status,
                    retry_after: Some("86400".to_owned()),
                },
            ))
            .start()
            .unwrap();
        let out = run(&mut chats(&mock, "list", &[]));
        let line = out.fails(4);
        assert!(line.contains(&format!("(HTTP {status})")), "{line}");
        assert!(!line.contains("429"), "{line}");
        assert!(!line.contains("rate limited"), "{line}");
        assert!(line.contains("86400 s"), "{line}");
        assert_eq!(mock.requests().len(), 1, "no retry was attempted");
    }
}

#[test]
fn a_stalled_response_names_the_read_timeout_flag() {
    let mock = MockServer::builder()
        .generated(5, 30)
        .faults(FaultPlan::new().on_request(0, Fault::Stall(Duration::from_secs(30))))
        .start()
        .unwrap();
    let out = run(&mut chats(
        &mock,
        "list",
        &["--read-timeout", "1", "--max-attempts", "1"],
    ));
    let line = out.fails(5);
    assert!(line.contains("read timeout"), "{line}");
    assert!(line.contains("raise --read-timeout"), "{line}");
}
