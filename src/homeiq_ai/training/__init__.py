"""Training module: queued model-training runs and the models they produce (port 8017)."""
