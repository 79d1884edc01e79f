"""Benchmarks: Klaxon measured against the Slack emulator on loopback, beside a reference."""
