"""The ML pipeline: data, contract and validation, training, evaluation, selection, tracking."""
