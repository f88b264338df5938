//! Records the git commit the binary is built from, for `manifest.json`.
//!
//! The script reruns only when the commit can have changed (git's `HEAD`, the branch it names,
//! `packed-refs`) or the binary's own sources did: not when git merely rewrites its index (as
//! `git status` does), which would recompile the crate for nothing. So "-dirty" says whether
//! the binary's sources (`src/`, `build.rs`, `Cargo.toml`, `Cargo.lock`) differ from the
//! commit, not whether a scenario file or a doc does.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary's sources: what "-dirty" looks at, and what reruns the script.
const SOURCES: [&str; 4] = ["src", "build.rs", "Cargo.toml", "Cargo.lock"];

/// `git ARGS` run in the crate, its trimmed output when it succeeds.
fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
}

fn main() {
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_default();
    let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    status.extend(SOURCES);
    let dirty = git(&status).is_some_and(|s| !s.is_empty());
    let value = if commit.is_empty() {
        String::new()
    } else if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    };
    println!("cargo:rustc-env=RABBITHOLE_GIT_COMMIT={value}");
    // In a worktree HEAD is in its own git directory, the refs in the common one.
    let git_dir = git(&["rev-parse", "--git-dir"]).map(PathBuf::from);
    let common = git(&["rev-parse", "--git-common-dir"]).map(PathBuf::from);
    let branch = git(&["symbolic-ref", "-q", "HEAD"]);
    let mut watched: Vec<PathBuf> = SOURCES.iter().map(PathBuf::from).collect();
    if let Some(dir) = &git_dir {
        watched.push(dir.join("HEAD"));
    }
    if let Some(dir) = &common {
        watched.push(dir.join("packed-refs"));
        if let Some(branch) = &branch {
            watched.push(dir.join(branch));
        }
    }
    // A path that does not exist would rerun the script on every build.
    for path in watched.iter().filter(|p| Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
