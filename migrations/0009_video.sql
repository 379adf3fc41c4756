-- Video clips: the codec of their video stream, frames per second, and whether they have
-- sound. duration (0008) holds a clip's length. Null for images.
ALTER TABLE assets
    ADD COLUMN codec text,
    ADD COLUMN frame_rate double precision CHECK (frame_rate > 0),
    ADD COLUMN has_audio boolean;
