//! `giosg rooms list` and `giosg users list` against giosg-mock: every format, deleted ones on
//! request, the organisation from the token's user, a token denied users.

use crate::common::{api_args, giosg, mock, run};

fn list(mock: &giosg_mock::MockServer, what: &str, args: &[&str]) -> crate::common::Run {
    let mut cmd = giosg([what, "list"]);
    cmd.args(api_args(mock))
        .args(args)
        .env("GIOSG_API_TOKEN", mock.token());
    run(&mut cmd)
}

#[test]
fn rooms_and_users_in_every_format() {
    let mock = mock(80, 10);
    let jsonl = list(&mock, "rooms", &["--format", "jsonl"]);
    assert_eq!(jsonl.ok().lines().count(), 3);
    let all = list(&mock, "rooms", &["--format", "json", "--include-deleted"]);
    let rooms: Vec<giosg_async::Room> = serde_json::from_str(all.ok()).unwrap();
    assert_eq!(rooms.len(), 4);
    let csv = list(&mock, "rooms", &["--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.ok().as_bytes());
    let names: Vec<String> = reader.records().map(|r| r.unwrap()[2].to_owned()).collect();
    assert!(
        names.contains(&"Support (shared by Partner)".to_owned()),
        "{names:?}"
    );
    let table = list(&mock, "users", &["--format", "table", "--include-deleted"]);
    let text = table.ok();
    for name in [
        "FULL_NAME",
        "John Doe",
        "Aino Virtanen",
        "Mateo García",
        "Shop Bot",
        "(4 listed)",
    ] {
        assert!(text.contains(name), "{name} in {text}");
    }
    // Without --org: the token's user's organisation.
    let mut cmd = giosg(["users", "list", "--format", "jsonl", "--base-url"]);
    cmd.arg(mock.base_url())
        .env("GIOSG_API_TOKEN", mock.token());
    let out = run(&mut cmd);
    assert_eq!(out.ok().lines().count(), 3);
    assert!(out.stderr.contains("--org not given"), "{}", out.stderr);
}

#[test]
fn a_token_denied_users_is_told_so() {
    let mock = giosg_mock::MockServer::builder()
        .deny_users(true)
        .start()
        .unwrap();
    let out = list(&mock, "users", &["--format", "jsonl"]);
    let line = out.fails(3).to_owned();
    assert!(line.contains("403"), "{line}");
}

#[test]
fn a_token_denied_users_still_summarises_chats_with_one_warning() {
    let mock = giosg_mock::MockServer::builder()
        .generated(81, 30)
        .deny_users(true)
        .start()
        .unwrap();
    let out = run(&mut crate::common::chats(&mock, "summary", &[]));
    let text = out.ok();
    assert!(text.contains("chats per room"), "{text}");
    assert!(
        text.contains("Customer page") || text.contains("Shop"),
        "rooms by name: {text}"
    );
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("warning"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(
        warnings[0].contains("users could not be read"),
        "{}",
        out.stderr
    );
}
