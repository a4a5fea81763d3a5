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
pub(crate) struct Limiter {
    memory_limit: usize,
    pub(crate) memory_high_water: usize,
}

/// Most table elements one instance may have.
const TABLE_ELEMENTS_MAX: usize = 100_000;

impl Limiter {
    pub(crate) fn new(memory_limit: usize) -> Self {
        Limiter {
            memory_limit,
            memory_high_water: 0,
        }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: self.memory_limit,
                requested: desired,
            }));
        }
        if maximum.is_some_and(|m| desired > m) {
            return Ok(false);
        }
        self.memory_high_water = self.memory_high_water.max(desired);
        Ok(true)
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
