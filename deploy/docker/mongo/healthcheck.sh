#!/bin/bash
# docker compose's MongoDB health check, which also initiates the single-node replica set the
# first time it runs: healthy once this member is the writable primary.
set -euo pipefail
# The image's entrypoint turns MONGO_INITDB_ROOT_PASSWORD_FILE into MONGO_INITDB_ROOT_PASSWORD for
# the scripts it runs; a health check sees the container's own environment, with the _FILE form.
root_password="${MONGO_INITDB_ROOT_PASSWORD:-$(cat "${MONGO_INITDB_ROOT_PASSWORD_FILE:?}")}"
mongosh --quiet --host 127.0.0.1 \
  --username "$MONGO_INITDB_ROOT_USERNAME" --password "$root_password" \
  --authenticationDatabase admin --eval '
    try { rs.status(); } catch (e) {
      rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongo:27017" }] });
    }
    quit(db.hello().isWritablePrimary ? 0 : 1);
  '
