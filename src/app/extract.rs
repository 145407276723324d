//! Text extraction at import, with a budget. DOCX and ODT are read here (bounded by the zip
//! limits of `domain::extract`); a PDF is read by a child process — the assay binary itself,
//! started as `assay __extract-pdf` — that may use at most [`PDF_MEMORY`] bytes of memory and
//! [`PDF_SECONDS`] seconds of CPU for each PDF, and is killed when a PDF takes longer than that
//! by the clock: a PDF that loops, explodes or crashes the parser is "could not extract", never
//! a hung import. Each import worker keeps its reader for the next PDF (a process per PDF
//! made importing a thousand PDFs five seconds slower); a reader that died or was killed is
//! started again for the next one.
//!
//! Between the two, a request is the PDF's length (8 bytes, little-endian) and its bytes; the
//! answer is one byte (0: the pages, as JSON; 1: why not, as text), the length of what follows
//! and that. (Run from a binary that is not assay — a test harness — the PDF is read on a
//! thread with the same time limit.)

use std::cell::RefCell;
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use crate::domain::extract::{self, Doc, Extracted};

/// How long a PDF may take.
pub const PDF_SECONDS: u64 = 10;
/// How much memory the PDF reader may map.
pub const PDF_MEMORY: u64 = 2 << 30;
/// The hidden command the child runs.
pub const PDF_COMMAND: &str = "__extract-pdf";
/// The largest answer read from the reader.
const MAX_ANSWER: u64 = (extract::MAX_TEXT_BYTES as u64) * 4;

/// The text of `name` if it is a document assay reads: `None` for any other file; an error
/// says plainly why the text could not be taken (the original stays as it is).
pub fn document(name: &str, bytes: &[u8]) -> Option<(Doc, Result<Extracted, String>)> {
    let Some(doc) = Doc::of(name, bytes) else {
        // (named as a document, but not one: said, so that the assessor knows why no text)
        return Doc::named(name).map(|d| {
            (
                d,
                Err(if bytes.is_empty() {
                    "the file is empty".to_string()
                } else {
                    format!(
                        "its bytes are not those of a {} (another kind of file, renamed?)",
                        d.name()
                    )
                }),
            )
        });
    };
    let r = match doc {
        Doc::Docx => extract::docx_text(bytes),
        Doc::Odt => extract::odt_text(bytes),
        Doc::Pdf => pdf(bytes).and_then(|pages| {
            if pages.is_empty() {
                Err("it has no page that can be read (its page tree is broken)".into())
            } else {
                Ok(extract::pdf_text(&pages))
            }
        }),
    };
    Some((doc, r))
}

/// The child's side: requests on standard input, answers on standard output, until standard
/// input ends.
pub fn pdf_child() -> i32 {
    // (a panic in the parser is an answer; its message stays short)
    std::panic::set_hook(Box::new(|_| {}));
    let mut input = std::io::stdin().lock();
    let mut output = std::io::stdout().lock();
    loop {
        let mut len = [0u8; 8];
        if input.read_exact(&mut len).is_err() {
            return 0;
        }
        let len = u64::from_le_bytes(len);
        if len > crate::app::import::MAX_EVIDENCE_BYTES {
            return 1;
        }
        let mut bytes = vec![0u8; len as usize];
        if input.read_exact(&mut bytes).is_err() {
            return 1;
        }
        cpu_budget();
        // (debug builds only: PDFs that hang or crash the reader on purpose, for the tests of
        // what import does then)
        if cfg!(debug_assertions) {
            if bytes.starts_with(b"%PDF-assay-test-hang") {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
            if bytes.starts_with(b"%PDF-assay-test-crash") {
                std::process::abort();
            }
        }
        let (status, body) = match std::panic::catch_unwind(|| extract::pdf_pages(&bytes)) {
            Ok(Ok(pages)) => (0u8, serde_json::to_vec(&pages).unwrap_or_default()),
            Ok(Err(e)) => (1, e.into_bytes()),
            Err(_) => (
                1,
                b"the PDF reader failed on this file (it is malformed or uses what it does not know)"
                    .to_vec(),
            ),
        };
        let sent = output
            .write_all(&[status])
            .and_then(|_| output.write_all(&(body.len() as u64).to_le_bytes()))
            .and_then(|_| output.write_all(&body))
            .and_then(|_| output.flush());
        if sent.is_err() {
            return 1;
        }
    }
}

/// Lets the reader use [`PDF_SECONDS`] (and one) more seconds of CPU from now: the kernel stops
/// a PDF that spins past them even if the parent were gone.
fn cpu_budget() {
    // SAFETY: getrusage and setrlimit only read and write the structures given.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut u) == 0 {
            let used = (u.ru_utime.tv_sec + u.ru_stime.tv_sec) as u64 + 1;
            let l = libc::rlimit {
                rlim_cur: (used + PDF_SECONDS + 1) as libc::rlim_t,
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_CPU, &l);
        }
    }
}

