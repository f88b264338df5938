//! Claiming a results directory before a run, and SIGINT/SIGTERM while it runs.
//!
//! A run claims `--out` by creating the lock file `.<name>.lock` beside it exclusively, before
//! it computes anything, so a second run on the same `--out` is refused at once instead of
//! replacing the first's results. Files are written to `.<name>.tmp-<pid>` and renamed into
//! place (`output::write_run_dir`). On SIGINT or SIGTERM the run removes its temporary
//! directory and its lock and exits 130 or 143; what a killed run (SIGKILL, power cut) leaves
//! behind is named by the next run on the same `--out`, and removed with `--remove-stale`.

use super::Failure;
use rabbithole::output;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The lock and temporary directory of the claimed `--out`, for the signal handler. The
/// writer holds the mutex while it writes, so a signal never exits in the middle of a rename.
static CLAIMED: Mutex<Option<Claimed>> = Mutex::new(None);

/// What a run has claimed: its lock file and the temporary directory it writes into.
struct Claimed {
    lock: PathBuf,
    tmp: PathBuf,
}

impl Claimed {
    fn release(&self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
        let _ = std::fs::remove_file(&self.lock);
    }
}

/// A claimed results directory; dropping it releases the lock.
pub(crate) struct Claim {
    out: PathBuf,
    /// Its temporary directory exists and holds files written as the run went ([`Claim::create`]).
    begun: bool,
}

/// The lock file of `out`: `.<name>.lock` beside it.
fn lock_path(out: &Path) -> Result<PathBuf, Failure> {
    let (parent, name) = output::parent_and_name(out).map_err(|e| Failure::Input(e.to_string()))?;
    Ok(parent.join(format!(".{name}.lock")))
}

/// Whether process `pid` is running (Linux: it has an entry in /proc).
fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// The process id a leftover's name or lock file ends with.
fn pid_of(path: &Path) -> Option<u32> {
    if path.extension().is_some_and(|e| e == "lock") {
        return std::fs::read_to_string(path).ok()?.trim().parse().ok();
    }
    let name = path.file_name()?.to_str()?;
    name.rsplit_once('-')?.1.parse().ok()
}

/// The leftovers of killed runs on `out`: temporary and old directories and locks whose
/// process is gone.
fn stale(out: &Path) -> Vec<PathBuf> {
    let Ok((parent, name)) = output::parent_and_name(out) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&parent) else {
        return Vec::new();
    };
    let prefixes = [format!(".{name}.tmp-"), format!(".{name}.old-")];
    let lock = format!(".{name}.lock");
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let file = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            (prefixes.iter().any(|pre| file.starts_with(pre.as_str())) || file == lock)
                && pid_of(p).is_none_or(|pid| !alive(pid))
        })
        .collect();
    found.sort();
    found
}

impl Claim {
    /// Claims `out`: refuses it when it exists (unless `force` and it is a results or sweep
    /// directory) or when another run holds it; names or (`remove_stale`) removes leftovers
    /// of killed runs.
    pub(crate) fn take(out: &Path, force: bool, remove_stale: bool) -> Result<Claim, Failure> {
        output::check_replaceable(out, force).map_err(|e| Failure::Input(e.to_string()))?;
        let leftovers = stale(out);
        if remove_stale {
            for path in &leftovers {
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(path)
                } else {
                    std::fs::remove_file(path)
                };
            }
        } else if !leftovers.is_empty() {
            let names: Vec<String> = leftovers.iter().map(|p| p.display().to_string()).collect();
            eprintln!(
                "note: left by killed runs on {}: {}; pass --remove-stale to remove them",
                out.display(),
                names.join(", ")
            );
        }
        let lock = lock_path(out)?;
        if let Some(parent) = lock.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::Run(format!("cannot create {}: {e}", parent.display())))?;
        }
        let mut file = OpenOptions::new().write(true).create_new(true).open(&lock).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Failure::Input(match pid_of(&lock) {
                    Some(pid) if !alive(pid) => format!(
                        "{} is locked by a run that was killed (pid {pid}, lock {}); pass --remove-stale to remove its leftovers",
                        out.display(),
                        lock.display()
                    ),
                    holder => format!(
                        "{} is being written by {} (lock {}); wait for it, or choose another --out",
                        out.display(),
                        holder.map_or("another run".to_string(), |p| format!("run {p}")),
                        lock.display()
                    ),
                })
            } else {
                Failure::Run(format!("cannot create {}: {e}", lock.display()))
            }
        })?;
        let _ = writeln!(file, "{}", std::process::id());
        let tmp = output::temp_dir(out).map_err(|e| Failure::Input(e.to_string()))?;
        *CLAIMED.lock().unwrap_or_else(|e| e.into_inner()) = Some(Claimed { lock, tmp });
        Ok(Claim {
            out: out.to_path_buf(),
            begun: false,
        })
    }

    /// Creates the file `name` in the claimed directory's temporary directory, for a file the
    /// run writes as it goes: it appears in `--out` only with the others, when [`Claim::write`]
    /// renames the directory into place, and a signal or a failure removes it with the rest.
    pub(crate) fn create(&mut self, name: &str) -> Result<std::fs::File, Failure> {
        let _held = CLAIMED.lock().unwrap_or_else(|e| e.into_inner());
        let cannot = |e: std::io::Error| Failure::Run(format!("cannot write {}: {e}", self.out.display()));
        let tmp = if self.begun {
            output::temp_dir(&self.out).map_err(cannot)?
        } else {
            output::begin_run_dir(&self.out).map_err(cannot)?
        };
        self.begun = true;
        std::fs::File::create(tmp.join(name)).map_err(cannot)
    }

    /// Writes `files` as the claimed directory (see `output::write_run_dir`), beside the files
    /// [`Claim::create`] made, with signals held off until the rename is done.
    pub(crate) fn write(&self, files: &[(&str, Vec<u8>)], force: bool) -> Result<(), Failure> {
        let _held = CLAIMED.lock().unwrap_or_else(|e| e.into_inner());
        let written = if self.begun {
            output::finish_run_dir(&self.out, files, force)
        } else {
            output::write_run_dir(&self.out, files, force)
        };
        written.map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Failure::Input(e.to_string())
            } else {
                Failure::Run(format!("cannot write {}: {e}", self.out.display()))
            }
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(claimed) = CLAIMED.lock().unwrap_or_else(|e| e.into_inner()).take() {
            claimed.release();
        }
    }
}

/// Handles SIGINT and SIGTERM on a thread of their own: releases the claim (its temporary
/// directory and lock), says so in one line and exits 128 + the signal (130, 143).
pub(crate) fn handle_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let claimed = CLAIMED.lock().unwrap_or_else(|e| e.into_inner()).take();
            let name = if signal == SIGINT { "SIGINT" } else { "SIGTERM" };
            match claimed {
                Some(c) => {
                    c.release();
                    eprintln!("\ninterrupted ({name}): stopped, its temporary files removed");
                }
                None => eprintln!("\ninterrupted ({name}): stopped"),
            }
            std::process::exit(128 + signal);
        }
    });
}
