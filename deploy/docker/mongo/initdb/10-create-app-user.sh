#!/bin/bash
# Runs once, when the mongo-data volume is new (the official image's /docker-entrypoint-initdb.d).
# Creates the least-privileged user the services connect as: readWrite on the facerec database,
# nothing else. The password comes from the mongo_app_password secret, the same one that is in
# the mongo_url secret the services read (deploy/docker/make-secrets.sh writes both).
set -euo pipefail
# The image's entrypoint turns MONGO_INITDB_ROOT_PASSWORD_FILE into MONGO_INITDB_ROOT_PASSWORD for
# the scripts it runs; a health check sees the container's own environment, with the _FILE form.
root_password="${MONGO_INITDB_ROOT_PASSWORD:-$(cat "${MONGO_INITDB_ROOT_PASSWORD_FILE:?}")}"
FACEREC_APP_PASSWORD="$(cat /run/secrets/mongo_app_password)" \
  mongosh --quiet --host 127.0.0.1 \
    --username "$MONGO_INITDB_ROOT_USERNAME" --password "$root_password" \
    --authenticationDatabase admin facerec \
    --eval 'db.createUser({ user: "facerec", pwd: process.env.FACEREC_APP_PASSWORD, roles: [{ role: "readWrite", db: db.getName() }] })'
