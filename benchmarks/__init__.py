"""Benchmarks of the pipeline (`gridaudit bench`) and the floors it is compared with."""
