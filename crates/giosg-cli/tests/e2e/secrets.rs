//! The token never appears in any output, even with every log on.

use crate::common::{chats, mock, run, temp_dir, Run};
use giosg_mock::{Fault, FaultPlan, MockServer};
use std::process::Command;

const TOKEN: &str = "tok-SECRET-5b1e0c9a";

fn traced(mut cmd: Command) -> Run {
    cmd.env("RUST_LOG", "trace");
    run(&mut cmd)
}

fn assert_clean(out: &Run, secret: &str) {
    assert!(!out.stdout.contains(secret), "token on stdout");
    assert!(!out.stderr.contains(secret), "token on stderr");
    assert!(!out.stderr.contains("SECRET"), "token on stderr");
}

#[test]
fn the_token_is_absent_from_all_output_at_trace_level() {
    let mock = MockServer::builder()
        .generated(50, 30)
        .token(TOKEN)
        .faults(
            FaultPlan::new()
                .on_request(0, Fault::too_many_requests(Some("0")))
                .on_request(2, Fault::Drop),
        )
        .start()
        .unwrap();
    let dir = temp_dir("secrets");
    let file = dir.join("chats.jsonl");
    let token_file = dir.join("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let mut runs = Vec::new();
    for format in ["jsonl", "json", "csv", "table"] {
        runs.push(traced(chats(
            &mock,
            "list",
            &["--page-size", "10", "--format", format],
        )));
    }
    runs.push(traced(chats(&mock, "summary", &[])));
    let mut export = chats(&mock, "export", &["--out"]);
    export.arg(&file);
    runs.push(traced(export));
    let mut bearer = chats(&mock, "list", &["--bearer", "--token-file"]);
    bearer.arg(&token_file).env_remove("GIOSG_API_TOKEN");
    runs.push(traced(bearer));
    for out in &runs {
        out.ok();
        assert_clean(out, TOKEN);
    }
    assert!(
        runs[0].stderr.contains("giosg.request"),
        "trace logs are on: {}",
        runs[0].stderr
    );
    assert!(!std::fs::read_to_string(&file).unwrap().contains(TOKEN));

    // Failures: a wrong token, a foreign org, exhausted retries.
    let mut wrong = chats(&mock, "list", &[]);
    wrong.env("GIOSG_API_TOKEN", "wrong-SECRET-token");
    let out = traced(wrong);
    assert_eq!(out.code, 3);
    assert_clean(&out, "wrong-SECRET-token");
    mock.set_faults(FaultPlan::new().on_requests(0..5, Fault::status(503)));
    let out = traced(chats(&mock, "list", &["--max-attempts", "2"]));
    assert_eq!(out.code, 4);
    assert_clean(&out, TOKEN);
}

#[test]
fn the_token_is_absent_from_the_demo() {
    let placeholder = mock(51, 1);
    let mut demo = crate::common::giosg(["demo", "--chats", "20", "--out"]);
    demo.arg(temp_dir("demo-secrets").join("demo.jsonl"));
    let out = traced(demo);
    out.ok();
    assert!(!out.stdout.contains(placeholder.token()));
    assert!(!out.stderr.contains(placeholder.token()));
}
