"""Symbolic music transformer engine."""
