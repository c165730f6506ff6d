"""Training: loss terms, weighting, resampling, stages, the Trainer, and supervised fitting."""
