//! Per-call limits: the memory limit (a `ResourceLimiter` that also records
//! the high-water mark), and the CPU budget counted in epoch ticks.

use std::time::Duration;

/// Limits for every call of one plugin (`[plugins.<name>]` `memory_limit`,
/// `cpu_budget`, `timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory, in bytes. Growing past it fails the call.
    pub memory: usize,
    /// CPU time the plugin may spend running WebAssembly in one call,
    /// measured in epoch ticks (so rounded up to the runtime's tick).
    pub cpu: Duration,
    /// Wall-clock time one call may take, waiting on the network included.
    pub timeout: Duration,
}

impl Default for Limits {
    /// 64 MiB, 2 s of CPU, 10 s in all.
    fn default() -> Self {
        Limits {
            memory: 64 << 20,
            cpu: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Most targets one `discover` call may return, over all its groups (a
/// Kubernetes cluster of 100k pods fits). More fails the call
/// ([`crate::CallError::TooManyResults`]): nothing of it is used.
pub const MAX_TARGETS_PER_CALL: usize = 100_000;

/// Most series (metrics over all families) one `collect` call may return.
/// More fails the call, like a scrape over its `sample_limit`.
pub const MAX_SERIES_PER_CALL: usize = 1_000_000;

/// A result larger than [`MAX_TARGETS_PER_CALL`] or
/// [`MAX_SERIES_PER_CALL`].
#[derive(Debug, thiserror::Error)]
#[error("returned {count} {what}, more than the {limit} allowed per call")]
pub(crate) struct ResultLimitExceeded {
    pub(crate) what: &'static str,
    pub(crate) count: usize,
    pub(crate) limit: usize,
}

/// The error a memory grow past the limit raises (a trap that ends the call).
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes exceeded: asked for {requested}")]
pub(crate) struct MemoryLimitExceeded {
    pub(crate) limit: usize,
    pub(crate) requested: usize,
}

/// The error the epoch callback raises when the CPU budget is used up.
#[derive(Debug, thiserror::Error)]
#[error("CPU budget exceeded")]
pub(crate) struct CpuBudgetExceeded;

/// Memory and table limits of one store, with the memory high-water mark.
/// The memory limit holds for the sum of every linear memory of the
/// store (a component may have several, one per core module instance),
/// not for each alone.
pub(crate) struct Limiter {
    memory_limit: usize,
    /// Bytes of every memory of the store together.
    memory_total: usize,
    /// The last growth allowed, `(current, desired)`, undone if it fails.
    last_growth: (usize, usize),
    /// The largest `memory_total` so far.
    pub(crate) memory_high_water: usize,
}

/// Most table elements one instance may have.
const TABLE_ELEMENTS_MAX: usize = 100_000;

impl Limiter {
    pub(crate) fn new(memory_limit: usize) -> Self {
        Limiter {
            memory_limit,
            memory_total: 0,
            last_growth: (0, 0),
            memory_high_water: 0,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    /// Called for each memory as it is created (`current` 0) and grows:
    /// the store's total is what it would be after the growth.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self
            .memory_total
            .saturating_sub(current)
            .saturating_add(desired);
        if total > self.memory_limit {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: self.memory_limit,
                requested: total,
            }));
        }
        if maximum.is_some_and(|m| desired > m) {
            return Ok(false);
        }
        self.memory_total = total;
        self.last_growth = (current, desired);
        self.memory_high_water = self.memory_high_water.max(total);
        Ok(true)
    }

    /// A growth the limiter allowed failed after all: give it back.
    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        let (current, desired) = std::mem::take(&mut self.last_growth);
        self.memory_total = self
            .memory_total
            .saturating_sub(desired)
            .saturating_add(current);
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS_MAX && maximum.is_none_or(|m| desired <= m))
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    /// Two memories of 40 MiB each do not fit a 64 MiB limit, though each
    /// alone would.
    #[test]
    fn the_limit_holds_for_all_memories_together() {
        const MIB: usize = 1 << 20;
        let mut l = Limiter::new(64 * MIB);
        assert!(matches!(l.memory_growing(0, 40 * MIB, None), Ok(true)));
        let err = l.memory_growing(0, 40 * MIB, None).err();
        let exceeded = err
            .as_ref()
            .and_then(|e| e.downcast_ref::<MemoryLimitExceeded>());
        assert!(
            matches!(exceeded, Some(e) if e.requested == 80 * MIB && e.limit == 64 * MIB),
            "{err:?}"
        );
        // The first memory growing within the limit still may.
        assert!(matches!(
            l.memory_growing(40 * MIB, 60 * MIB, None),
            Ok(true)
        ));
        assert_eq!(l.memory_high_water, 60 * MIB);
        // A second memory of what is left fits.
        assert!(matches!(l.memory_growing(0, 4 * MIB, None), Ok(true)));
        assert_eq!(l.memory_high_water, 64 * MIB);
        // A growth that failed elsewhere is given back.
        let _ = l.memory_grow_failed(wasmtime::Error::msg("no"));
        assert!(matches!(l.memory_growing(0, 4 * MIB, None), Ok(true)));
        // Past a memory's own maximum: refused, not counted.
        let mut l = Limiter::new(64 * MIB);
        assert!(matches!(l.memory_growing(0, MIB, Some(0)), Ok(false)));
        assert!(matches!(l.memory_growing(0, 64 * MIB, None), Ok(true)));
    }
}
