-- Access-token signing keys: ids and lifecycle only. Each key is derived from JWT_SECRET and
-- its id, so nothing secret is stored here.
create table signing_keys (
    kid text primary key,
    created_at integer not null,
    retired_at integer
);
