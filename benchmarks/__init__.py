"""Reproducible performance runs: `python -m benchmarks NAME [--quick] [--json]`.

Each module of this package (other than `common`) is a benchmark with `main(argv) -> int`;
`python -m benchmarks all` runs them all and writes docs/benchmarks.md.
"""
