//! The store is sealed: the front ends (`src/cli`, `src/tui`, `src/main.rs`) reach the workspace
//! only through the services of `app`. None of their files may name `rusqlite` or the `store`
//! module (`crate::store::…`, `assay::store::…`, `use crate::{store, …}`); this test names the
//! file and line of any that does.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `word` occurs in `line` as a whole identifier, followed by `then` (when given).
fn has_word(line: &str, word: &str, then: &str) -> bool {
    line.match_indices(word).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = &line[i + word.len()..];
        !before.is_some_and(is_ident)
            && if then.is_empty() {
                !after.chars().next().is_some_and(is_ident)
            } else {
                after.starts_with(then)
            }
    })
}

/// What is wrong with one file's text: (line number, the line) of each mention.
fn mentions(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    // Whether the line is inside a `use` declaration (which may span lines, as a group does).
    let mut in_use = false;
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if !in_use && (code.starts_with("use ") || code.starts_with("pub use ")) {
            in_use = true;
        }
        let bad = has_word(line, "rusqlite", "")
            || has_word(line, "store", "::")
            || (in_use && has_word(line, "store", ""));
        if bad {
            found.push((n + 1, line.to_string()));
        }
        if in_use && line.contains(';') {
            in_use = false;
        }
    }
    found
}

#[test]
fn front_ends_do_not_name_the_store_or_rusqlite() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src/cli"), &mut files);
    rust_files(&root.join("src/tui"), &mut files);
    files.push(root.join("src/main.rs"));
    assert!(files.len() > 10, "too few front-end files found: {files:?}");
    let mut problems = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", f.display()));
        for (line, what) in mentions(&text) {
            problems.push(format!(
                "{}:{line}: {}",
                f.strip_prefix(root).unwrap_or(f).display(),
                what.trim()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "front ends must reach the workspace through `app`, not `store` or rusqlite:\n{}",
        problems.join("\n")
    );
}

/// The check itself finds what it must, and lets pass what it must.
#[test]
fn the_check_finds_store_and_rusqlite_paths() {
    for bad in [
        "use crate::store::audit::Record;",
        "    let s = crate::store::key_range(c, \"t\", \"k\");",
        "fn f(c: &rusqlite::Connection) {}",
        "use assay::store;",
        "use crate::{app, store};",
        "use crate::{\n    app::Workspace,\n    store::Tx,\n};",
        "use crate::{\n    app::Workspace,\n    store,\n};",
        "extern crate rusqlite;",
        "    store::audit::head(c)",
    ] {
        assert!(!mentions(bad).is_empty(), "not found in {bad:?}");
    }
    for good in [
        "use crate::app::audit::Record;",
        "let restore::x = 1;",
        "stop.store(true, Ordering::Relaxed);",
        "// the workspace's store is sealed",
        "let datastore::y = 2;",
    ] {
        assert!(mentions(good).is_empty(), "wrongly found in {good:?}");
    }
}
