//! The workbench, in the Elm style: a [`model::Model`], messages ([`model::Msg`]), a pure
//! [`update::update`], a pure [`view::view`], and a [`runtime::Runtime`] that performs effects.
//! Terminal I/O happens only in this file.

pub mod editor;
pub mod evidence;
pub mod keys;
pub mod model;
pub mod runtime;
pub mod screen;
pub mod theme;
pub mod update;
pub mod view;
pub mod widgets;

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyEventKind};

use crate::app::{AppError, Workspace};
use model::{Cmd, Model, Msg};
use runtime::Runtime;

/// Restores the terminal however the workbench ends.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
        let _ = crossterm::execute!(std::io::stdout(), event::DisableBracketedPaste);
    }
}

fn editor_command() -> Option<String> {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
}

/// Opens the workspace (creating and seeding it on first run) and runs the workbench.
pub fn run(db: &Path, user: String) -> Result<(), AppError> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(AppError::refused(
            "the workbench needs a terminal (its input and output are not one); for scripts, use the commands (`assay --help`)",
        ));
    }
    let started = Instant::now();
    // Memory the workbench frees (a queue read whole on a thread, a filter's results) is given
    // back to the system at once rather than when the thread that freed it next allocates: over a
    // million portfolios it stays at about 70 MB resident instead of about 105 (measured).
    // SAFETY: sets one of mimalloc's options (`mi_option_purge_delay`, 15 in mimalloc 2's
    // mimalloc.h, which the binding does not name); nothing else is touched.
    unsafe {
        const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
    let mut ws = Workspace::open(db, user)?;
    ws.small_page_cache()?;
    ws.checkpoint_in_background()?;
    let mut notice = None;
    if ws.created() {
        let s = crate::app::seed::seed(&mut ws)?;
        notice = Some(format!(
            "Welcome to assay. A new workspace was created at {} and seeded with the built-in samples: {} rubrics and {} portfolios.\nPress ? at any time for the keys.",
            db.display(),
            s.rubrics,
            s.portfolios()
        ));
    }
    let theme = theme::Theme::from_env();
    // (the person as the workspace knows them: on a server the database login)
    let model = Model::new(
        ws.user.clone(),
        ws.place_name(db),
        theme,
        editor_command().is_some(),
    );
    let (tx, rx) = mpsc::channel::<Msg>();
    let tx2 = tx.clone();
    runtime::spawn_watcher(db.to_path_buf(), tx.clone());
    let worker = runtime::spawn_filter_worker(tx);
    let mut rt = Runtime::new(ws, model)
        .with_filter_worker(worker)
        .with_background(db.to_path_buf(), tx2);

    let mut terminal = ratatui::try_init()?;
    let _restore = Restore;
    // (asked once the screen is ours and before any key is read: see picture_for_terminal)
    rt.model.picker = screen::assess::picture::picker_for_terminal();
    let _ = crossterm::execute!(std::io::stdout(), event::EnableBracketedPaste);
    let size = terminal.size()?;
    rt.dispatch(Msg::Resize(size.width, size.height));
    let mut deferred = rt.start();
    if let Some(n) = notice {
        deferred.extend(rt.dispatch(Msg::Notice(n)));
    }
    let mut trace = FrameTrace::from_env(started);
    let mut dirty = true;
    loop {
        for cmd in std::mem::take(&mut deferred) {
            match cmd {
                Cmd::Quit => return Ok(()),
                Cmd::EditExternal { target, text } => {
                    let edited = edit_external(&text);
                    terminal = ratatui::try_init()?;
                    let _ = crossterm::execute!(std::io::stdout(), event::EnableBracketedPaste);
                    terminal.clear()?;
                    dirty = true;
                    match edited {
                        Ok(t) => deferred.extend(rt.dispatch(Msg::Edited { target, text: t })),
                        // a missing or failing editor: the built-in one takes the text
                        Err(error) => deferred.extend(rt.dispatch(Msg::EditorFailed {
                            target,
                            text,
                            error,
                        })),
                    }
                }
                Cmd::OpenExternal { sha, name } => {
                    let msg = match rt.export_blob(&sha, &name) {
                        Ok(path) => match open_with_system(&path) {
                            Ok(()) => Msg::Notice(format!(
                                "Opened {name} with the system's opener (a copy from the workspace: {}).",
                                path.display()
                            )),
                            Err(e) => Msg::Failed(e),
                        },
                        Err(e) => Msg::Failed(e.lines().join("; ")),
                    };
                    deferred.extend(rt.dispatch(msg));
                }
                other => {
                    // Everything else the runtime performs itself; nothing should reach here.
                    let _ = other;
                }
            }
        }
        if rt.model.quit {
            return Ok(());
        }
        if dirty {
            terminal.draw(|f| view::view(&rt.model, f))?;
            if let Some(t) = &mut trace {
                t.drawn();
            }
        }
        dirty = false;
        // Long work of the evidence view (counting lines, a far search) runs in bounded steps
        // between keys; otherwise the loop sleeps in `poll` until something happens, so an idle
        // workbench uses no CPU.
        let busy = rt
            .model
            .assess
            .as_ref()
            .and_then(|a| a.shown.as_ref())
            .is_some_and(|s| s.view.busy());
        // (background work answers on the channel: looked at often while some is under way)
        let m = &rt.model;
        let pending = m.queue.filtering
            || m.assess.as_ref().is_some_and(|a| a.loading.is_some())
            || m.export.running.is_some()
            || (m.screen == model::Screen::Export && m.export.release.is_none());
        let wait = if busy {
            Duration::ZERO
        } else if pending {
            Duration::from_millis(5)
        } else {
            Duration::from_millis(250)
        };
        if event::poll(wait)? {
            dirty = true;
            match event::read()? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    if let Some(t) = &mut trace {
                        t.key(k);
                    }
                    deferred.extend(rt.dispatch(Msg::Key(k)))
                }
                Event::Resize(w, h) => deferred.extend(rt.dispatch(Msg::Resize(w, h))),
                Event::Paste(p) => deferred.extend(rt.dispatch(Msg::Paste(p))),
                Event::Key(_) => dirty = false,
                _ => {}
            }
        } else if busy {
            deferred.extend(rt.dispatch(Msg::Step));
            dirty = true;
        }
        while let Ok(m) = rx.try_recv() {
            dirty = true;
            if let (Some(t), Msg::Filtered { generation, .. }) = (&mut trace, &m)
                && *generation == rt.model.queue.filter_gen
            {
                t.filtered();
            }
            if let (Some(t), Msg::EvidenceLoaded(_)) = (&mut trace, &m) {
                t.evidence();
            }
            deferred.extend(rt.dispatch(m));
        }
    }
}

