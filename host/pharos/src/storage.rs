//! The storage the server runs on. [`open_storage`] is the one place that
//! picks the implementation.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use pharos_tsdb::{MemStorage, Storage};

/// A [`Storage`] the server owns: it is closed (flushed) on shutdown.
pub trait ServerStorage: Storage {
    /// Flushes everything acknowledged so far; called once on shutdown.
    fn close(&self) -> Result<(), pharos_tsdb::Error>;
}

impl ServerStorage for MemStorage {
    fn close(&self) -> Result<(), pharos_tsdb::Error> {
        Ok(())
    }
}

/// Opens the storage in `data_dir`, creating the directory if needed.
///
/// Until the on-disk `pharos_tsdb::Db` lands this is an in-memory store:
/// data does not survive a restart.
pub fn open_storage(data_dir: &Path) -> anyhow::Result<Arc<dyn ServerStorage>> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    tracing::warn!(
        data_dir = %data_dir.display(),
        "on-disk storage is not available yet: using in-memory storage, data is lost on exit"
    );
    Ok(Arc::new(MemStorage::new()))
}
