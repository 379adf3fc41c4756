-- A key that was rotated keeps working until its successor has replaced it everywhere: until
-- expires_at, after which it is refused as a revoked one is. NULL: it does not expire.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
