"""Benchmarks that measure the speed and memory targets (run by hand or `make bench`, never as timed tests)."""
