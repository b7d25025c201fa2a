"""What chainrule writes and reads back: model files (format and header schema), checkpoints,
figures, and the atomic writes under all of them."""

__all__ = []
