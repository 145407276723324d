//! Reading the queue: every portfolio in display order (the person's own work first, then by
//! status in workflow order, then id), with the counts by status.

use std::sync::Arc;

use crate::app::{AppError, Workspace};
use crate::domain::status::Status;
use crate::tui::model::QueueRow;

/// The queue's groups, in the order they are shown: the current person's work first, then by
/// status in workflow order (any status not of the workflow last). A row's place is its
/// group's, then its id's.
const GROUPS: usize = 2 * 8;

fn group_of(r: &QueueRow) -> usize {
    let (others, status) = queue_key(r);
    usize::from(others) * 8 + status.min(7)
}

/// Queue rows of one group, with their row keys, as read.
#[derive(Default)]
struct Group {
    rows: Vec<QueueRow>,
    pks: Vec<i64>,
    /// Each row's id is greater than the one before (true of a workspace read in row-key
    /// order whose ids were given in order, as an import does).
    in_id_order: bool,
}

/// Queue rows read from the workspace, by group, and the count of each status.
pub(super) struct QueuePart {
    groups: Vec<Group>,
    counted: std::collections::BTreeMap<String, i64>,
}

impl QueuePart {
    fn new() -> QueuePart {
        QueuePart {
            groups: (0..GROUPS)
                .map(|_| Group {
                    in_id_order: true,
                    ..Group::default()
                })
                .collect(),
            counted: Default::default(),
        }
    }

    /// Adds the row of portfolio `pk` to its group and counts its status (as the row shows it,
    /// the key `bump` uses when a row changes).
    fn push(&mut self, q: QueueRow, pk: i64) {
        match self.counted.get_mut(&*q.status) {
            Some(c) => *c += 1,
            None => {
                self.counted.insert(q.status.to_string(), 1);
            }
        }
        let g = &mut self.groups[group_of(&q)];
        if g.rows.last().is_some_and(|last| last.id >= q.id) {
            g.in_id_order = false;
        }
        g.rows.push(q);
        g.pks.push(pk);
    }
}

/// Reads the queue rows (those whose row key is in `range`, when given), in row-key order,
/// each into its group.
pub(super) fn read_queue(
    ws: &Workspace,
    user: &str,
    range: Option<(i64, i64)>,
) -> Result<QueuePart, AppError> {
    let mut part = QueuePart::new();
    // The "rubric@version" label, sanitised once per rubric rather than once per row.
    let mut labels: std::collections::HashMap<i64, Arc<str>> = Default::default();
    let add = |r: &crate::app::query::Row| {
        let label = labels
            .entry(r.rubric_pk)
            .or_insert_with(|| QueueRow::label(r));
        part.push(QueueRow::with_label(r, user, label.clone()), r.pk);
    };
    match range {
        Some((from, to)) => ws.for_each_queue_row_in(from, to, add)?,
        None => ws.for_each_queue_row(None, add)?,
    }
    Ok(part)
}

/// The rows of `parts` (read from consecutive ranges of row keys) in queue order, with their
/// row keys and the count of each status. When every group's ids rise from part to part (the
/// usual case) the groups are only put one after the other; otherwise the rows are sorted.
pub(super) fn in_queue_order(
    parts: Vec<QueuePart>,
) -> (
    Vec<QueueRow>,
    Vec<i64>,
    std::collections::BTreeMap<String, i64>,
) {
    let mut counted = std::collections::BTreeMap::new();
    let mut groups: Vec<Vec<Group>> = (0..GROUPS).map(|_| Vec::new()).collect();
    for part in parts {
        for (status, c) in part.counted {
            *counted.entry(status).or_default() += c;
        }
        for (i, g) in part.groups.into_iter().enumerate() {
            if !g.rows.is_empty() {
                groups[i].push(g);
            }
        }
    }
    let ordered = groups.iter().all(|gs| {
        gs.iter().all(|g| g.in_id_order)
            && gs
                .windows(2)
                .all(|w| match (w[0].rows.last(), w[1].rows.first()) {
                    (Some(a), Some(b)) => a.id < b.id,
                    _ => true,
                })
    });
    let total: usize = groups.iter().flatten().map(|g| g.rows.len()).sum();
    let (mut rows, mut pks) = (Vec::with_capacity(total), Vec::with_capacity(total));
    for g in groups.iter_mut().flatten() {
        rows.append(&mut g.rows);
        pks.append(&mut g.pks);
    }
    if !ordered {
        // (rows already grouped; sorted within by id)
        let mut idx: Vec<u32> = (0..rows.len() as u32).collect();
        idx.sort_by(|&a, &b| {
            let (a, b) = (&rows[a as usize], &rows[b as usize]);
            (group_of(a), &a.id).cmp(&(group_of(b), &b.id))
        });
        permute(&mut rows, &mut pks, &idx);
    }
    (rows, pks, counted)
}

