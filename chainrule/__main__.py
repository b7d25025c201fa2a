"""``python -m chainrule``: the ``chainrule`` command, where its script is not on the PATH."""

from .cli import run

if __name__ == "__main__":
    run()
