#!/bin/sh
# The app user's password comes from the environment, never from the image.
set -eu
printf '"%s" "%s"\n' "${POSTGRES_USER}" "${POSTGRES_PASSWORD}" > /tmp/userlist.txt
exec pgbouncer /etc/pgbouncer/pgbouncer.ini
