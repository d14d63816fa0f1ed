#!/bin/sh
# Run once by Patroni on the new cluster (argument: a superuser connection URL): the app's role and database.
set -eu
psql "$1" -v ON_ERROR_STOP=1 -v user="${APP_DB_USER}" -v password="${APP_DB_PASSWORD}" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE nexus OWNER :"user" TEMPLATE template0 ENCODING 'UTF8';
SQL
