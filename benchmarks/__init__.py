"""Benchmarks that print figures (nothing here is asserted); the browser test reuses the
in-page timing of ``app_throughput``."""
