//! Release and export: what release would do, what is ready per format and where it goes; each
//! asks first, shows its progress and says what it did.

pub mod view;

use crate::app::export::Format;
use crate::tui::keys::Action;
use crate::tui::model::{Cmd, Dialog, Model, Screen};

/// What a format's files are, in a few words.
pub fn about(f: Format) -> &'static str {
    match f {
        Format::Obv3 => "Open Badges 3.0 credentials, one JSON file per awarded decision",
        Format::Elm => "European Learning Model credentials, one JSON-LD file per awarded decision",
        Format::Csv => "one CSV row per decision, for student records",
        Format::Jsonl => "one complete JSON record per line",
        Format::Feedback => "one Markdown letter per learner",
        Format::Obv3Signed => "Open Badges 3.0 credentials signed with the issuer's key",
        Format::Obv3Jwt => "Open Badges 3.0 credentials as signed VC-JWTs",
        Format::Credly => "Credly's bulk issue CSV",
        Format::Canvas => "Canvas Credentials' bulk award CSV",
    }
}

pub fn available(m: &Model, a: Action) -> bool {
    let idle = m.export.running.is_none();
    match a {
        Action::Release => {
            idle && m
                .export
                .release
                .as_ref()
                .is_some_and(|(r, _)| !r.is_empty())
        }
        Action::Open => {
            idle && m
                .export
                .ready
                .get(m.export.selected)
                .is_some_and(|(_, n)| *n > 0)
        }
        Action::Back => idle,
        Action::Up | Action::Down | Action::Refresh | Action::Search => true,
        _ => false,
    }
}

pub fn action(m: &mut Model, a: Action) -> Vec<Cmd> {
    let idle = m.export.running.is_none();
    let e = &mut m.export;
    let n = e.ready.len();
    match a {
        Action::Down => e.selected = (e.selected + 1).min(n.saturating_sub(1)),
        Action::Up => e.selected = e.selected.saturating_sub(1),
        Action::Refresh => return vec![Cmd::LoadExport],
        _ if !idle => m.info("wait: the release or export under way finishes first"),
        Action::Back => {
            m.screen = Screen::Queue;
            return vec![Cmd::LoadQueue { select: None }];
        }
        Action::Release => match &e.release {
            Some((ready, waiting)) if !ready.is_empty() => {
                m.dialog = Some(Dialog::ConfirmRelease {
                    count: ready.len(),
                    waiting: waiting.len(),
                })
            }
            Some((_, waiting)) => {
                let msg = if waiting.is_empty() {
                    "nothing to release: no decision is ready".to_string()
                } else {
                    format!(
                        "nothing to release: {} decision(s) wait — {}",
                        waiting.len(),
                        waiting
                            .iter()
                            .take(3)
                            .map(|w| format!("{} {}", w.id, w.why))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                };
                m.info(msg);
            }
            None => m.info("still counting what is ready"),
        },
        Action::Open => match e.ready.get(e.selected).copied() {
            Some((f, 0)) => m.info(format!("nothing new to export as {}", f.as_str())),
            Some((f, count)) => {
                let target = e
                    .targets
                    .iter()
                    .find(|(g, _)| *g == f)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_else(|| "exports/".into());
                m.dialog = Some(Dialog::ConfirmExport {
                    format: f,
                    count,
                    target,
                });
            }
            None => m.info("still counting what is ready"),
        },
        _ => {}
    }
    vec![]
}
