//! The fuzzy filter worker: ranks the queue's search texts off the render path, always on the
//! newest query, narrowing from the last result when the query grows.

use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

use crate::app::query::{SearchTexts, best_first, fuzzy_rank};
use crate::tui::model::Msg;

/// A request to the filter worker: generation, query, haystacks.
pub type FilterReq = (u64, String, Arc<Vec<String>>);
/// The previous filter run: query, haystacks, matches.
pub type Previous = (String, Arc<Vec<String>>, Vec<usize>);

/// The way to the filter worker: its requests, and the slot through which it learns the order of
/// the workbench's queue (see [`Runtime`]).
pub struct FilterTx {
    tx: Sender<FilterReq>,
    slot: Arc<Mutex<Option<Arc<QueueOrder>>>>,
}

impl FilterTx {
    pub fn send(&self, req: FilterReq) -> Result<(), std::sync::mpsc::SendError<FilterReq>> {
        self.tx.send(req)
    }
    pub(super) fn set_order(&self, order: Option<Arc<QueueOrder>>) {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = order;
    }
    pub(super) fn order(&self) -> Option<Arc<QueueOrder>> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The workbench's queue as the filter worker needs it: the workspace file, and the position in
/// the queue of each portfolio by its row key. The worker ranks the search texts as they stream
/// from the database instead of keeping them all in memory.
pub(super) struct QueueOrder {
    pub(super) db: std::path::PathBuf,
    /// How many portfolios the queue holds.
    len: usize,
    /// Each position by row key: dense (the position of row key `base + i` at `i`, `u32::MAX` for
    /// none: 4 bytes a key) when the row keys are dense enough, else (row key, position) sorted.
    base: i64,
    dense: Vec<u32>,
    sorted: Vec<(i64, u32)>,
}

impl QueueOrder {
    /// The order of a queue whose row keys, position by position, are `pks`.
    pub(super) fn new(
        db: std::path::PathBuf,
        pks: impl ExactSizeIterator<Item = i64> + Clone,
    ) -> QueueOrder {
        let len = pks.len();
        let (lo, hi) = pks.clone().fold((i64::MAX, i64::MIN), |(lo, hi), pk| {
            (lo.min(pk), hi.max(pk))
        });
        let span = hi.saturating_sub(lo).saturating_add(1);
        let (mut dense, mut sorted) = (Vec::new(), Vec::new());
        if len > 0 && span <= 4 * len as i64 + 1024 {
            dense = vec![u32::MAX; span as usize];
            for (i, pk) in pks.enumerate() {
                dense[(pk - lo) as usize] = i as u32;
            }
        } else {
            sorted = pks.enumerate().map(|(i, pk)| (pk, i as u32)).collect();
            sorted.sort_unstable();
        }
        QueueOrder {
            db,
            len,
            base: lo,
            dense,
            sorted,
        }
    }

