"""The video core: takes a seekable file of a clip, returns its metadata and a poster frame's
derivatives. Knows nothing of AWS, nor of where the file's bytes come from.

``render.render_clip`` is the whole interface; PyAV (FFmpeg) loads with it, and only the video
function imports it.
"""
