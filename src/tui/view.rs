//! `view`: draws the model. Pure — the same model always draws the same frame. All text from
//! portfolios was sanitised when it entered the model.
//!
//! Every screen has the same frame: a title line (with, when the marking is read only, why),
//! the screen's body, the message of the last action on lines of its own (wrapped, never cut),
//! a status line and two lines of key hints written from the key table. Each screen's body is
//! drawn by its folder in `screen/`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::keys;
use super::model::{Model, Screen};
use super::screen::{assess, dialogs, export, queue, settle, stats};
use super::update;
use super::widgets::{clip, tone_style, width, wrap_text};
use crate::domain::sanitize::sanitize_line;

pub const MIN_W: u16 = 80;
pub const MIN_H: u16 = 24;
/// Lines of key hints.
pub const HINT_LINES: u16 = 2;
/// The most lines a message takes; a longer one ends with a pointer to the log (`M`).
pub const MESSAGE_LINES: usize = 5;

/// Where the parts of the frame go.
#[derive(Debug, Clone, Copy)]
pub struct Areas {
    pub title: Rect,
    pub body: Rect,
    pub message: Rect,
    pub status: Rect,
    pub hints: Rect,
}

/// The frame's layout for the model as it is: `update` asks it too, so that panes (the
/// evidence view) know their size before they are drawn.
pub fn areas(m: &Model) -> Areas {
    let (w, h) = (m.width, m.height);
    let title_h = 1 + header_lines(m).len() as u16;
    let msg_h = message_lines(m).len() as u16;
    let fixed = title_h + msg_h + 1 + HINT_LINES;
    let body_h = h.saturating_sub(fixed);
    let row = |y: u16, height: u16| Rect {
        x: 0,
        y,
        width: w,
        height,
    };
    let body = row(title_h, body_h);
    let message = row(title_h + body_h, msg_h);
    let status = row(title_h + body_h + msg_h, 1);
    let hints = row(title_h + body_h + msg_h + 1, HINT_LINES);
    Areas {
        title: row(0, title_h),
        body,
        message,
        status,
        hints,
    }
}

/// The message as it is shown: wrapped to the width, at most [`MESSAGE_LINES`].
pub fn message_lines(m: &Model) -> Vec<Line<'static>> {
    let Some((text, tone)) = &m.message else {
        return vec![];
    };
    let w = usize::from(m.width).saturating_sub(2).max(10);
    let style = tone_style(m.theme, *tone);
    let mut lines = wrap_text(&sanitize_line(text), style, w, 2);
    if lines.len() > MESSAGE_LINES {
        lines.truncate(MESSAGE_LINES - 1);
        lines.push(Line::from(Span::styled(
            "  … the rest in the message log: M".to_string(),
            m.theme.dim(),
        )));
    }
    lines
        .into_iter()
        .map(|l| {
            let mut spans = vec![Span::raw(" ")];
            spans.extend(l.spans);
            Line::from(spans)
        })
        .collect()
}

/// Lines under the title: on a marking the person may not change, why; on a first marking an
/// amendment superseded, the decision in force.
fn header_lines(m: &Model) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if m.connection.is_some() {
        let w = usize::from(m.width).saturating_sub(2).max(10);
        let mut l = wrap_text(
            "connection lost — reconnecting; nothing is saved until it is back",
            m.theme.bad(),
            w,
            2,
        );
        l.truncate(2);
        lines.extend(l);
    }
    lines.extend(reason_lines(m));
    if let (Screen::Assess, Some(a)) = (&m.screen, &m.assess)
        && let Some(s) = &a.superseded
    {
        let w = usize::from(m.width).saturating_sub(2).max(10);
        let mut l = wrap_text(
            &format!("this first marking was superseded: {s}"),
            m.theme.warn(),
            w,
            2,
        );
        l.truncate(2);
        lines.extend(l);
    }
    lines
}

fn reason_lines(m: &Model) -> Vec<Line<'static>> {
    match (&m.screen, &m.assess) {
        (Screen::Assess, Some(a))
            if !(a.settling() && a.stage == crate::app::moderation::Stage::Settled) =>
        {
            match &a.access {
                crate::app::query::Access::Read(why) => {
                    let w = usize::from(m.width).saturating_sub(2).max(10);
                    let mut l = wrap_text(
                        &format!("read only — {}", sanitize_line(why)),
                        m.theme.warn(),
                        w,
                        2,
                    );
                    // (the whole reason: it says what to do)
                    l.truncate(4);
                    l
                }
                _ => vec![],
            }
        }
        _ => vec![],
    }
}

