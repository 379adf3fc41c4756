"""The imaging core: takes a file, returns its metadata and derivatives. Knows nothing of AWS.

``render.render`` is the whole interface for images; Pillow, numpy, tifffile and imagecodecs
load with it, and only the thumbnail function imports it. ``derive`` turns one decoded picture
into every derivative, for images and video posters alike, with Pillow and numpy alone.
"""
