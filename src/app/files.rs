//! The files assay reads and writes, handled so that nothing outside a portfolio is read and
//! nothing is destroyed.
//!
//! Reading: a file is opened once, and that open handle is checked (a regular file, within its
//! size limit) and read — never a name checked and then opened again, which another process could
//! swap in between. Files inside a portfolio folder are opened relative to the folder itself
//! (`cap-std`): a path, or a symbolic link met on the way, that would lead out of the folder is
//! refused by the open, whatever happens to the folder meanwhile. Opens never wait on a FIFO.
//!
//! Writing: [`check_output`] refuses a device, a FIFO, a socket, a symbolic link or the workspace
//! database (with its log) as a target, and an existing file unless `--force` is given; files are
//! written beside their target under a temporary name and renamed into place; [`clean_stale`]
//! removes what an interrupted export left.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::AppError;
use super::refusal::Refusal;

/// Opens never wait on a FIFO: `O_NONBLOCK` (the handle is then checked to be a regular file).
fn nonblock_flag() -> i32 {
    #[cfg(unix)]
    {
        libc::O_NONBLOCK
    }
    #[cfg(not(unix))]
    {
        0
    }
}

/// What a path holds, without following a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Missing,
    File,
    Dir,
    Symlink,
    /// A FIFO, a device or a socket.
    Special(&'static str),
}

impl Kind {
    pub fn of(path: &Path) -> Kind {
        match std::fs::symlink_metadata(path) {
            Err(_) => Kind::Missing,
            Ok(m) => kind_of(&m.file_type()),
        }
    }

    /// How a person would name it.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Missing => "missing",
            Kind::File => "a file",
            Kind::Dir => "a folder",
            Kind::Symlink => "a symbolic link",
            Kind::Special(s) => s,
        }
    }
}

fn kind_of(t: &std::fs::FileType) -> Kind {
    if t.is_symlink() {
        return Kind::Symlink;
    }
    if t.is_file() {
        return Kind::File;
    }
    if t.is_dir() {
        return Kind::Dir;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Kind::Special("a FIFO (named pipe)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Kind::Special("a device");
        }
        if t.is_socket() {
            return Kind::Special("a socket");
        }
    }
    Kind::Special("not a regular file")
}

/// Why a file named on the command line was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    TooLarge {
        size: u64,
        limit: u64,
    },
    Missing,
    /// What it is instead ("a FIFO (named pipe)", "a folder", …).
    NotRegular(&'static str),
    Io(String),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::TooLarge { size, limit } => write!(
                f,
                "file is {size} bytes; the limit is {}: split it or remove what is not needed",
                human(*limit)
            ),
            FileError::Missing => f.write_str("no such file"),
            FileError::NotRegular(what) => {
                write!(f, "is {what}, not a regular file; give a file")
            }
            FileError::Io(e) => f.write_str(e),
        }
    }
}

/// Reads from an open handle: it must be a regular file of at most `limit` bytes (checked on the
/// handle, and again while reading, in case it grows).
fn read_checked(
    mut f: impl Read,
    meta: std::io::Result<std::fs::Metadata>,
    limit: u64,
    name: &str,
) -> Result<Vec<u8>, FileError> {
    let _ = name;
    let meta = meta.map_err(|e| FileError::Io(e.to_string()))?;
    let kind = kind_of(&meta.file_type());
    if kind != Kind::File {
        return Err(FileError::NotRegular(kind.describe()));
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    f.by_ref()
        .take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|e| FileError::Io(e.to_string()))?;
    if data.len() as u64 > limit {
        return Err(FileError::TooLarge {
            size: data.len() as u64,
            limit,
        });
    }
    Ok(data)
}

/// A size for a person: `1 MiB`, `100 MiB`, `512 bytes`.
pub fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads a file named on the command line: a regular file of at most `limit` bytes (it may be
/// reached through a symbolic link: the person named it).
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let name = path.display().to_string();
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(nonblock_flag());
    }
    let f = opts.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FileError::Missing,
        _ => FileError::Io(e.to_string()),
    })?;
    let meta = f.metadata();
    read_checked(f, meta, limit, &name)
}

