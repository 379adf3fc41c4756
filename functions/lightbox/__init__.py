"""Lightbox: the core shared by the presign, upload-complete, thumbnail and listing functions."""
