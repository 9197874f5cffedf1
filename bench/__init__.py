"""Benchmarks: run `python -m bench` (all) or `python -m bench.overhead|memory|cold_start|lb`."""