/// A portfolio folder, opened once: everything in it is read relative to it.
pub struct Folder {
    dir: cap_std::fs::Dir,
    root: PathBuf,
}

/// Why a file of a portfolio folder was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Missing,
    /// It leads out of the folder (`..`, an absolute path, or a symbolic link).
    Outside,
    NotRegular(&'static str),
    TooLarge(u64),
    Io(String),
}

impl Folder {
    pub fn open(root: &Path) -> std::io::Result<Folder> {
        let dir = cap_std::fs::Dir::open_ambient_dir(root, cap_std::ambient_authority())?;
        Ok(Folder {
            dir,
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What `rel` is inside the folder, without following a last symbolic link.
    pub fn kind(&self, rel: &str) -> Kind {
        match self.dir.symlink_metadata(rel) {
            Err(_) => Kind::Missing,
            Ok(m) => {
                let t = m.file_type();
                if t.is_symlink() {
                    Kind::Symlink
                } else if t.is_file() {
                    Kind::File
                } else if t.is_dir() {
                    Kind::Dir
                } else {
                    Kind::Special("not a regular file (a FIFO, a device or a socket)")
                }
            }
        }
    }

    /// Reads `rel`: opened inside the folder (refused if it leads out), checked on the open
    /// handle to be a regular file of at most `limit` bytes, and read from that handle.
    pub fn read(&self, rel: &str, limit: u64) -> Result<Vec<u8>, Refused> {
        let mut opts = cap_std::fs::OpenOptions::new();
        opts.read(true);
        #[cfg(unix)]
        {
            use cap_std::fs::OpenOptionsExt;
            opts.custom_flags(nonblock_flag());
        }
        let f = self.dir.open_with(rel, &opts).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Refused::Missing
            } else if self.escapes(rel) {
                Refused::Outside
            } else {
                Refused::Io(e.to_string())
            }
        })?;
        let meta = f.metadata().map_err(|e| Refused::Io(e.to_string()))?;
        let ft = meta.file_type();
        if !ft.is_file() {
            return Err(Refused::NotRegular(if ft.is_dir() {
                "a folder"
            } else {
                "a FIFO, a device or a socket"
            }));
        }
        if meta.len() > limit {
            return Err(Refused::TooLarge(meta.len()));
        }
        let mut data = Vec::with_capacity(meta.len() as usize);
        let mut f = f;
        f.by_ref()
            .take(limit + 1)
            .read_to_end(&mut data)
            .map_err(|e| Refused::Io(e.to_string()))?;
        if data.len() as u64 > limit {
            return Err(Refused::TooLarge(data.len() as u64));
        }
        Ok(data)
    }

    /// Whether `rel` leads out of the folder by its own words or through a symbolic link (for
    /// naming why an open was refused; the open itself is what keeps it in).
    fn escapes(&self, rel: &str) -> bool {
        let p = Path::new(rel);
        if p.is_absolute()
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return true;
        }
        let mut at = PathBuf::new();
        for c in p.components() {
            at.push(c);
            if self.kind(&at.to_string_lossy()) == Kind::Symlink {
                return true;
            }
        }
        false
    }
}

/// Refuses `path` as where a command writes (`what`: "the export", "the backup") unless it is
/// safe to: never a device, FIFO, socket or symbolic link, never the workspace database or its
/// log (`workspace` tells), and an existing file only with `force`. `folder`: the target is a
/// folder of files (which must be a folder or missing).
pub fn check_output(
    path: &Path,
    what: &str,
    force: bool,
    folder: bool,
    workspace: &dyn Fn(&Path) -> bool,
) -> Result<(), AppError> {
    let name = path.display();
    if workspace(path) {
        return Err(AppError::refused(format!(
            "{name} is the workspace database itself (or one of its files); {what} goes to another file"
        )));
    }
    match Kind::of(path) {
        Kind::Missing => Ok(()),
        Kind::Dir if folder => Ok(()),
        Kind::Dir => Err(AppError::refused(format!(
            "{name} is a folder; {what} is one file: give a file name"
        ))),
        Kind::File if folder => Err(AppError::refused(format!(
            "{name} is a file; {what} is a folder of files: give a folder"
        ))),
        Kind::File if force => Ok(()),
        Kind::File => Err(AppError::Refusal(Refusal::Exists {
            path: name.to_string(),
            what: what.to_string(),
            in_folder: false,
        })),
        other => Err(AppError::refused(format!(
            "{name} is {}; {what} never replaces one: give a regular file name",
            other.describe()
        ))),
    }
}

