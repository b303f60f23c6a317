"""Benchmark scripts (run each as a file; see docs/benchmarks.md)."""
