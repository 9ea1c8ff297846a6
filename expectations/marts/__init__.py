"""Suites of the published marts (audit-rules.md §3)."""
