"""Incident use cases: plain service functions over storage, and the multi-step flows."""