    /// How many portfolios the queue holds.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The queue position of row key `pk`.
    fn position(&self, pk: i64) -> Option<u32> {
        if !self.dense.is_empty() {
            let i = usize::try_from(pk.checked_sub(self.base)?).ok()?;
            return self.dense.get(i).copied().filter(|&p| p != u32::MAX);
        }
        let i = self.sorted.binary_search_by_key(&pk, |&(k, _)| k).ok()?;
        Some(self.sorted[i].1)
    }
}

/// How many row keys one part of a streamed scan covers: the first results show once the
/// first part is ranked.
const PART: i64 = 100_000;
/// How many of the best matches so far a partial result carries (a screen's worth, and more).
const PARTIAL_TOP: usize = 500;
/// The least time between two partial results.
const PARTIAL_EVERY: std::time::Duration = std::time::Duration::from_millis(40);

/// [`filter`] over the search texts in the database, for the queue in `order`: the same ranking
/// (ties by queue position, or, when narrowing from `prev`, by the order of `prev`). The texts
/// are ranked a part of the row keys at a time; after a part, `partial` is given the best
/// matches so far (at most every [`PARTIAL_EVERY`]) and says whether to go on (`false`: a newer
/// query waits, and this one is dropped: `None`).
fn filter_streaming(
    query: &str,
    order: &Arc<QueueOrder>,
    prev: Option<&[usize]>,
    texts: &mut Option<SearchTexts>,
    partial: &mut dyn FnMut(Vec<usize>) -> bool,
) -> Option<Vec<usize>> {
    filter_in_parts(query, order, prev, texts, partial, PART)
}

/// [`filter_streaming`] with parts of `part` row keys.
fn filter_in_parts(
    query: &str,
    order: &Arc<QueueOrder>,
    prev: Option<&[usize]>,
    texts: &mut Option<SearchTexts>,
    partial: &mut dyn FnMut(Vec<usize>) -> bool,
    part: i64,
) -> Option<Vec<usize>> {
    let s = order.as_ref();
    if texts.as_ref().is_none_or(|t| t.db() != order.db) {
        *texts = SearchTexts::open(&order.db);
    }
    let open = texts.as_mut()?;
    // When narrowing: each candidate's place in the previous result, which breaks ties.
    let rank: Option<Vec<u32>> = prev.map(|p| {
        let mut r = vec![0u32; order.len()];
        for (k, &pos) in p.iter().enumerate() {
            if let Some(x) = r.get_mut(pos) {
                *x = k as u32 + 1;
            }
        }
        r
    });
    let pick = |pk: i64| -> Option<u64> {
        let pos = s.position(pk)?;
        match &rank {
            Some(r) => match r[pos as usize] {
                0 => None,
                k => Some(u64::from(k - 1)),
            },
            None => Some(u64::from(pos)),
        }
    };
    // A match's tie-break key as its place in the queue.
    let place = |key: u64| -> usize {
        match prev {
            Some(p) => p[key as usize],
            None => key as usize,
        }
    };
    let to_positions = |hits: Vec<(i64, u64)>| -> Vec<usize> {
        hits.into_iter().map(|(_, key)| place(key)).collect()
    };
    let Ok(range) = open.key_range() else {
        // (the connections may be gone — a server restarted: opened again next time)
        *texts = None;
        return Some(Vec::new());
    };
    let Some((lo, hi)) = range else {
        return Some(Vec::new());
    };
    // Every match so far, packed into 8 bytes (see `pack`): a one-letter query matches nearly
    // every portfolio, a million of them.
    // (room for every match there can be on a first query, so that a million matches are not
    // copied as they grow; for half the candidates when narrowing, which most queries that
    // grow by a letter do not reach)
    let mut hits: Vec<u64> = Vec::with_capacity(prev.map_or(order.len(), |p| p.len() / 2));
    // (the best so far, kept as the parts come: no copy of every match for each partial result)
    let mut top: Vec<(i64, u64)> = Vec::new();
    let mut last = std::time::Instant::now();
    let mut shown = false;
    let mut from = lo;
    loop {
        let to = from.saturating_add(part.max(1) - 1).min(hi);
        match open.rank_in(query, pick, usize::MAX, from, to) {
            Ok(h) => {
                top.extend(best_first(h.clone(), PARTIAL_TOP));
                top = best_first(top, PARTIAL_TOP);
                hits.extend(h.into_iter().map(|(score, key)| pack(score, key)));
            }
            Err(_) => {
                *texts = None;
                return Some(Vec::new());
            }
        }
        if to >= hi {
            break;
        }
        from = to + 1;
        if !shown || last.elapsed() >= PARTIAL_EVERY {
            let best = to_positions(top.clone());
            if !partial(best) {
                return None;
            }
            shown = true;
            last = std::time::Instant::now();
        }
    }
    // (best first, ties to the lower key, as `best_first` orders them; the positions take the
    // matches' place in memory)
    hits.sort_unstable();
    let mut positions: Vec<usize> = hits
        .into_iter()
        .map(|h| place(h & u64::from(u32::MAX)))
        .collect();
    // (the matches' room, which the positions took over, is given back when it is more than
    // twice what they need: the copy is then small)
    if positions.len() < positions.capacity() / 2 {
        positions.shrink_to_fit();
    }
    Some(positions)
}

/// A match (score, tie-break key) as one number that sorts as [`best_first`] orders matches:
/// the higher score first (its distance below `i32::MAX` above), then the lower key (a queue
/// position, below 2³²).
fn pack(score: i64, key: u64) -> u64 {
    let score = score.clamp(i64::from(i32::MIN), i64::from(i32::MAX));
    let below = (i64::from(i32::MAX) - score) as u64;
    (below << 32) | (key & u64::from(u32::MAX))
}

/// Ranks the haystacks against the query, best first. Narrows from a previous result when the
/// query only grew (every match of "abc" is a match of "ab").
pub fn filter(query: &str, hay: &Arc<Vec<String>>, prev: Option<&Previous>) -> Vec<usize> {
    let candidates: Option<&Vec<usize>> = prev
        .filter(|(q, h, _)| Arc::ptr_eq(h, hay) && query.starts_with(q.as_str()) && !q.is_empty())
        .map(|(_, _, m)| m);
    match candidates {
        Some(c) => {
            let subset: Vec<(usize, &str)> = c.iter().map(|&i| (i, hay[i].as_str())).collect();
            fuzzy_rank(query, &subset, |(_, t)| t, usize::MAX)
                .into_iter()
                .map(|(_, k)| subset[k].0)
                .collect()
        }
        None => fuzzy_rank(query, hay.as_slice(), |t| t.as_str(), usize::MAX)
            .into_iter()
            .map(|(_, i)| i)
            .collect(),
    }
}

/// A fuzzy filter worker: always works on the newest request; narrows from the previous result
/// when the new query extends the old one. In the workbench (when the runtime has given it the
/// queue's order) it ranks the search texts as they stream from the database, on two
/// connections, so the haystacks of 100,000 portfolios are never all in memory; otherwise it
/// ranks the haystacks sent with the request.
pub fn spawn_filter_worker(out: Sender<Msg>) -> FilterTx {
    let (tx, rx): (Sender<FilterReq>, Receiver<FilterReq>) = std::sync::mpsc::channel();
    let slot: Arc<Mutex<Option<Arc<QueueOrder>>>> = Arc::default();
    let ftx = FilterTx {
        tx,
        slot: slot.clone(),
    };
    std::thread::spawn(move || {
        super::give_way();
        let mut last: Option<Previous> = None;
        let mut streamed: Option<(String, Arc<QueueOrder>, Arc<Vec<usize>>)> = None;
        let mut texts: Option<SearchTexts> = None;
        // (a request that came while another was being ranked, to be taken next)
        let mut waiting: Option<FilterReq> = None;
        loop {
            let mut req = match waiting.take() {
                Some(r) => r,
                None => match rx.recv() {
                    Ok(r) => r,
                    Err(_) => break,
                },
            };
            while let Ok(newer) = rx.try_recv() {
                req = newer;
            }
            let (generation, query, hay) = req;
            if query.trim().is_empty() {
                // (the filter was cleared: what was kept to narrow from is let go)
                streamed = None;
                last = None;
                continue;
            }
            let order = slot.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let matched = match order {
                Some(order) => {
                    let prev = streamed.take().filter(|(q, o, _)| {
                        Arc::ptr_eq(o, &order) && query.starts_with(q.as_str()) && !q.is_empty()
                    });
                    // The best so far after each part of the scan, until a newer query comes.
                    let mut partial = |best: Vec<usize>| -> bool {
                        if let Ok(newer) = rx.try_recv() {
                            waiting = Some(newer);
                            return false;
                        }
                        out.send(Msg::Filtered {
                            generation,
                            matched: Arc::new(best),
                            done: false,
                        })
                        .is_ok()
                    };
                    let m = filter_streaming(
                        &query,
                        &order,
                        prev.as_ref().map(|(_, _, m)| m.as_slice()),
                        &mut texts,
                        &mut partial,
                    );
                    let Some(m) = m else {
                        continue;
                    };
                    // (kept to narrow the next query from, shared with the screen: not copied)
                    let m = Arc::new(m);
                    streamed = Some((query, order, m.clone()));
                    m
                }
                None => {
                    let m = filter(&query, &hay, last.as_ref());
                    last = Some((query, hay, m.clone()));
                    Arc::new(m)
                }
            };
            if out
                .send(Msg::Filtered {
                    generation,
                    matched,
                    done: true,
                })
                .is_err()
            {
                break;
            }
        }
    });
    ftx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample workspace (12 portfolios), its queue's row keys in some order, and the
    /// haystacks in that order.
    fn sample() -> (tempfile::TempDir, Arc<QueueOrder>, Arc<Vec<String>>) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.db");
        let mut ws = crate::app::Workspace::open(&db, "ann".into()).unwrap();
        crate::app::seed::seed(&mut ws).unwrap();
        let mut pks = Vec::new();
        ws.for_each_queue_key(None, |k| pks.push(k.pk)).unwrap();
        // (an order that is not the row keys')
        pks.reverse();
        let hay = super::super::queue::read_haystacks(&ws, &pks).unwrap();
        (
            dir,
            Arc::new(QueueOrder::new(db, pks.iter().copied())),
            Arc::new(hay),
        )
    }

