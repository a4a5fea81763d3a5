//! Measures what a plugin call costs the host: a fresh store and instance
//! from the `InstancePre`, the call, and the result lifted into Rust.
//!
//! ```sh
//! cargo run --release -p pharos-plugin-host --example call_overhead
//! ```
//!
//! Prints, for the pooling allocator (keeping 1 MiB of each memory resident
//! between instances, and keeping nothing) and the on-demand allocator: the
//! mean time of a no-op call (`describe`, and `discover` returning nothing)
//! and of a `discover` returning 10 000 targets (two labels each),
//! sequentially on one thread, plus the same no-op with 2 concurrent
//! callers.

use pharos_plugin_host::{Plugin, PluginKind, PluginSettings, Runtime, RuntimeOptions};
use std::time::{Duration, Instant};

async fn mean(plugin: &Plugin, config: &str, iterations: u32) -> Duration {
    for _ in 0..iterations / 10 {
        plugin.discover(config).await.expect("warm-up call");
    }
    let started = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(plugin.discover(config).await.expect("call"));
    }
    started.elapsed() / iterations
}

async fn mean_describe(plugin: &Plugin, iterations: u32) -> Duration {
    let started = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(plugin.describe().await.expect("describe"));
    }
    started.elapsed() / iterations
}

async fn concurrent(plugin: &Plugin, callers: u32, iterations: u32) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let p = plugin.clone();
            tokio::spawn(async move {
                for _ in 0..iterations {
                    p.discover("{}").await.expect("call");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    started.elapsed() / (callers * iterations)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let path = pharos_plugin_host::components::built_component_path("fixture-noop")
        .expect("fixture-noop is built");
    let bytes = std::fs::read(path).expect("read fixture-noop");
    println!("component: fixture-noop, {} bytes", bytes.len());
    let configs = [
        ("pooling, keep 1 MiB resident", Some(64), 1 << 20),
        ("pooling, keep nothing resident", Some(64), 0),
        ("on-demand", None, 0),
    ];
    for (label, pooling, memory_keep_resident) in configs {
        let runtime = Runtime::new(RuntimeOptions {
            pooling,
            memory_keep_resident,
            ..RuntimeOptions::default()
        })
        .expect("runtime");
        let plugin = runtime
            .load(
                "noop",
                PluginKind::Discovery,
                &bytes,
                &PluginSettings::default(),
            )
            .await
            .expect("load");
        let describe = mean_describe(&plugin, 20_000).await;
        let noop = mean(&plugin, "{}", 20_000).await;
        let noop_2 = concurrent(&plugin, 2, 10_000).await;
        let big = mean(&plugin, r#"{"targets":10000}"#, 200).await;
        println!(
            "{label:>30}: describe {:>6.1} µs/call | no-op discover {:>6.1} µs/call | 2 callers {:>6.1} µs/call (throughput) | discover 10k targets {:>6.2} ms/call",
            describe.as_secs_f64() * 1e6,
            noop.as_secs_f64() * 1e6,
            noop_2.as_secs_f64() * 1e6,
            big.as_secs_f64() * 1e3,
        );
    }
}
