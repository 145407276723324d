//! The workbench's state, the messages that change it and the commands (effects) that `update`
//! asks the runtime to perform. Nothing here does I/O.

use std::borrow::Cow;

use compact_str::CompactString;
use std::sync::Arc;

use crossterm::event::KeyEvent;

use super::editor::TextArea;
use super::evidence::{Doc, EvidenceView};
use super::keys::Ctx;
use super::theme::Theme;
use crate::app::export::Format;
use crate::app::mark::{Change, Sheet};
use crate::app::moderation::{RubricStats, Stage, Waiting};
use crate::app::query::{Access, EvidenceItem, Row, Settlement};
use crate::app::refusal::Refusal;
use crate::domain::decision::{Evaluation, Outcome};
use crate::domain::phase::Phase;
use crate::domain::rubric::Rubric;
use crate::domain::status::Status;

/// One queue row, sanitised once on load.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub pk: i64,
    // (short texts, kept inline: a large queue makes no allocation for most rows)
    pub id: CompactString,
    pub learner: CompactString,
    /// `id@version`, one text shared by the rows of a rubric.
    pub rubric: Arc<str>,
    pub submitted: CompactString,
    /// A status of the workflow, or (in a workspace changed by hand) whatever is there,
    /// sanitised; borrowed, so that a large queue does not hold 100,000 copies of a few words.
    pub status: Cow<'static, str>,
    /// An outcome, `(blind)` or empty, the same way.
    pub outcome: Cow<'static, str>,
    pub mine: bool,
    /// The score and grade of the decision, when there is one the person may see.
    /// (formatted when a row is drawn: formatting 100,000 scores on load would cost the first
    /// frame)
    pub score: Option<f64>,
    pub grade: CompactString,
    /// Who the portfolio is allocated to (or who first-marked it).
    pub assessor: CompactString,
    /// For drawn portfolios: whether the second marks are in (awaiting settlement).
    pub second_done: bool,
}

impl QueueRow {
    pub fn from_row(r: &Row, user: &str) -> QueueRow {
        Self::with_label(r, user, Self::label(r))
    }

    /// The rubric as a row shows it (`id@version`, sanitised): the same for every row of a
    /// rubric, so a large queue makes it once per rubric and passes it to [`Self::with_label`].
    pub fn label(r: &Row) -> Arc<str> {
        crate::domain::sanitize::sanitize_line(&format!("{}@{}", r.rubric, r.rubric_version)).into()
    }

