-- Which render spec made an asset's derivatives: the fingerprint of its sizes, formats and
-- qualities (RenderSpec.fingerprint), written by mark_ready. Existing rows get '' (made by an
-- unknown spec: out of date). NOT NULL with '' rather than NULL, so that one btree orders
-- every row and "another spec" is two plain ranges: below and above the current fingerprint.
ALTER TABLE assets ADD COLUMN render_spec text NOT NULL DEFAULT '';
-- lightbox admin rerender's search, by (render_spec, id): the ready assets on another spec
-- are the two ranges either side of the current one, read and counted without visiting the
-- assets already up to date.
CREATE INDEX assets_ready_render_spec ON assets (render_spec, id) WHERE status = 'ready';

-- Which worker is rerendering a ready asset, and since when: taken by one conditional INSERT,
-- taken over once older than the lease. In a table of its own rather than a column of
-- assets, because every UPDATE of an asset is a change in its owner's feed: taking a lease
-- must not be one (only the replaced derivatives are).
CREATE TABLE rerender_leases (
    asset_id uuid PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    leased_at timestamptz NOT NULL
);
