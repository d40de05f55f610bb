-- An index of cookie sessions by user, beside the tower-sessions store, so a user can list
-- where they are logged in and end any of those sessions. Times are Unix milliseconds.
create table session_devices (
    -- Public handle shown in the devices list; the session id itself never leaves the server.
    id                  text    primary key,
    -- The tower-sessions record id. As sensitive as the store's own table: server-side only.
    session_id          text    not null unique,
    user_id             integer not null references users (id) on delete cascade,
    created_at          integer not null,
    last_seen_at        integer not null,
    -- When the session dies if unused: slides with activity, never past absolute_expires_at.
    expires_at          integer not null,
    absolute_expires_at integer not null,
    user_agent          text    not null,
    ip                  text    not null
);

create index session_devices_user on session_devices (user_id);