/// Where a row goes in the queue: the current person's work first, then by status in workflow
/// order (then by id).
pub(super) fn queue_key(r: &QueueRow) -> (bool, usize) {
    (!r.mine, Status::work_order_of(&r.status))
}

/// Adds `delta` to the count of `status`, keeping the counts as `Workspace::counts` gives them:
/// by status in workflow order, none at zero.
pub(super) fn bump(counts: &mut Vec<(String, i64)>, status: &str, delta: i64) {
    match counts.iter().position(|(s, _)| s == status) {
        Some(i) => {
            counts[i].1 += delta;
            if counts[i].1 <= 0 {
                counts.remove(i);
            }
        }
        None if delta > 0 => {
            let k = (Status::order_of(status), status);
            let at = counts.partition_point(|(s, _)| (Status::order_of(s), s.as_str()) < k);
            counts.insert(at, (status.to_string(), delta));
        }
        None => {}
    }
}

/// The haystacks of the queue's rows (given by row key, in queue order), from the workspace.
pub(super) fn read_haystacks(ws: &Workspace, pks: &[i64]) -> Result<Vec<String>, AppError> {
    let at: std::collections::HashMap<i64, usize> =
        pks.iter().enumerate().map(|(i, &pk)| (pk, i)).collect();
    let mut hay = vec![String::new(); pks.len()];
    ws.for_each_search_text(|pk, text| {
        if let Some(&i) = at.get(&pk) {
            hay[i] = text.to_string();
        }
    })?;
    Ok(hay)
}

/// Puts `a` and `b` in the order `idx` gives (the element at position `p` becomes the one that
/// was at `idx[p]`), in place, following the permutation's cycles.
fn permute<A, B>(a: &mut [A], b: &mut [B], idx: &[u32]) {
    let mut done = vec![false; idx.len()];
    for i in 0..idx.len() {
        let mut j = i;
        while !done[j] {
            done[j] = true;
            let k = idx[j] as usize;
            if k == i {
                break;
            }
            a.swap(j, k);
            b.swap(j, k);
            j = k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::sync::Arc;

    fn queue_row(id: &str, status: &'static str, mine: bool) -> QueueRow {
        QueueRow {
            id: id.into(),
            learner: "L".into(),
            rubric: Arc::from("r@1"),
            submitted: "2026-01-01".into(),
            status: Cow::Borrowed(status),
            outcome: Cow::Borrowed(""),
            mine,
            score: Default::default(),
            grade: Default::default(),
            assessor: Default::default(),
            second_done: false,
        }
    }

    /// A part as `read_queue` makes it from rows given in row-key order (row key = position).
    fn part(rows: &[(&str, &'static str, bool)], first_pk: i64) -> QueuePart {
        let mut part = QueuePart::new();
        for (i, (id, status, mine)) in rows.iter().enumerate() {
            part.push(queue_row(id, status, *mine), first_pk + i as i64);
        }
        part
    }

    fn order(parts: Vec<QueuePart>) -> Vec<(String, i64)> {
        let (rows, pks, _) = in_queue_order(parts);
        rows.iter().map(|r| r.id.to_string()).zip(pks).collect()
    }

    #[test]
    fn queue_order_is_mine_first_then_status_then_id_from_either_path() {
        let a = [
            ("P-1", "released", false),
            ("P-2", "new", false),
            ("P-3", "in_progress", true),
            ("P-4", "new", false),
        ];
        let b = [
            ("P-5", "submitted", true),
            ("P-6", "new", false),
            ("P-7", "odd", false),
        ];
        let expected: Vec<(String, i64)> = [
            ("P-3", 3),
            ("P-5", 5),
            ("P-2", 2),
            ("P-4", 4),
            ("P-6", 6),
            ("P-1", 1),
            ("P-7", 7),
        ]
        .iter()
        .map(|(id, pk)| (id.to_string(), *pk))
        .collect();
        // Ids rising with the row keys: the groups are put one after the other.
        assert_eq!(order(vec![part(&a, 1), part(&b, 5)]), expected);
        // The same rows read with ids out of order (renamed): sorted instead.
        let shuffled_a = [a[3], a[2], a[1], a[0]];
        let shuffled_b = [b[2], b[1], b[0]];
        let (rows, pks, counted) = in_queue_order(vec![part(&shuffled_b, 5), part(&shuffled_a, 1)]);
        let got: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            got,
            expected
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
        );
        // Each row keeps its own row key through the sort.
        for (r, pk) in rows.iter().zip(&pks) {
            let i = shuffled_a
                .iter()
                .position(|x| x.0 == r.id)
                .map(|p| 1 + p as i64)
                .or_else(|| {
                    shuffled_b
                        .iter()
                        .position(|x| x.0 == r.id)
                        .map(|p| 5 + p as i64)
                });
            assert_eq!(Some(*pk), i, "{}", r.id);
        }
        assert_eq!(counted["new"], 3);
    }
}
