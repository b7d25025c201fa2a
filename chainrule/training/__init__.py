"""The training engine: the loop that sends events, its parts (batches, callbacks, progress,
metrics, evaluation, checkpoints, interrupts, divergence) and L-BFGS."""

__all__ = []
