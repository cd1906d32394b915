#!/bin/bash
# Stand-in for Spilo's /scripts/post_init.sh (Patroni's bootstrap.post_init; args: HUMAN_ROLE, connection URL).
# Reproduced: the roles Spilo creates or normalises (admin, the human role, robot_zmon) and pg_stat_statements.
# Then the admin user: Spilo's template lists PGUSER_ADMIN under bootstrap.users (createrole, createdb, password),
# which Patroni < 4 applied after post_init; Patroni 4 ignores bootstrap.users, so this stand-in applies it here.
# Not reproduced: pg_auth_mon, pg_cron, file_fdw log tables, set_user, the zmon schema, metric helpers.
set -eu
psql -Xd "$2" -v ON_ERROR_STOP=1 -v admin_user="${PGUSER_ADMIN:-admin}" -v admin_password="${PGPASSWORD_ADMIN:-cola}" <<SQL
SET synchronous_commit = 'local';
DO \$\$
BEGIN
    PERFORM * FROM pg_catalog.pg_authid WHERE rolname = 'admin';
    IF FOUND THEN
        ALTER ROLE admin WITH CREATEDB NOLOGIN NOCREATEROLE NOSUPERUSER NOREPLICATION INHERIT;
    ELSE
        CREATE ROLE admin CREATEDB;
    END IF;
END;\$\$;
DO \$\$
BEGIN
    PERFORM * FROM pg_catalog.pg_authid WHERE rolname = '$1';
    IF FOUND THEN
        ALTER ROLE "$1" WITH NOCREATEDB NOLOGIN NOCREATEROLE NOSUPERUSER NOREPLICATION INHERIT;
    ELSE
        CREATE ROLE "$1";
    END IF;
END;\$\$;
DO \$\$
BEGIN
    PERFORM * FROM pg_catalog.pg_authid WHERE rolname = 'robot_zmon';
    IF FOUND THEN
        ALTER ROLE robot_zmon WITH NOCREATEDB NOLOGIN NOCREATEROLE NOSUPERUSER NOREPLICATION INHERIT;
    ELSE
        CREATE ROLE robot_zmon;
    END IF;
END;\$\$;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public;
SELECT format('%s ROLE %I WITH CREATEROLE CREATEDB LOGIN PASSWORD %L',
              CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_authid WHERE rolname = :'admin_user') THEN 'ALTER' ELSE 'CREATE' END,
              :'admin_user', :'admin_password') \gexec
SQL
