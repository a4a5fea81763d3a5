//! Start-up: series from sled, then the WAL's checkpoint and segments.

use pharos_model::Sample;

use crate::chunkenc::XorAppender;
use crate::head::{ClosedChunk, Head};
use crate::record::{self, Record};
use crate::store::Store;
use crate::{DbOptions, Error};

/// What replay hands to the running storage.
pub(crate) struct Recovered {
    pub(crate) samples: u64,
    pub(crate) next_id: u64,
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
    pub(crate) dirty: Vec<u64>,
    /// Series found only in the WAL: sled gets them on the next flush.
    pub(crate) unsaved: Vec<u64>,
}

pub(crate) struct State<'a> {
    head: &'a Head,
    store: &'a Store,
    opts: &'a DbOptions,
    out: Recovered,
    unknown_series_samples: u64,
}

impl<'a> State<'a> {
    pub(crate) fn new(head: &'a Head, store: &'a Store, opts: &'a DbOptions) -> Self {
        State {
            head,
            store,
            opts,
            out: Recovered {
                samples: 0,
                next_id: 1,
                min_time: i64::MAX,
                max_time: i64::MIN,
                dirty: Vec::new(),
                unsaved: Vec::new(),
            },
            unknown_series_samples: 0,
        }
    }

    fn note(&mut self, id: u64, t: i64) {
        self.out.next_id = self.out.next_id.max(id + 1);
        self.out.min_time = self.out.min_time.min(t);
        self.out.max_time = self.out.max_time.max(t);
    }

    /// Loads every series persisted in sled.
    pub(crate) fn load_persisted(&mut self) -> Result<(), Error> {
        for (id, labels, span) in self.store.load_series()? {
            self.out.next_id = self.out.next_id.max(id + 1);
            let series = self.head.insert(id, &labels);
            if let Some(span) = span {
                let mut s = series.lock();
                s.mint = span.mint;
                s.maxt = span.maxt;
                s.persisted_maxt = span.in_order_maxt;
                s.persisted_until = span.maxt;
                let t = span.in_order_maxt;
                if t != i64::MIN {
                    // The newest persisted in-order sample, so a re-sent
                    // identical sample is recognised as such after a restart.
                    s.last = self
                        .store
                        .chunks(id, t, t, self.opts.max_chunk_span)?
                        .iter()
                        .rev()
                        .filter_map(|c| crate::chunkenc::XorIter::new(c).last())
                        .find(|x| x.t == t)
                        .unwrap_or(Sample::new(t, 0.0));
                }
                drop(s);
                self.note(id, span.mint);
                self.note(id, span.maxt);
            }
        }
        Ok(())
    }

    /// Applies one WAL or checkpoint record.
    pub(crate) fn apply(&mut self, rec: &[u8]) -> Result<(), Error> {
        match record::decode(rec)? {
            Record::Series(series) => {
                for (id, labels) in series {
                    self.out.next_id = self.out.next_id.max(id + 1);
                    if self.head.get(id).is_none() {
                        self.head.insert(id, &labels);
                        self.out.unsaved.push(id);
                    }
                }
            }
            Record::Samples(samples) => {
                let policy = self.opts.chunk_policy();
                for (id, s) in samples {
                    let Some(series) = self.head.get(id) else {
                        self.unknown_series_samples += 1;
                        continue;
                    };
                    let mut series = series.lock();
                    let cut = if s.t > series.last.t {
                        series.append(s, policy)
                    } else if s.t < series.last.t
                        && self.opts.out_of_order_window > 0
                        && s.t >= self.out.max_time - self.opts.out_of_order_window
                        && s.t > series.persisted_maxt
                        && series.ooo_at(s.t).is_none()
                    {
                        series.insert_ooo(s, policy)
                    } else {
                        continue;
                    };
                    drop(series);
                    if cut {
                        self.out.dirty.push(id);
                    }
                    self.out.samples += 1;
                    self.note(id, s.t);
                }
            }
            Record::Chunk {
                id,
                open,
                ooo,
                bytes,
            } => {
                let Some(series) = self.head.get(id) else {
                    return Ok(());
                };
                let app = XorAppender::from_bytes(&bytes).map_err(|e| Error::Corrupt {
                    what: "checkpoint chunk",
                    detail: e.to_string(),
                })?;
                let (Some(mint), Some(maxt)) = (app.min_time(), app.max_time()) else {
                    return Ok(());
                };
                let mut s = series.lock();
                if !ooo && mint <= s.persisted_maxt {
                    // Cut and persisted after the checkpoint was taken: sled
                    // has this chunk with at least these samples.
                    return Ok(());
                }
                self.out.samples += app.num_samples() as u64;
                s.mint = s.mint.min(mint);
                s.maxt = s.maxt.max(maxt);
                if open {
                    if let Some(last) = app.last().filter(|l| l.t >= s.last.t) {
                        s.last = last;
                    }
                    s.open = app;
                } else {
                    s.closed.push(ClosedChunk {
                        mint,
                        maxt,
                        ooo,
                        bytes: app.into_bytes().into(),
                    });
                    self.out.dirty.push(id);
                }
                drop(s);
                self.note(id, mint);
                self.note(id, maxt);
            }
            Record::OooSamples { id, samples } => {
                if let Some(series) = self.head.get(id) {
                    self.out.samples += samples.len() as u64;
                    for s in &samples {
                        self.note(id, s.t);
                    }
                    let mut series = series.lock();
                    for s in &samples {
                        series.mint = series.mint.min(s.t);
                        series.maxt = series.maxt.max(s.t);
                    }
                    series.ooo = samples;
                }
            }
        }
        Ok(())
    }

    /// Saves WAL-only series to sled and returns what was recovered.
    pub(crate) fn finish(mut self) -> Result<Recovered, Error> {
        if self.unknown_series_samples > 0 {
            tracing::warn!(
                samples = self.unknown_series_samples,
                "WAL samples for unknown series were skipped"
            );
        }
        self.out.dirty.sort_unstable();
        self.out.dirty.dedup();
        Ok(self.out)
    }
}
