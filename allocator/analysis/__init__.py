"""Analyses that reuse the allocation model: alternatives, stability, attribution."""