pub fn view(m: &Model, f: &mut Frame) {
    let area = f.area();
    if area.width < MIN_W || area.height < MIN_H {
        let msg = Paragraph::new(vec![
            Line::from(Span::styled(
                "assay needs a larger terminal",
                m.theme.title(),
            )),
            Line::from(format!(
                "at least {MIN_W}×{MIN_H}; this one is {}×{}",
                area.width, area.height
            )),
            Line::from(if m.dialog.is_some() {
                "enlarge the window: keys wait until then, and nothing typed is lost"
            } else {
                "enlarge the window (keys wait until then), or press q to quit — every change is saved"
            }),
        ])
        .wrap(Wrap { trim: true });
        f.render_widget(msg, area);
        return;
    }
    let a = areas(m);
    let title = match (m.screen, &m.assess) {
        (Screen::Assess, Some(x)) => assess::view::title(x),
        (Screen::Stats, _) => "assay · agreement between first and second marks".to_string(),
        (Screen::Export, _) => "assay · release and export".to_string(),
        _ => format!("assay · queue · {}", sanitize_line(&m.db_name)),
    };
    title_bar(m, f, a.title, &title);
    match (m.screen, &m.assess) {
        (Screen::Assess, Some(x)) if x.settling() => {
            settle::view::draw(m, x, f, a.body);
            settle::view::status(m, x, f, a.status);
        }
        (Screen::Assess, Some(x)) => {
            assess::view::draw(m, x, f, a.body);
            assess::view::status(m, x, f, a.status);
        }
        (Screen::Stats, _) => {
            stats::view::draw(m, f, a.body);
            plain_status(m, f, a.status);
        }
        (Screen::Export, _) => {
            export::view::draw(m, f, a.body);
            plain_status(m, f, a.status);
        }
        _ => {
            queue::view::draw(m, f, a.body);
            queue::view::status(m, f, a.status);
        }
    }
    f.render_widget(Paragraph::new(message_lines(m)), a.message);
    hint_bar(m, f, a.hints);
    if let Some(d) = &m.dialog {
        // over the title and body: the message lines stay readable below
        let over = Rect {
            height: a.body.y + a.body.height,
            ..f.area()
        };
        dialogs::view::draw(m, d, f, over);
    }
}

fn title_bar(m: &Model, f: &mut Frame, area: Rect, text: &str) {
    let user = format!(" {} ", sanitize_line(&m.user));
    let w = area.width as usize;
    let room = w.saturating_sub(width(&user) + 1);
    let t = clip(&format!(" {text}"), room);
    let pad = w.saturating_sub(width(&t) + width(&user));
    let mut lines = vec![
        Line::from(vec![
            Span::styled(t, m.theme.title()),
            Span::raw(" ".repeat(pad)),
            Span::styled(user, m.theme.dim()),
        ])
        .style(m.theme.status_bar()),
    ];
    for l in header_lines(m) {
        let mut spans = vec![Span::raw(" ")];
        spans.extend(l.spans);
        lines.push(Line::from(spans));
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// The key hints of where the keyboard is, only those that work now, the most important
/// first when they do not all fit.
fn hint_bar(m: &Model, f: &mut Frame, area: Rect) {
    let ctx = update::ctx(m);
    let hints = if m.dialog.is_some() {
        // a dialog writes its keys in its own footer
        vec![]
    } else if ctx == keys::Ctx::Filter {
        let mut h = vec![("type", "narrows the queue", 0)];
        h.extend(keys::hints(ctx, &|_| true));
        h
    } else {
        keys::hints(ctx, &|a| update::available(m, a))
    };
    let lines: Vec<Line> = keys::fit(&hints, area.width as usize, area.height as usize)
        .into_iter()
        .map(|l| {
            let mut spans = Vec::new();
            for (k, h) in l {
                spans.push(Span::styled(format!(" {k}"), m.theme.key()));
                spans.push(Span::raw(format!(" {h} ")));
            }
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), area);
}

/// The status line of screens without their own: who is working.
fn plain_status(m: &Model, f: &mut Frame, area: Rect) {
    let line = Line::from(Span::styled(
        format!(" {} ", sanitize_line(&m.user)),
        m.theme.status_bar(),
    ));
    f.render_widget(Paragraph::new(line).style(m.theme.status_bar()), area);
}
