import os

# `make mutation` forks every mutant's test run from one warmed-up process: importing Great
# Expectations there once, instead of in each fork (about 5 s here), is most of its speed.
if os.environ.get("MODELOPS_PRELOAD_IMPORTS"):
    import great_expectations  # noqa: F401
    import sklearn.calibration
    import sklearn.metrics  # noqa: F401