    pub fn with_label(r: &Row, user: &str, rubric: Arc<str>) -> QueueRow {
        use crate::domain::sanitize::sanitize_line as s;
        /// `text` borrowed from `known` when it is one of them, else sanitised.
        fn one_of(known: &[&'static str], text: &str) -> Cow<'static, str> {
            match known.iter().find(|k| **k == text) {
                Some(k) => Cow::Borrowed(k),
                None => Cow::Owned(s(text)),
            }
        }
        let short =
            |text: &str| CompactString::from(crate::domain::sanitize::sanitize_line_cow(text));
        QueueRow {
            pk: r.pk,
            id: short(&r.id),
            learner: short(&r.learner_name),
            rubric,
            submitted: short(&r.submitted),
            status: one_of(&Status::NAMES, &r.status),
            outcome: match (&r.outcome, r.blind_hidden) {
                (_, true) => Cow::Borrowed("(blind)"),
                (Some(o), _) => one_of(
                    &[
                        Outcome::Awarded.as_str(),
                        Outcome::NotYet.as_str(),
                        Outcome::Referred.as_str(),
                        "",
                    ],
                    o,
                ),
                (None, _) => Cow::Borrowed(""),
            },
            mine: r.assessor.as_deref() == Some(user) || r.first_marker.as_deref() == Some(user),
            score: r.score.filter(|_| !r.blind_hidden),
            grade: match (&r.grade, r.blind_hidden) {
                (Some(g), false) => short(g),
                _ => CompactString::default(),
            },
            assessor: short(
                r.assessor
                    .as_deref()
                    .or(r.first_marker.as_deref())
                    .unwrap_or(""),
            ),
            second_done: r.second_done,
        }
    }
}

/// What the queue keeps of every portfolio, whatever the size of the workspace: enough to order
/// it, to filter it by status and rubric and to find the row when it comes on screen (24 bytes
/// a portfolio; the texts of the rows are read only for the rows on or near the screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueKey {
    pub pk: i64,
    /// The place of the portfolio's id among all the queue's ids (byte order): the order within
    /// a group, without keeping the ids.
    pub rank: u32,
    /// The status's text, an index into [`Queue::names`].
    pub status: u32,
    /// The rubric's label (`id@version`), an index into [`Queue::names`].
    pub rubric: u32,
    /// Allocated to the person or first-marked by them.
    pub mine: bool,
}

impl QueueKey {
    /// The queue's group of a row — the person's own work first, then by what needs doing —
    /// given its status's text: rows are ordered by (group, rank).
    pub fn group(mine: bool, status: &str) -> usize {
        usize::from(!mine) * 100 + Status::work_order_of(status).min(99)
    }
}

/// What a [`QueueRow`] says of its portfolio's place in the queue: (group, id).
pub fn row_place(r: &QueueRow) -> (usize, &str) {
    (QueueKey::group(r.mine, &r.status), &r.id)
}

/// A set of positions among the queue's keys, a bit each.
pub struct Bits(Vec<u64>);

impl Bits {
    pub fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    pub fn set(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }
    pub fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

/// The keys a queue shows, as positions in its keys, in display order.
#[derive(Debug, Clone)]
pub enum Visible {
    /// All of the first `n` keys, in order (nothing narrows the queue).
    All(usize),
    /// These.
    These(Arc<Vec<usize>>),
}

impl Default for Visible {
    fn default() -> Visible {
        Visible::All(0)
    }
}

impl From<Vec<usize>> for Visible {
    fn from(v: Vec<usize>) -> Visible {
        Visible::These(Arc::new(v))
    }
}

impl Visible {
    pub fn len(&self) -> usize {
        match self {
            Visible::All(n) => *n,
            Visible::These(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key shown at `pos`.
    pub fn get(&self, pos: usize) -> Option<usize> {
        match self {
            Visible::All(n) => (pos < *n).then_some(pos),
            Visible::These(v) => v.get(pos).copied(),
        }
    }

    /// The keys shown at the positions `range` (clamped to what is shown), in order.
    pub fn slice(&self, range: std::ops::Range<usize>) -> VisibleIter<'_> {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        match self {
            Visible::All(_) => VisibleIter::All(start..end),
            Visible::These(v) => VisibleIter::These(v[start..end].iter()),
        }
    }

    /// Every key shown, in order.
    pub fn iter(&self) -> VisibleIter<'_> {
        self.slice(0..self.len())
    }
}

/// The keys of a [`Visible`], in order.
pub enum VisibleIter<'a> {
    All(std::ops::Range<usize>),
    These(std::slice::Iter<'a, usize>),
}

impl Iterator for VisibleIter<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        match self {
            VisibleIter::All(r) => r.next(),
            VisibleIter::These(i) => i.next().copied(),
        }
    }

    fn nth(&mut self, n: usize) -> Option<usize> {
        match self {
            VisibleIter::All(r) => r.nth(n),
            VisibleIter::These(i) => i.nth(n).copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            VisibleIter::All(r) => r.size_hint(),
            VisibleIter::These(i) => i.size_hint(),
        }
    }
}

impl ExactSizeIterator for VisibleIter<'_> {}

