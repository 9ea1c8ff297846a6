"""Suites and metric checks of the raw layer (raw_<system>.<TABLE>, quarantine, meta)."""
