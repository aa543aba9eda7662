"""Review: the pull-request report, its sticky comment, and the reproducibility check."""
