"""DVC stage entry points: `python -m pipelines.<stage>`, one per stage in dvc.yaml."""