fn is_assay(exe: &std::path::Path) -> bool {
    exe.file_stem().is_some_and(|s| s == "assay")
}

fn pdf(bytes: &[u8]) -> Result<Vec<String>, String> {
    match std::env::current_exe() {
        Ok(exe) if is_assay(&exe) => READER.with(|r| {
            let mut r = r.borrow_mut();
            let result = match r.as_mut() {
                Some(reader) => reader.read(bytes),
                None => Reader::start(&exe).and_then(|reader| r.insert(reader).read(bytes)),
            };
            // (a reader that failed, died or was killed is not asked again)
            if r.as_ref().is_some_and(|reader| reader.broken) {
                *r = None;
            }
            result
        }),
        _ => pdf_on_thread(bytes),
    }
}

fn pdf_on_thread(bytes: &[u8]) -> Result<Vec<String>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = bytes.to_vec();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| extract::pdf_pages(&owned))
            .unwrap_or_else(|_| Err("the PDF reader failed on this file".into()));
        let _ = tx.send(r);
    });
    rx.recv_timeout(Duration::from_secs(PDF_SECONDS))
        .unwrap_or_else(|_| Err(format!("reading it took more than {PDF_SECONDS} s")))
}

thread_local! {
    /// This thread's PDF reader, kept for its next PDF.
    static READER: RefCell<Option<Reader>> = const { RefCell::new(None) };
}

/// A running PDF reader: its input, and its answers as a thread reads them.
struct Reader {
    child: Child,
    input: ChildStdin,
    answers: Receiver<Result<(u8, Vec<u8>), String>>,
    broken: bool,
}

impl Drop for Reader {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Reader {
    fn start(exe: &std::path::Path) -> Result<Reader, String> {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(exe);
        cmd.arg(PDF_COMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .env_clear();
        // SAFETY: between fork and exec only async-signal-safe calls (setrlimit) are made.
        unsafe {
            cmd.pre_exec(|| {
                let lim = |r, n: u64| {
                    let l = libc::rlimit {
                        rlim_cur: n as libc::rlim_t,
                        rlim_max: n as libc::rlim_t,
                    };
                    libc::setrlimit(r, &l);
                };
                lim(libc::RLIMIT_AS, PDF_MEMORY);
                lim(libc::RLIMIT_CORE, 0);
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("the PDF reader could not be started: {e}"))?;
        let input = child.stdin.take().expect("piped");
        let mut output = child.stdout.take().expect("piped");
        let (tx, answers) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            loop {
                let mut head = [0u8; 9];
                if output.read_exact(&mut head).is_err() {
                    let _ = tx.send(Err(
                        "the PDF reader stopped on this file (it ran out of its memory or time budget, or the file is malformed)".into(),
                    ));
                    return;
                }
                let len = u64::from_le_bytes(head[1..].try_into().expect("8 bytes"));
                if len > MAX_ANSWER {
                    let _ = tx.send(Err("its text is larger than assay keeps".into()));
                    return;
                }
                let mut body = vec![0u8; len as usize];
                if output.read_exact(&mut body).is_err() {
                    let _ = tx.send(Err("the PDF reader's answer was cut off".into()));
                    return;
                }
                if tx.send(Ok((head[0], body))).is_err() {
                    return;
                }
            }
        });
        Ok(Reader {
            child,
            input,
            answers,
            broken: false,
        })
    }

    fn read(&mut self, bytes: &[u8]) -> Result<Vec<String>, String> {
        // (the reader reads the whole request before it answers: no deadlock on the pipes)
        let sent = self
            .input
            .write_all(&(bytes.len() as u64).to_le_bytes())
            .and_then(|_| self.input.write_all(bytes))
            .and_then(|_| self.input.flush());
        if sent.is_err() {
            self.broken = true;
            return Err("the PDF reader stopped before it was given the file".into());
        }
        match self.answers.recv_timeout(Duration::from_secs(PDF_SECONDS)) {
            Ok(Ok((0, body))) => serde_json::from_slice(&body).map_err(|_| {
                self.broken = true;
                "the PDF reader's answer could not be read".to_string()
            }),
            Ok(Ok((_, why))) => Err(crate::domain::sanitize::sanitize_line(
                String::from_utf8_lossy(&why).trim(),
            )),
            Ok(Err(e)) => {
                self.broken = true;
                Err(e)
            }
            Err(RecvTimeoutError::Timeout) => {
                self.broken = true;
                Err(format!("reading it took more than {PDF_SECONDS} s"))
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.broken = true;
                Err("the PDF reader stopped on this file".into())
            }
        }
    }
}
