"""The package version (its own module, so that lower modules can name it)."""

__version__ = "0.1.0"