/// Refuses writing `file` (one file of a folder export) over anything but a missing file, or a
/// regular file with `force`.
pub fn check_file_in_folder(file: &Path, force: bool) -> Result<(), AppError> {
    match Kind::of(file) {
        Kind::Missing => Ok(()),
        Kind::File if force => Ok(()),
        Kind::File => Err(existing_in_folder(file)),
        other => Err(AppError::refused(format!(
            "{} is {}; an export never replaces one",
            file.display(),
            other.describe()
        ))),
    }
}

/// The refusal to write over `file`, one file of a folder export that is there already.
pub fn existing_in_folder(file: &Path) -> AppError {
    AppError::Refusal(Refusal::Exists {
        path: file.display().to_string(),
        what: "an export".into(),
        in_folder: true,
    })
}

/// The prefix of the temporary files exports write beside their targets: `.assay-export-PID-…`.
pub const TEMP_PREFIX: &str = ".assay-export-";

/// The prefix for this process's temporary files.
pub fn temp_prefix() -> String {
    format!("{TEMP_PREFIX}{}-", std::process::id())
}

/// Removes the temporary files an interrupted export (a process no longer running) left in
/// `dir`; returns how many.
pub fn clean_stale(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(process_alive);
        if !alive
            && e.file_type().is_ok_and(|t| t.is_file())
            && std::fs::remove_file(e.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        Path::new(&format!("/proc/{pid}")).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        // Without /proc, a file of another process is left alone.
        let _ = pid;
        true
    }
}

/// A private folder for copies of evidence handed to the system's opener: made fresh (mode
/// 0700, an unpredictable name), its files created new (mode 0600, never through an existing
/// name or link), removed with everything in it when dropped.
pub struct PrivateDir {
    dir: tempfile::TempDir,
}