#[derive(Debug, Clone, Default)]
pub struct Queue {
    /// Every portfolio, in display order.
    pub keys: Vec<QueueKey>,
    /// The texts the keys name (statuses and rubric labels), each once.
    pub names: Vec<Arc<str>>,
    /// The rows of the portfolios on or near the screen (all of them in a small queue), by row
    /// key: the runtime reads them as the screen moves ([`Queue::window`]).
    pub shown: std::collections::HashMap<i64, QueueRow>,
    /// Indices into `keys` that pass the filters, in display order (every key, in order, when
    /// nothing narrows the queue; shared with `matched` when only the fuzzy filter does: a
    /// million positions are neither made nor copied).
    pub visible: Visible,
    pub selected: usize,
    pub filter: String,
    /// The filter input has the keyboard.
    pub typing: bool,
    /// A fuzzy filter is being computed off the render path.
    pub filtering: bool,
    pub filter_gen: u64,
    /// The filter run whose results `matched` holds (the first results of a run select the
    /// first row; those that follow refine them).
    pub results_gen: u64,
    /// The portfolio (row key) to select again when the next run's first results come: set when
    /// the queue's rows changed under a filter (the same query runs again), not when the query
    /// changes.
    pub hold: Option<i64>,
    /// Rows passing the fuzzy filter (all when no filter), before status and rubric filters.
    pub matched: Option<Arc<Vec<usize>>>,
    /// Rows whose documents' texts hold the filter's words (for `filter_gen`), shown after
    /// the fuzzy matches.
    pub in_documents: Vec<usize>,
    pub status_filter: Option<String>,
    pub rubric_filter: Option<String>,
    pub rubrics: Vec<String>,
    pub counts: Vec<(String, i64)>,
    /// The counts by status of what the filters leave shown (None: no filter, see `counts`).
    pub shown_counts: Option<Vec<(String, i64)>>,
    /// The moderator's view: only drawn portfolios, with their stage.
    pub moderation: bool,
}

impl Queue {
    /// The text of a name of the keys ("" for none).
    pub fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", |n| n)
    }

    /// The index of `text` among the names, added when new.
    pub fn intern(&mut self, text: &str) -> u32 {
        match self.names.iter().position(|n| **n == *text) {
            Some(i) => i as u32,
            None => {
                self.names.push(text.into());
                (self.names.len() - 1) as u32
            }
        }
    }

    /// The key of `row`, whose id has the place `rank` among the ids.
    pub fn key_of(&mut self, row: &QueueRow, rank: u32) -> QueueKey {
        QueueKey {
            pk: row.pk,
            rank,
            status: self.intern(&row.status),
            rubric: self.intern(&row.rubric),
            mine: row.mine,
        }
    }

    /// The key shown at `pos` (a position among the visible rows).
    pub fn key_at(&self, pos: usize) -> Option<&QueueKey> {
        self.keys.get(self.visible.get(pos)?)
    }

    /// The row shown at `pos`, when it has been read.
    pub fn row_at(&self, pos: usize) -> Option<&QueueRow> {
        self.shown.get(&self.key_at(pos)?.pk)
    }

    /// Puts `rows` (in display order) in place of the queue's, keeping them all.
    pub fn set_rows(&mut self, rows: Vec<QueueRow>) {
        let mut by_id: Vec<u32> = (0..rows.len() as u32).collect();
        by_id.sort_by(|&a, &b| rows[a as usize].id.cmp(&rows[b as usize].id));
        let mut rank = vec![0u32; rows.len()];
        for (r, &i) in by_id.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        self.names.clear();
        self.keys = rows
            .iter()
            .zip(rank)
            .map(|(r, rank)| self.key_of(r, rank))
            .collect();
        self.shown = rows.into_iter().map(|r| (r.pk, r)).collect();
    }

    /// The positions among the visible rows that the screen may show with the selection where
    /// it is, and a screen's height of margin each side (so that a step or a page away is read
    /// already): what the runtime reads rows for.
    pub fn window(&self, height: u16) -> std::ops::Range<usize> {
        let h = usize::from(height).max(1);
        let from = self.selected.saturating_sub(2 * h);
        let to = (self.selected + 2 * h + 1).min(self.visible.len());
        from..to.max(from)
    }
}

impl QueueRow {
    /// Where a portfolio stands in moderation, for the moderator's queue.
    pub fn stage(&self) -> &'static str {
        crate::app::moderation::Stage::of(&self.status, self.second_done).label()
    }
}

/// Which pane of the assessment screen has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Criteria,
    Levels,
    Evidence,
}

/// What the lower right pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lower {
    Evidence,
    Statement,
    Coverage,
}

