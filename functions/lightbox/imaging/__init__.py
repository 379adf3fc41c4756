"""The imaging core: takes a file, returns its metadata and derivatives. Knows nothing of AWS.

``render`` is the whole interface; Pillow, numpy, tifffile and imagecodecs load with it, and
only the thumbnail function imports it.
"""

from lightbox.imaging.render import render

__all__ = ["render"]
