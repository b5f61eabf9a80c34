"""Benchmarks and the process harness they share with the serving tests."""