/// The saved-state of the marks on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Nothing written since the portfolio was opened.
    Untouched,
    /// The last change was committed: everything on screen is.
    Saved,
    /// A change is being committed.
    Saving,
    /// The last change failed; nothing of it was written.
    Failed(String),
}

/// A document on show in the evidence pane: its key (the evidence's SHA-256, or
/// [`STATEMENT`]), the opened document and where the reader is in it.
#[derive(Clone)]
pub struct Shown {
    pub key: String,
    pub doc: Arc<Doc>,
    pub view: EvidenceView,
    /// The view's last message, once it was passed on to the message line.
    pub said: Option<String>,
}

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shown({}, {} bytes)", self.key, self.doc.len())
    }
}

/// The key of the reflective statement among the documents on show.
pub const STATEMENT: &str = "statement";

#[derive(Debug, Clone)]
pub struct Assess {
    pub id: String,
    /// Its row key (the queue's keys name portfolios by it).
    pub pk: i64,
    pub learner: String,
    pub learner_id: String,
    pub rubric: Arc<Rubric>,
    /// The marking this person works on (first or second).
    pub phase: Phase,
    /// What they may do with it: mark, settle, or only read (and why).
    pub access: Access,
    /// Where the portfolio stands in moderation.
    pub stage: Stage,
    /// The marking of `phase`.
    pub sheet: Sheet,
    pub version: i64,
    pub eval: Evaluation,
    pub status: String,
    pub evidence_changed: bool,
    /// Index into criteria then gates.
    pub selected: usize,
    pub pane: Pane,
    pub lower: Lower,
    pub evidence: Vec<EvidenceItem>,
    /// Evidence index shown, within the claims of the selected criterion (or all).
    pub evidence_pos: usize,
    /// The evidence pane goes through all the portfolio's evidence, not only the selected
    /// criterion's.
    pub all_evidence: bool,
    /// The levels pane's own scroll (display lines).
    pub levels_scroll: u16,
    /// The coverage pane's scroll.
    pub scroll: u16,
    pub statement: Option<String>,
    /// The document on show in the evidence pane (or the statement), when it is a text.
    pub shown: Option<Shown>,
    /// A few documents opened before, with where the reader was in each: going back to one
    /// costs nothing.
    pub recent: Vec<Shown>,
    /// The evidence being read from the workspace (its SHA-256).
    pub loading: Option<String>,
    /// The picture on show in the evidence pane (a photo or scan the learner sent).
    pub picture: Option<crate::tui::screen::assess::picture::Picture>,
    /// The picture being read and decoded (its SHA-256).
    pub picture_loading: Option<String>,
    /// The evidence pane fills the screen.
    pub zoom: bool,
    /// The rubric grid is shown (criteria × levels); the level column under the cursor.
    pub grid: Option<usize>,
    /// Inverse changes, newest last.
    pub undo: Vec<Change>,
    /// Changes undone, to make again (newest last); a new change clears them.
    pub redo: Vec<Change>,
    pub saved: Saved,
    /// Blind second marking hides the first marks.
    pub blind: bool,
    /// The first marking, when this person may see it and works on the second.
    pub first: Option<Sheet>,
    /// The settlement, once moderation is settled.
    pub settlement: Option<Settlement>,
    /// For the first marking of an amended decision: the decision in force instead (the
    /// second marking's), said on screen so that the superseded one is not taken for it.
    pub superseded: Option<String>,
    /// Why the draw took it (withheld under blind rules until second marks are in).
    pub draw_reason: Option<String>,
    /// The settlement screen shows the claimed evidence of the selected criterion.
    pub settle_evidence: bool,
    /// The settlement screen's detail pane scroll.
    pub settle_scroll: u16,
}

