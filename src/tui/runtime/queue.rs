//! Reading the queue: what it keeps of every portfolio (its key: row key, status, rubric, whether
//! it is the person's own work, and the place of its id) in display order — the person's own
//! work first, then by what needs doing, then id — with the counts by status. The rows' texts are
//! read only for the rows on or near the screen (`Runtime::fill_window`).

use std::sync::Arc;

use compact_str::CompactString;

use crate::app::{AppError, Workspace};
use crate::domain::status::Status;
use crate::tui::model::{QueueKey, QueueRow};

/// The names every part of a queue read starts from: the statuses of the workflow, then the
/// rubrics' labels (`id@version`, sanitised as a row shows them), with the index of each
/// rubric's label by its row key.
#[derive(Clone)]
pub(super) struct BaseNames {
    names: Vec<Arc<str>>,
    rubric_at: std::collections::HashMap<i64, u32>,
}

impl BaseNames {
    pub(super) fn read(ws: &Workspace) -> Result<BaseNames, AppError> {
        let mut names: Vec<Arc<str>> = Status::NAMES.iter().map(|s| Arc::from(*s)).collect();
        let mut rubric_at = std::collections::HashMap::new();
        for (pk, id, version) in ws.rubric_labels()? {
            let label: Arc<str> =
                crate::domain::sanitize::sanitize_line(&format!("{id}@{version}")).into();
            let at = match names.iter().position(|n| *n == label) {
                Some(i) => i,
                None => {
                    names.push(label);
                    names.len() - 1
                }
            };
            rubric_at.insert(pk, at as u32);
        }
        Ok(BaseNames { names, rubric_at })
    }
}

/// Keys read from the workspace, in row-key order, with their ids (for the order) and the
/// names they use (the base's, then any status not of the workflow).
pub(super) struct KeyPart {
    keys: Vec<QueueKey>,
    /// The first and the last id read, and whether each id was greater than the one before
    /// (true of a workspace whose ids were given in order, as an import does): then the ids'
    /// order is the row keys', and no id needs keeping.
    first_id: Option<CompactString>,
    last_id: Option<CompactString>,
    in_order: bool,
    names: Vec<Arc<str>>,
}

/// Reads the keys of the portfolios whose row key is in `range` (all for `None`).
pub(super) fn read_keys(
    ws: &Workspace,
    base: &BaseNames,
    range: Option<(i64, i64)>,
) -> Result<KeyPart, AppError> {
    let mut part = KeyPart {
        keys: Vec::new(),
        first_id: None,
        last_id: None,
        in_order: true,
        names: base.names.clone(),
    };
    let mut missing_rubric = None;
    ws.for_each_queue_key(range, |r| {
        let status = match Status::parse(r.status) {
            Some(s) => s as u32,
            None => {
                // (a status not of the workflow, in a workspace changed by hand: shown sanitised)
                let text = crate::domain::sanitize::sanitize_line(r.status);
                match part.names.iter().position(|n| **n == *text) {
                    Some(i) => i as u32,
                    None => {
                        part.names.push(text.into());
                        (part.names.len() - 1) as u32
                    }
                }
            }
        };
        let Some(&rubric) = base.rubric_at.get(&r.rubric_pk) else {
            missing_rubric = Some(r.rubric_pk);
            return;
        };
        part.keys.push(QueueKey {
            pk: r.pk,
            rank: 0,
            status,
            rubric,
            mine: r.mine,
        });
        match &mut part.last_id {
            Some(last) => {
                part.in_order &= r.id > last.as_str();
                last.clear();
                last.push_str(r.id);
            }
            None => {
                part.first_id = Some(r.id.into());
                part.last_id = Some(r.id.into());
            }
        }
    })?;
    if let Some(pk) = missing_rubric {
        return Err(AppError::no_rubric(pk));
    }
    Ok(part)
}

