-- Accounts. One row per registered user.
create table users (
    id            integer primary key,
    -- As typed at registration; ASCII letters, digits, '_', '-', '.' only.
    username      text    not null,
    -- Argon2id PHC string: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>. Never leaves the server.
    password_hash text    not null,
    -- Unix milliseconds.
    created_at    integer not null
);

-- "Alice" and "alice" are the same account (usernames are ASCII, so NOCASE is exact).
create unique index users_username_nocase on users (username collate nocase);