impl Assess {
    pub fn items(&self) -> usize {
        self.rubric.criteria.len() + self.rubric.gates.len()
    }
    pub fn selected_criterion(&self) -> Option<usize> {
        (self.selected < self.rubric.criteria.len()).then_some(self.selected)
    }
    pub fn selected_gate(&self) -> Option<usize> {
        self.selected.checked_sub(self.rubric.criteria.len())
    }
    /// Evidence claimed for the selected criterion (indices into `evidence`); all evidence when
    /// a gate is selected.
    pub fn claimed(&self) -> Vec<usize> {
        match self.selected_criterion() {
            Some(_) if self.all_evidence => (0..self.evidence.len()).collect(),
            Some(ci) => {
                let id = &self.rubric.criteria[ci].id;
                let mut v: Vec<usize> = self
                    .evidence
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.shows(id))
                    .map(|(i, _)| i)
                    .collect();
                // Text evidence first: its text is shown at once.
                v.sort_by_key(|&i| !self.evidence[i].is_text);
                v
            }
            None => (0..self.evidence.len()).collect(),
        }
    }
    /// The evidence item on show.
    pub fn shown_evidence(&self) -> Option<usize> {
        let c = self.claimed();
        c.get(self.evidence_pos.min(c.len().saturating_sub(1)))
            .copied()
    }
    /// The moderator's side-by-side settlement: second marks submitted (or settled), first
    /// marks visible.
    pub fn settling(&self) -> bool {
        self.phase == Phase::Second
            && matches!(self.stage, Stage::AwaitingSettlement | Stage::Settled)
            && self.first.is_some()
    }
    /// The marking may be changed by this person now.
    pub fn editable(&self) -> bool {
        self.access == Access::Mark
    }
    /// Why the marking may not be changed (None: it may).
    pub fn readonly_reason(&self) -> Option<&str> {
        match &self.access {
            Access::Read(why) => Some(why),
            Access::Settle => {
                Some("the second marks are submitted: settle with C (confirm) or A (amend)")
            }
            Access::Mark => None,
        }
    }
    pub fn level_of(&self, criterion: &str) -> Option<&str> {
        self.sheet
            .marks
            .get(criterion)
            .and_then(|(l, _)| l.as_deref())
    }
    pub fn feedback_of(&self, criterion: &str) -> Option<&str> {
        self.sheet
            .marks
            .get(criterion)
            .and_then(|(_, f)| f.as_deref())
    }
}

/// Whether a save is a new change, an undo or a redo (where its inverse goes once saved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    New,
    Undo,
    Redo,
}

/// What the built-in editor is editing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditTarget {
    Feedback(String),
    Comment,
    Rationale(Outcome),
    /// The rationale of amending a first decision to the second marks.
    Amend,
}

#[derive(Debug, Clone)]
pub enum Dialog {
    /// The keys, those of `ctx` (where it was opened) first; scrolls with j/k.
    Help { scroll: u16, ctx: Ctx },
    /// The messages of this session.
    Messages { scroll: u16 },
    /// The submit confirmation.
    Submit,
    /// Confirm the first decision (settlement).
    Confirm,
    /// Choose an outcome over the rule's.
    Refer { choice: usize },
    /// The built-in editor, with the text it began with; `asking`: the text changed and the
    /// person closed it, so it asks whether to save, discard or keep editing.
    Edit {
        target: EditTarget,
        area: TextArea,
        original: String,
        asking: bool,
    },
    /// Release: how many decisions, which rubric.
    ConfirmRelease { count: usize, waiting: usize },
    /// Export: which format, how many, where.
    ConfirmExport {
        format: Format,
        count: usize,
        target: String,
    },
    /// A message that needs acknowledging.
    Notice(String),
    /// The workspace is empty: load the built-in samples?
    OfferSamples,
    /// The comment bank for a criterion: a fuzzy filter over the saved comments.
    Bank {
        criterion: String,
        items: Vec<crate::app::bank::Comment>,
        query: String,
        selected: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Queue,
    /// Marking (or reading) a portfolio; its settlement when second marks are in.
    Assess,
    Stats,
    Export,
}

/// The release and export screen: what release would do, what is ready per format, where the
/// files go, and the run in progress.
#[derive(Debug, Clone, Default)]
pub struct ExportView {
    pub ready: Vec<(Format, usize)>,
    /// Where each format's files go (beside the workspace).
    pub targets: Vec<(Format, String)>,
    /// What release would do: the decisions it would release, and those that wait and why.
    pub release: Option<(Vec<String>, Vec<Waiting>)>,
    pub selected: usize,
    /// (what, done, total) while a release or an export runs.
    pub running: Option<(String, usize, usize)>,
    pub result: Option<(String, bool)>,
}

/// Messages kept in the session's log.
pub const LOG_LEN: usize = 500;

/// Severity of the status message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Good,
    Bad,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub user: String,
    pub db_name: String,
    pub screen: Screen,
    pub queue: Queue,
    pub assess: Option<Assess>,
    pub stats: Vec<RubricStats>,
    /// Which rubric the statistics screen shows.
    pub stats_pos: usize,
    /// The statistics screen's scroll.
    pub stats_scroll: u16,
    pub export: ExportView,
    pub dialog: Option<Dialog>,
    /// The message of the last action, kept until the next.
    pub message: Option<(String, Tone)>,
    /// Every message of this session, oldest first (at most [`LOG_LEN`]).
    pub log: Vec<(String, Tone)>,
    pub width: u16,
    pub height: u16,
    pub theme: Theme,
    /// `$EDITOR` is set: long text goes to it.
    pub external_editor: bool,
    /// How pictures are drawn in this terminal (`None`: they are not).
    pub picker: Option<ratatui_image::picker::Picker>,
    pub quit: bool,
    /// Why the workspace cannot be reached just now (a server restarting): said on a line of
    /// its own under the title until it is back.
    pub connection: Option<String>,
}