/// The queue in display order, from parts read from consecutive ranges of row keys: every key
/// (its id's place among the ids filled in), the names they use, the count of each status (in
/// workflow order) and the rubrics' labels that occur (in text order).
#[derive(Clone)]
pub(super) struct Ordered {
    pub(super) keys: Vec<QueueKey>,
    pub(super) names: Vec<Arc<str>>,
    pub(super) counts: Vec<(String, i64)>,
    pub(super) rubrics: Vec<String>,
}

/// `by_id` gives the row keys in id order, when the parts' ids were not read in order.
pub(super) fn in_queue_order(
    parts: Vec<KeyPart>,
    by_id: impl FnOnce() -> Result<Vec<i64>, AppError>,
) -> Result<Ordered, AppError> {
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
        return Ok(Ordered {
            keys: Vec::new(),
            names: Vec::new(),
            counts: Vec::new(),
            rubrics: Vec::new(),
        });
    };
    let KeyPart {
        mut keys,
        mut in_order,
        mut last_id,
        mut names,
        ..
    } = first;
    for p in parts {
        in_order &= p.in_order
            && match (&last_id, &p.first_id) {
                (Some(a), Some(b)) => a < b,
                _ => true,
            };
        if p.last_id.is_some() {
            last_id = p.last_id.clone();
        }
        // (the names a later part added of its own are found or added among the first's)
        let remap: Vec<u32> = p
            .names
            .iter()
            .map(|n| match names.iter().position(|x| x == n) {
                Some(i) => i as u32,
                None => {
                    names.push(n.clone());
                    (names.len() - 1) as u32
                }
            })
            .collect();
        let identity = remap.iter().enumerate().all(|(i, &j)| i as u32 == j);
        keys.extend(p.keys.into_iter().map(|mut k| {
            if !identity {
                k.status = remap[k.status as usize];
                k.rubric = remap[k.rubric as usize];
            }
            k
        }));
    }
    // Each id's place among the ids: its place in row-key order when the ids rise with the row
    // keys (as an import gives them), else as the id index orders them.
    if in_order {
        for (i, k) in keys.iter_mut().enumerate() {
            k.rank = i as u32;
        }
    } else {
        // (the keys are in row-key order here: each found by a binary search; a portfolio
        // imported between the two reads, not among the ids, goes last in its group until the
        // import's record has the queue read again)
        for k in keys.iter_mut() {
            k.rank = u32::MAX;
        }
        for (r, pk) in by_id()?.into_iter().enumerate() {
            if let Ok(i) = keys.binary_search_by_key(&pk, |k| k.pk) {
                keys[i].rank = r as u32;
            }
        }
    }
    // By (group, place of the id): each name's group asked once.
    let group: Vec<[u32; 2]> = names
        .iter()
        .map(|n| {
            [
                QueueKey::group(false, n) as u32,
                QueueKey::group(true, n) as u32,
            ]
        })
        .collect();
    keys.sort_unstable_by_key(|k| (group[k.status as usize][usize::from(k.mine)], k.rank));
    let mut by_status = vec![0i64; names.len()];
    let mut used = vec![false; names.len()];
    for k in &keys {
        by_status[k.status as usize] += 1;
        used[k.rubric as usize] = true;
    }
    // As `Workspace::counts`: by status, in workflow order.
    let mut counts: Vec<(String, i64)> = by_status
        .iter()
        .enumerate()
        .filter(|&(_, &n)| n > 0)
        .map(|(i, &n)| (names[i].to_string(), n))
        .collect();
    counts.sort_by_key(|(s, _)| Status::order_of(s));
    let mut rubrics: Vec<String> = used
        .iter()
        .enumerate()
        .filter(|&(_, &u)| u)
        .map(|(i, _)| names[i].to_string())
        .collect();
    rubrics.sort();
    Ok(Ordered {
        keys,
        names,
        counts,
        rubrics,
    })
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

