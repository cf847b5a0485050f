"""Training, metrics, evaluation and reports. The prediction path never imports this package."""
