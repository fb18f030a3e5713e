#!/bin/bash
# docker compose's MongoDB: a single-node replica set with authentication. A replica set with
# authentication needs a key file for its members' internal auth; one member still needs one.
# It is generated on the first start into the mongo-config volume (never into the image or the
# repository), then the official image's entrypoint takes over.
set -euo pipefail
keyfile=/data/configdb/replica-set.key
if [ ! -s "$keyfile" ]; then
  head -c 756 /dev/urandom | base64 -w 0 > "$keyfile"
fi
chmod 400 "$keyfile"
chown mongodb:mongodb "$keyfile"
exec docker-entrypoint.sh "$@"