impl Model {
    pub fn new(user: String, db_name: String, theme: Theme, external_editor: bool) -> Model {
        Model {
            user,
            db_name,
            screen: Screen::Queue,
            queue: Queue::default(),
            assess: None,
            stats: Vec::new(),
            stats_pos: 0,
            stats_scroll: 0,
            export: ExportView::default(),
            dialog: None,
            message: None,
            log: Vec::new(),
            width: 80,
            height: 24,
            theme,
            external_editor,
            picker: None,
            quit: false,
            connection: None,
        }
    }

    pub fn info(&mut self, m: impl Into<String>) {
        self.say(m.into(), Tone::Info);
    }
    pub fn good(&mut self, m: impl Into<String>) {
        self.say(m.into(), Tone::Good);
    }
    pub fn bad(&mut self, m: impl Into<String>) {
        self.say(m.into(), Tone::Bad);
    }
    fn say(&mut self, text: String, tone: Tone) {
        if self.log.len() == LOG_LEN {
            self.log.remove(0);
        }
        self.log.push((text.clone(), tone));
        self.message = Some((text, tone));
    }
}

/// A freshly loaded queue.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The rows read: every row (when `keys` is `None`, in display order), or those of the
    /// screen.
    pub rows: Vec<QueueRow>,
    /// Every portfolio's key, in display order, and the names they use; `None`: `rows` are all.
    pub keys: Option<(Vec<QueueKey>, Vec<Arc<str>>)>,
    pub counts: Vec<(String, i64)>,
    pub rubrics: Vec<String>,
    /// The portfolio to select.
    pub select: Option<String>,
}

/// The queue brought up to date from the portfolios changed since it was read: each changed
/// row moves from where it was to its new place (see [`shift`]) and is replaced there, in
/// order; the counts are the new ones.
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub moves: Vec<Moved>,
    pub counts: Vec<(String, i64)>,
    /// The portfolio to select.
    pub select: Option<String>,
    /// Its row, when the runtime read it (so that `update` finds it by its id).
    pub selected_row: Option<QueueRow>,
}

/// One changed row of the queue: it was at `from` and is now `row`, at `to` (positions in the
/// queue as the moves before this one left it).
#[derive(Debug, Clone)]
pub struct Moved {
    pub from: usize,
    pub to: usize,
    pub row: QueueRow,
}

/// Moves the element at `from` to `to`, the ones between closing up: what a [`Moved`] does to
/// the queue's rows, and the runtime to what it keeps beside them in the same order.
pub fn shift<T>(v: &mut [T], from: usize, to: usize) {
    if to >= from {
        v[from..=to].rotate_left(1);
    } else {
        v[to..=from].rotate_right(1);
    }
}

