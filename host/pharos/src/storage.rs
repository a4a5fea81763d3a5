//! The storage the server runs on. [`open_storage`] is the one place that
//! picks the implementation.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use pharos_tsdb::{Db, DbOptions, MemStorage, Storage};

/// A [`Storage`] the server owns: it is closed (flushed) on shutdown.
pub trait ServerStorage: Storage {
    /// Flushes everything acknowledged so far; called once on shutdown.
    fn close(&self) -> Result<(), pharos_tsdb::Error>;
}

impl ServerStorage for Db {
    fn close(&self) -> Result<(), pharos_tsdb::Error> {
        Db::close(self)
    }
}

/// Nothing to flush: for tests.
impl ServerStorage for MemStorage {
    fn close(&self) -> Result<(), pharos_tsdb::Error> {
        Ok(())
    }
}

/// Opens (or creates) the on-disk storage in `data_dir`, replaying its WAL.
pub fn open_storage(data_dir: &Path) -> anyhow::Result<Arc<dyn ServerStorage>> {
    let db = Db::open(data_dir, DbOptions::default())
        .with_context(|| format!("cannot open storage in {}", data_dir.display()))?;
    Ok(Arc::new(db))
}
