//! Benchmarks only: see `benches/hot_paths.rs`.
