"""The imaging core: takes a file, returns its metadata and derivatives. Knows nothing of AWS."""

from lightbox.imaging.render import render

__all__ = ["render"]
