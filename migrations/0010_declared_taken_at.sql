-- When a client says an original was taken (a Google Takeout sidecar's photoTakenTime), for
-- an original whose own metadata does not say: the render takes it as taken_at then. Wall-clock
-- time, as taken_at is; null when the client said nothing.
ALTER TABLE assets ADD COLUMN declared_taken_at timestamp;