/// What a refused change was: the refusal is worded for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doing {
    /// Saving a change (the screen then shows the marking as stored, on a conflict).
    Save,
    Submit,
    Settle,
}

/// Everything that can happen to the workbench. Messages live for one `update`; their size
/// does not matter.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Msg {
    Key(KeyEvent),
    /// The audit chain's head moved to `head` (someone, perhaps the person, changed something).
    Live {
        head: i64,
    },
    /// The workspace cannot be reached (why), or can again (`None`).
    Connection(Option<String>),
    Paste(String),
    Resize(u16, u16),
    /// The queue was (re)loaded.
    QueueLoaded(Box<Loaded>),
    /// The whole queue, read on a thread while the first screen showed (the runtime puts it in
    /// place, then it arrives as `QueueLoaded`).
    QueueRead(Box<crate::tui::runtime::Whole>),
    /// Reading the whole queue on its thread failed (why): the runtime reads it here instead.
    QueueReadFailed(String),
    /// The queue was brought up to date with the portfolios changed since it was loaded.
    QueueRefreshed(Box<Refreshed>),
    /// A fuzzy filter finished.
    Filtered {
        generation: u64,
        /// (shared with the filter's worker, which narrows the next query from it)
        matched: Arc<Vec<usize>>,
        /// The scan is over: `matched` is every match. Until then it is the best so far.
        done: bool,
    },
    /// The portfolios whose documents' texts hold the filter's words.
    InDocuments {
        generation: u64,
        pks: Vec<i64>,
    },
    /// A portfolio was opened.
    Opened(Box<Assess>),
    /// A change was committed; the portfolio now has this version and these marks.
    Saved {
        version: i64,
        sheet: Sheet,
        eval: Evaluation,
        /// The change that takes this one back, and where it goes.
        undo: Option<Change>,
        history: History,
        note: Option<String>,
    },
    /// Submission recorded.
    Submitted {
        summary: String,
    },
    /// A link of evidence to a criterion made or taken away.
    Linked {
        summary: String,
    },
    /// A change (a save, a submission, a settlement) failed: nothing of it was written.
    SaveFailed(String),
    /// A change was refused by a rule (nothing of it was written): the screen words it, with
    /// its keys.
    Refused {
        doing: Doing,
        refusal: Refusal,
    },
    /// Something else failed (reading, opening a file): a message only.
    Failed(String),
    /// Evidence was read from the workspace and opened.
    EvidenceLoaded(Box<Shown>),
    /// Evidence could not be read.
    EvidenceFailed {
        key: String,
        error: String,
    },
    /// An action done, said on the message line (a comment saved to the bank).
    Done(String),
    /// A picture was read and decoded (or could not be).
    PictureLoaded {
        key: String,
        image: Result<Arc<image::DynamicImage>, String>,
    },
    /// Time for a bounded step of long work in the evidence view (counting, searching).
    Step,
    /// `$EDITOR` could not be used: the built-in editor takes the text instead.
    EditorFailed {
        target: EditTarget,
        text: String,
        error: String,
    },
    /// The workspace holds nothing: offer the built-in samples.
    OfferSamples,
    /// The external editor returned.
    Edited {
        target: EditTarget,
        text: String,
    },
    /// The first-run notice.
    Notice(String),
    StatsLoaded(Vec<RubricStats>),
    /// What is ready to export per format, and where each goes.
    ExportReady {
        ready: Vec<(Format, usize)>,
        targets: Vec<(Format, String)>,
    },
    /// What a release would do.
    ReleaseReady(Vec<String>, Vec<Waiting>),
    /// A release finished: the summary, and whether it succeeded.
    Released(String, bool),
    ExportProgress {
        done: usize,
        total: usize,
    },
    /// A release or an export finished: the summary, and whether it succeeded.
    ExportDone(String, bool),
    /// Moderation settled.
    Settled(String),
    /// The comment bank of a criterion was read.
    BankLoaded {
        criterion: String,
        items: Vec<crate::app::bank::Comment>,
    },
}

