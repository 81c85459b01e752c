"""Benchmarks. Run them from the repository root; results go to docs/benchmarks.md."""
