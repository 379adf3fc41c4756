-- Animated GIF, WebP and PNG: how many frames, and how many seconds one loop plays. Assets
-- rendered before are stills as far as anyone knows: one frame, no duration.
-- has_location: whether the original records where it was taken (null: not read).
ALTER TABLE assets
    ADD COLUMN frames integer DEFAULT 1 CHECK (frames >= 1),
    ADD COLUMN duration double precision CHECK (duration >= 0),
    ADD COLUMN has_location boolean;