/// Effects `update` asks for; the runtime performs them and answers with messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    LoadQueue {
        select: Option<String>,
    },
    /// Others changed the workspace (the chain's head is now `head`): bring the queue and the
    /// open portfolio up to date.
    CatchUp {
        head: i64,
    },
    /// The workspace can be reached again: connect the person's own connection again, then
    /// catch up.
    Reconnect,
    Filter {
        generation: u64,
        query: String,
    },
    Open {
        id: String,
    },
    /// Open the portfolio of row key `pk` (a row of the queue not read yet).
    OpenPk {
        pk: i64,
    },
    /// Save `change` to the marking `phase` of portfolio `id`, as last seen at `version`.
    Save {
        id: String,
        phase: Phase,
        version: i64,
        change: Change,
        /// The change that takes it back (the marks before it).
        undo: Option<Change>,
        history: History,
    },
    SaveCursor {
        id: String,
        phase: Phase,
        cursor: i64,
    },
    Submit {
        id: String,
        phase: Phase,
        version: i64,
    },
    /// Link (`on`) or unlink evidence `evidence` of portfolio `id` to `criterion`, as last seen
    /// at `version`.
    Link {
        id: String,
        evidence: String,
        criterion: String,
        on: bool,
        version: i64,
    },
    /// Run `$EDITOR` on this text.
    EditExternal {
        target: EditTarget,
        text: String,
    },
    OpenExternal {
        sha: String,
        name: String,
    },
    /// Read and open a text evidence file for the evidence pane.
    LoadEvidence {
        sha: String,
        name: String,
    },
    /// Read and decode a picture for the evidence pane.
    LoadPicture {
        sha: String,
    },
    /// Load the built-in samples into the (empty) workspace.
    Seed,
    LoadStats,
    /// Count what is ready to export, and what a release would do.
    LoadExport,
    /// Export `format` to `target`: the place the confirmation named.
    RunExport {
        format: Format,
        target: String,
    },
    Release,
    /// Settle portfolio `id` (as seen at `version`): confirm the first decision, or amend it with
    /// a rationale.
    Settle {
        id: String,
        version: i64,
        amend: Option<String>,
    },
    /// Save a criterion's feedback as a comment of the person's bank.
    SaveComment {
        id: String,
        criterion: String,
        text: String,
    },
    /// Read the comment bank of a criterion (with the level chosen, for its own comments).
    LoadBank {
        id: String,
        criterion: String,
        level: Option<String>,
    },
    /// Remember which portfolio is open (None: the queue), so a restart returns there.
    Remember {
        open: Option<String>,
    },
    Quit,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, outcome: Option<&str>) -> Row {
        Row {
            id: "P-1\u{1b}[31m".into(),
            learner_id: "L-1".into(),
            learner_name: "Zofia\u{202e}".into(),
            rubric: "r".into(),
            rubric_version: "1".into(),
            submitted: "2026-01-01\u{7}".into(),
            status: status.into(),
            assessor: Some("ann".into()),
            outcome: outcome.map(str::to_string),
            grade: None,
            score: None,
            evidence_changed: false,
            pk: 1,
            rubric_pk: 1,
            first_marker: None,
            blind_hidden: false,
            second_done: false,
        }
    }

    #[test]
    fn queue_rows_borrow_known_words_and_sanitise_everything_else() {
        let q = QueueRow::from_row(&row("submitted", Some("awarded")), "ann");
        assert!(matches!(q.status, Cow::Borrowed("submitted")));
        assert!(matches!(q.outcome, Cow::Borrowed("awarded")));
        assert!(q.mine);
        let odd = QueueRow::from_row(&row("weird\u{1b}]0;pwn\u{7}", Some("x\u{9b}2J")), "bob");
        for text in [
            odd.id.as_str(),
            &odd.learner,
            &odd.submitted,
            &odd.status,
            &odd.outcome,
        ] {
            assert!(
                !text.chars().any(crate::domain::sanitize::is_forbidden_char),
                "{text:?}"
            );
        }
        assert!(odd.status.starts_with("weird"));
        assert!(!odd.mine);
    }
}
