"""Monitoring: read captured predictions, compare them with the training reference, report drift."""
