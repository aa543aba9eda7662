"""The prediction service (BentoML) and its AWS Lambda entry point."""
