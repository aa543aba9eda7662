"""Serving: raw rows to predictions, and batch scoring. Imports no other wing (Lambda loads it)."""