impl PrivateDir {
    pub fn new() -> std::io::Result<PrivateDir> {
        let dir = tempfile::Builder::new().prefix("assay-open-").tempdir()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(PrivateDir { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `bytes` as a new file named after `name` (made safe) in the folder.
    pub fn write(&self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        use std::io::Write;
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || ".-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let safe = safe.trim_start_matches('.');
        let safe = if safe.is_empty() { "evidence" } else { safe };
        // A name already used in this session gets a number.
        let mut path = self.dir.path().join(safe);
        let mut n = 1;
        while std::fs::symlink_metadata(&path).is_ok() {
            n += 1;
            path = self.dir.path().join(format!("{n}-{safe}"));
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&path)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_and_refuses_the_rest() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.yaml");
        std::fs::write(&f, b"hello").unwrap();
        assert_eq!(read_regular(&f, 10).unwrap(), b"hello");
        assert_eq!(
            read_regular(&f, 3),
            Err(FileError::TooLarge { size: 5, limit: 3 })
        );
        assert_eq!(
            read_regular(d.path(), 10),
            Err(FileError::NotRegular("a folder"))
        );
        assert_eq!(
            read_regular(&d.path().join("none"), 10),
            Err(FileError::Missing)
        );
        #[cfg(unix)]
        assert_eq!(
            read_regular(Path::new("/dev/zero"), 10),
            Err(FileError::NotRegular("a device"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("p");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let e = read_regular(&fifo, 10).unwrap_err();
        assert!(format!("{e:?}").contains("FIFO"), "{e:?}");
        let folder = Folder::open(d.path()).unwrap();
        assert!(matches!(folder.read("p", 10), Err(Refused::NotRegular(_))));
    }

    #[cfg(unix)]
    #[test]
    fn nothing_outside_the_folder_is_read() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"secret").unwrap();
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/ok.md"), b"ok").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), d.path().join("out")).unwrap();
        std::os::unix::fs::symlink("sub/ok.md", d.path().join("in")).unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("dirlink")).unwrap();
        let f = Folder::open(d.path()).unwrap();
        assert_eq!(f.read("sub/ok.md", 10).unwrap(), b"ok");
        assert_eq!(
            f.read("in", 10).unwrap(),
            b"ok",
            "a link inside is followed"
        );
        assert_eq!(f.read("out", 10), Err(Refused::Outside));
        assert_eq!(f.read("dirlink/secret", 10), Err(Refused::Outside));
        assert_eq!(f.read("../secret", 10), Err(Refused::Outside));
        let abs = outside.path().join("secret");
        assert_eq!(f.read(&abs.to_string_lossy(), 10), Err(Refused::Outside));
        assert_eq!(f.read("none", 10), Err(Refused::Missing));
        assert_eq!(f.read("sub", 10), Err(Refused::NotRegular("a folder")));
    }

    #[test]
    fn outputs_are_never_special_files_nor_replaced_silently() {
        let d = tempfile::tempdir().unwrap();
        let none = |_: &Path| false;
        let f = d.path().join("x.csv");
        assert!(check_output(&f, "the export", false, false, &none).is_ok());
        std::fs::write(&f, b"x").unwrap();
        let e = check_output(&f, "the export", false, false, &none).unwrap_err();
        assert!(
            matches!(
                &e,
                AppError::Refusal(Refusal::Exists {
                    in_folder: false,
                    ..
                })
            ),
            "{e}"
        );
        assert!(check_output(&f, "the export", true, false, &none).is_ok());
        assert!(check_output(d.path(), "the export", false, true, &none).is_ok());
        assert!(check_output(&f, "the export", true, true, &none).is_err());
        let ws = |p: &Path| p == f;
        let e = check_output(&f, "the backup", true, false, &ws).unwrap_err();
        assert!(e.to_string().contains("workspace database itself"), "{e}");
        #[cfg(unix)]
        {
            let l = d.path().join("link");
            std::os::unix::fs::symlink(&f, &l).unwrap();
            let e = check_output(&l, "the export", true, false, &none).unwrap_err();
            assert!(e.to_string().contains("symbolic link"), "{e}");
            let e =
                check_output(Path::new("/dev/null"), "the export", true, false, &none).unwrap_err();
            assert!(e.to_string().contains("device"), "{e}");
        }
    }

    #[test]
    fn stale_temporary_files_are_removed_but_live_ones_kept() {
        let d = tempfile::tempdir().unwrap();
        // pid 0 is never a process of ours
        let stale = d.path().join(format!("{TEMP_PREFIX}999999999-abc"));
        let mine = d.path().join(format!("{}abc", temp_prefix()));
        std::fs::write(&stale, b"half").unwrap();
        std::fs::write(&mine, b"being written").unwrap();
        std::fs::write(d.path().join("keep.json"), b"{}").unwrap();
        assert_eq!(clean_stale(d.path()), 1);
        assert!(!stale.exists() && mine.exists() && d.path().join("keep.json").exists());
    }

    #[test]
    fn private_copies_are_private_and_go_away() {
        let p = PrivateDir::new().unwrap();
        let dir = p.path().to_path_buf();
        let a = p.write("../../etc/passwd", b"x").unwrap();
        let b = p.write("../../etc/passwd", b"y").unwrap();
        assert!(a.starts_with(&dir) && b.starts_with(&dir) && a != b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(m(&dir), 0o700);
            assert_eq!(m(&a), 0o600);
        }
        drop(p);
        assert!(!dir.exists());
    }
}
