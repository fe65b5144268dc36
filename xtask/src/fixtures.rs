//! `cargo xtask fixtures`: the generated fixtures, rendered deterministically from a seed.

use giosg_mock::{generate, DEMO_ORG};
use giosg_model::{Chat, Page};
use std::path::{Path, PathBuf};

/// The seed every generated fixture comes from.
pub(crate) const SEED: u64 = 20_150_213;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .join("fixtures/generated")
}

/// A page of `all` as the API would serve it with this page size.
fn page(all: &[Chat], number: u64, size: u64) -> Page<Chat> {
    let count = all.len() as u64;
    let num_pages = count.div_ceil(size).max(1);
    let url = |p: u64| {
        format!("https://service.giosg.com/api/v5/orgs/{DEMO_ORG}/chats?page={p}&page_size={size}")
    };
    let start = ((number - 1) * size) as usize;
    let end = (start + size as usize).min(all.len());
    let mut page = Page::single(all[start..end].to_vec());
    page.count = count;
    page.num_pages = num_pages;
    page.per_page = size;
    page.current_page = number;
    page.next_page = (number < num_pages).then_some(number + 1);
    page.previous_page = (number > 1).then(|| number - 1);
    page.next_page_url = page.next_page.map(url);
    page.previous_page_url = page.previous_page.map(url);
    page
}

/// Every generated fixture: (file name, contents).
pub(crate) fn render() -> Vec<(&'static str, String)> {
    let chats = generate(SEED, 1000);
    let pages = [
        ("page-25-first.json", page(&chats, 1, 25)),
        ("page-100.json", page(&chats, 3, 100)),
        ("page-100-last.json", page(&chats, 10, 100)),
    ];
    pages
        .into_iter()
        .map(|(name, page)| {
            let mut json = serde_json::to_string_pretty(&page).expect("pages serialize");
            json.push('\n');
            (name, json)
        })
        .collect()
}

pub(crate) fn write() -> Result<(), String> {
    let dir = root();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, json) in render() {
        let path = dir.join(name);
        std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The names of the committed fixtures that differ from what `render` makes.
fn stale() -> Vec<String> {
    render()
        .into_iter()
        .filter(|(name, json)| {
            std::fs::read_to_string(root().join(name)).ok().as_ref() != Some(json)
        })
        .map(|(name, _)| name.to_owned())
        .collect()
}

pub(crate) fn check() -> Result<(), String> {
    match stale().as_slice() {
        [] => Ok(()),
        names => Err(format!(
            "stale fixtures (run `cargo xtask fixtures`): {}",
            names.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_fixtures_are_fresh() {
        assert_eq!(super::check(), Ok(()));
    }
}