    #[test]
    fn a_streamed_filter_shows_the_best_so_far_then_exactly_what_the_whole_ranking_finds() {
        let (_dir, order, hay) = sample();
        for query in ["a", "kovac", "pt", "zzzz"] {
            let want = filter(query, &hay, None);
            let mut texts = None;
            let mut parts: Vec<Vec<usize>> = Vec::new();
            let got = filter_in_parts(
                query,
                &order,
                None,
                &mut texts,
                &mut |best| {
                    parts.push(best);
                    true
                },
                3,
            );
            assert_eq!(got.as_ref(), Some(&want), "{query}");
            // (12 row keys in parts of 3: a first result after the first part at least)
            assert!(!parts.is_empty(), "{query}");
            for p in &parts {
                assert!(
                    p.iter().all(|i| want.contains(i)),
                    "{query}: {p:?} not in {want:?}"
                );
            }
            // Narrowing from the last result gives what the ranking in memory narrowed from it
            // gives (ties in the last result's order).
            let longer = format!("{query}e");
            let prev: Previous = (query.to_string(), hay.clone(), want.clone());
            let narrowed =
                filter_in_parts(&longer, &order, Some(&want), &mut texts, &mut |_| true, 5);
            assert_eq!(
                narrowed,
                Some(filter(&longer, &hay, Some(&prev))),
                "{longer}"
            );
        }
    }

    #[test]
    fn packed_matches_sort_as_best_first_orders_them() {
        let all: Vec<(i64, u64)> = vec![
            (5, 3),
            (5, 1),
            (-2, 0),
            (100, 7),
            (0, 2),
            (100, 4),
            (i64::from(i32::MAX), 9),
            (-40, u64::from(u32::MAX)),
        ];
        let mut packed: Vec<u64> = all.iter().map(|&(s, k)| pack(s, k)).collect();
        packed.sort_unstable();
        let keys: Vec<u64> = packed.iter().map(|p| p & u64::from(u32::MAX)).collect();
        let want: Vec<u64> = best_first(all, usize::MAX)
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        assert_eq!(keys, want);
    }

    #[test]
    fn a_streamed_filter_stops_when_told_a_newer_query_waits() {
        let (_dir, order, _) = sample();
        let mut texts = None;
        let mut asked = 0;
        let got = filter_in_parts(
            "a",
            &order,
            None,
            &mut texts,
            &mut |_| {
                asked += 1;
                false
            },
            2,
        );
        assert_eq!(got, None);
        assert_eq!(asked, 1, "dropped at the first chance");
    }
}
