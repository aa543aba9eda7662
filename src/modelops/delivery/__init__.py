"""Delivery: packaging (Bento), the container image, releases on AWS Lambda, the DVC remote."""
