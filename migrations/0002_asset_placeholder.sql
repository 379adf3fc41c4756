-- A ThumbHash of the first page (base64), so a gallery paints every tile before any
-- thumbnail arrives.
ALTER TABLE assets ADD COLUMN placeholder text;
