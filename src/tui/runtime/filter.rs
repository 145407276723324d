//! The fuzzy filter worker: ranks the queue's search texts off the render path, always on the
//! newest query, narrowing from the last result when the query grows.

use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

use crate::app::query::{SearchTexts, fuzzy_rank};
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

/// The workbench's queue as the filter worker needs it: the workspace file, and the row key of
/// the portfolio at each position of the queue. The worker ranks the search texts as they stream
/// from the database instead of keeping them all in memory.
pub(super) struct QueueOrder {
    pub(super) db: std::path::PathBuf,
    pub(super) pks: Vec<i64>,
}

/// [`filter`] over the search texts in the database, for the queue in `order`: the same ranking
/// (ties by queue position, or, when narrowing from `prev`, by the order of `prev`).
fn filter_streaming(
    query: &str,
    order: &Arc<QueueOrder>,
    prev: Option<&[usize]>,
    streaming: &mut Option<Streaming>,
    texts: &mut Option<SearchTexts>,
) -> Vec<usize> {
    if !streaming
        .as_ref()
        .is_some_and(|s| Arc::ptr_eq(&s.order, order))
    {
        let mut by_pk: Vec<(i64, u32)> = order
            .pks
            .iter()
            .enumerate()
            .map(|(i, &pk)| (pk, i as u32))
            .collect();
        by_pk.sort_unstable();
        *streaming = Some(Streaming {
            order: order.clone(),
            by_pk,
        });
    }
    let Some(s) = streaming.as_ref() else {
        return Vec::new();
    };
    if texts.as_ref().is_none_or(|t| t.db() != order.db) {
        *texts = SearchTexts::open(&order.db);
    }
    let Some(open) = texts.as_mut() else {
        return Vec::new();
    };
    // When narrowing: each candidate's place in the previous result, which breaks ties.
    let rank: Option<Vec<u32>> = prev.map(|p| {
        let mut r = vec![0u32; order.pks.len()];
        for (k, &pos) in p.iter().enumerate() {
            if let Some(x) = r.get_mut(pos) {
                *x = k as u32 + 1;
            }
        }
        r
    });
    let pick = |pk: i64| -> Option<u64> {
        let i = s.by_pk.binary_search_by_key(&pk, |&(k, _)| k).ok()?;
        let pos = s.by_pk[i].1;
        match &rank {
            Some(r) => match r[pos as usize] {
                0 => None,
                k => Some(u64::from(k - 1)),
            },
            None => Some(u64::from(pos)),
        }
    };
    match open.rank(query, pick, usize::MAX) {
        Ok(hits) => hits
            .into_iter()
            .map(|(_, key)| match prev {
                Some(p) => p[key as usize],
                None => key as usize,
            })
            .collect(),
        Err(_) => {
            // (the connections may be gone — a server restarted: opened again next time)
            *texts = None;
            Vec::new()
        }
    }
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

/// What the worker keeps for a queue order: (row key, position) by row key.
struct Streaming {
    order: Arc<QueueOrder>,
    by_pk: Vec<(i64, u32)>,
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
        let mut last: Option<Previous> = None;
        let mut streamed: Option<(String, Arc<QueueOrder>, Vec<usize>)> = None;
        let mut streaming: Option<Streaming> = None;
        let mut texts: Option<SearchTexts> = None;
        while let Ok(mut req) = rx.recv() {
            while let Ok(newer) = rx.try_recv() {
                req = newer;
            }
            let (generation, query, hay) = req;
            let order = slot.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let matched = match order {
                Some(order) => {
                    let prev = streamed.take().filter(|(q, o, _)| {
                        Arc::ptr_eq(o, &order) && query.starts_with(q.as_str()) && !q.is_empty()
                    });
                    let m = filter_streaming(
                        &query,
                        &order,
                        prev.as_ref().map(|(_, _, m)| m.as_slice()),
                        &mut streaming,
                        &mut texts,
                    );
                    streamed = Some((query, order, m.clone()));
                    m
                }
                None => {
                    let m = filter(&query, &hay, last.as_ref());
                    last = Some((query, hay, m.clone()));
                    m
                }
            };
            if out
                .send(Msg::Filtered {
                    generation,
                    matched,
                })
                .is_err()
            {
                break;
            }
        }
    });
    ftx
}
