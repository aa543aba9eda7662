"""Benchmarks: `make bench-*` targets; they print a table and write JSON under reports/bench/."""
