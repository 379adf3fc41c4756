"""``lightbox``: a command-line client of a Lightbox library, local or deployed."""

__version__ = "0.1.0"