/// `ASSAY_TRACE_FRAMES=FILE` appends the workbench's frame timings to FILE, one per line, in
/// milliseconds: `first_frame` (from start to the first frame drawn), `key CODE` (from reading
/// a key to the next frame drawn, the work it caused included) and `filtered` (from the key
/// that started a fuzzy filter to the frame that shows its result) and `evidence_shown` (from the key
/// that asked for an evidence document, or the start, to the frame that shows it). For measuring only.
struct FrameTrace {
    out: std::fs::File,
    started: Option<Instant>,
    key: Option<(Instant, String)>,
    last_key: Instant,
    filtered: Option<Instant>,
    evidence: Option<Instant>,
}

impl FrameTrace {
    fn from_env(started: Instant) -> Option<FrameTrace> {
        let path = std::env::var_os("ASSAY_TRACE_FRAMES")?;
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()?;
        Some(FrameTrace {
            out,
            started: Some(started),
            key: None,
            last_key: started,
            filtered: None,
            evidence: None,
        })
    }
    fn key(&mut self, k: event::KeyEvent) {
        self.last_key = Instant::now();
        self.key = Some((self.last_key, format!("{:?}", k.code).replace(' ', "")));
    }
    fn filtered(&mut self) {
        self.filtered = Some(self.last_key);
    }
    fn evidence(&mut self) {
        self.evidence = Some(self.last_key);
    }
    fn drawn(&mut self) {
        let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
        let mut line = String::new();
        if let Some(t) = self.started.take() {
            line.push_str(&format!("first_frame {:.3}\n", ms(t)));
        }
        if let Some((t, code)) = self.key.take() {
            line.push_str(&format!("key {code} {:.3}\n", ms(t)));
        }
        if let Some(t) = self.filtered.take() {
            line.push_str(&format!("filtered {:.3}\n", ms(t)));
        }
        if let Some(t) = self.evidence.take() {
            line.push_str(&format!("evidence_shown {:.3}\n", ms(t)));
        }
        let _ = self.out.write_all(line.as_bytes());
    }
}

/// Suspends the workbench, runs `$VISUAL`/`$EDITOR` on a private temporary file with the
/// terminal's own input and output, and returns the edited text.
fn edit_external(text: &str) -> Result<String, String> {
    ratatui::restore();
    let _ = crossterm::execute!(std::io::stdout(), event::DisableBracketedPaste);
    let editor = editor_command().unwrap_or_else(|| "vi".into());
    (|| -> Result<String, String> {
        let mut tmp = tempfile::Builder::new()
            .prefix("assay-")
            .suffix(".md")
            .tempfile()
            .map_err(|e| e.to_string())?;
        tmp.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
        tmp.flush().map_err(|e| e.to_string())?;
        let mut parts = editor.split_whitespace();
        let prog = parts.next().unwrap_or("vi");
        let status = std::process::Command::new(prog)
            .args(parts)
            .arg(tmp.path())
            .status()
            .map_err(|e| format!("cannot run the editor `{editor}`: {e}"))?;
        if !status.success() {
            return Err(format!(
                "the editor `{editor}` exited with {status}; nothing changed"
            ));
        }
        let out = std::fs::read(tmp.path()).map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    })()
}

fn open_with_system(path: &Path) -> Result<(), String> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let mut child = std::process::Command::new(opener)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot run {opener} to open {} ({e}); over SSH there is no desktop to open it on",
                path.display()
            )
        })?;
    // An opener that fails says so at once (no desktop, no application for the type); one
    // that hands the file to an application may keep running: it is waited for on a thread,
    // so it never lingers as a zombie.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        match child.try_wait() {
            Ok(Some(st)) if st.success() => return Ok(()),
            Ok(Some(st)) => {
                return Err(format!(
                    "{opener} could not open {} ({st}): this machine has no application for it, or no desktop (over SSH)",
                    path.display()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(30)),
            Err(e) => return Err(format!("{opener}: {e}")),
        }
    }
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}