/// The rows of the portfolios with these row keys, read for the screen.
pub(super) fn read_rows(ws: &Workspace, pks: &[i64]) -> Result<Vec<QueueRow>, AppError> {
    let user = ws.user.clone();
    let mut labels: std::collections::HashMap<i64, Arc<str>> = Default::default();
    let mut rows = Vec::with_capacity(pks.len());
    ws.queue_rows_by_pk(pks, |r| {
        let label = labels
            .entry(r.rubric_pk)
            .or_insert_with(|| QueueRow::label(r))
            .clone();
        rows.push(QueueRow::with_label(r, &user, label));
    })?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A part as `read_keys` makes it from rows given in row-key order (row key = position).
    fn part(rows: &[(&str, &str, bool)], first_pk: i64) -> KeyPart {
        let mut names: Vec<Arc<str>> = Status::NAMES.iter().map(|s| Arc::from(*s)).collect();
        names.push(Arc::from("r@1"));
        let mut keys = Vec::new();
        for (i, (_, status, mine)) in rows.iter().enumerate() {
            let status = match names.iter().position(|n| **n == **status) {
                Some(x) => x as u32,
                None => {
                    names.push(Arc::from(*status));
                    (names.len() - 1) as u32
                }
            };
            keys.push(QueueKey {
                pk: first_pk + i as i64,
                rank: 0,
                status,
                rubric: Status::NAMES.len() as u32,
                mine: *mine,
            });
        }
        KeyPart {
            keys,
            first_id: rows.first().map(|r| r.0.into()),
            last_id: rows.last().map(|r| r.0.into()),
            in_order: rows.windows(2).all(|w| w[0].0 < w[1].0),
            names,
        }
    }

    /// Rows given as (id, status, mine).
    type Rows<'a> = &'a [(&'a str, &'a str, bool)];

    /// The row keys of `parts` (row key = position from `first_pk`) in id order.
    fn by_id(parts: &[(Rows<'_>, i64)]) -> Vec<i64> {
        let mut all: Vec<(&str, i64)> = parts
            .iter()
            .flat_map(|(rows, first)| {
                rows.iter()
                    .enumerate()
                    .map(move |(i, r)| (r.0, first + i as i64))
            })
            .collect();
        all.sort();
        all.into_iter().map(|(_, pk)| pk).collect()
    }

    fn order(parts: Vec<KeyPart>) -> Vec<i64> {
        in_queue_order(parts, || panic!("ids in order: not asked"))
            .unwrap()
            .keys
            .iter()
            .map(|k| k.pk)
            .collect()
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
        // Ids rising with the row keys.
        assert_eq!(
            order(vec![part(&a, 1), part(&b, 5)]),
            vec![3, 5, 2, 4, 6, 1, 7]
        );
        // The same rows with ids out of row-key order (renamed): their order is the ids'.
        let shuffled_a = [a[3], a[2], a[1], a[0]];
        let shuffled_b = [b[2], b[1], b[0]];
        let ids = by_id(&[(&shuffled_a, 1), (&shuffled_b, 5)]);
        let o =
            in_queue_order(vec![part(&shuffled_a, 1), part(&shuffled_b, 5)], || Ok(ids)).unwrap();
        let pks: Vec<i64> = o.keys.iter().map(|k| k.pk).collect();
        // P-3 is pk 2, P-5 pk 7, P-2 pk 3, P-4 pk 1, P-6 pk 6, P-1 pk 4, P-7 pk 5
        assert_eq!(pks, vec![2, 7, 3, 1, 6, 4, 5]);
        assert_eq!(
            o.counts,
            vec![
                ("new".to_string(), 3),
                ("in_progress".to_string(), 1),
                ("submitted".to_string(), 1),
                ("released".to_string(), 1),
                ("odd".to_string(), 1),
            ]
        );
        assert_eq!(o.rubrics, vec!["r@1".to_string()]);
        // A status a later part named on its own is one name of the whole.
        let odd = o.names.iter().filter(|n| &***n == "odd").count();
        assert_eq!(odd, 1);
    }
}
