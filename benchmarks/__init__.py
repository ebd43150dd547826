"""Benchmarks for newsletter, measured side by side against the tools users would otherwise pick.

Run ``python -m benchmarks [--quick] [--only NAME]``; see benchmarks/README.md.
"""
