#!/bin/sh
# Writes the secrets docker compose mounts (deploy/secrets/, git-ignored) with random values.
# Existing files are kept, so running it again changes nothing; delete a file to regenerate it.
#   sh deploy/docker/make-secrets.sh
set -eu
dir="$(dirname "$0")/../secrets"
mkdir -p "$dir"
# docker compose bind-mounts file secrets as they are (without swarm it cannot chown them), and the
# containers read them as their own non-root users (node, mongodb): the files must be readable by
# anyone, so the folder is what keeps other local users out.
chmod 700 "$dir"
umask 022

random() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

write() {
  if [ -s "$dir/$1" ]; then echo "kept     deploy/secrets/$1"; return; fi
  printf '%s' "$2" > "$dir/$1"
  echo "created  deploy/secrets/$1"
}

write mongo_root_password "$(random 24)"
write mongo_app_password "$(random 24)"
# The services' MONGO_URL, with the app user's password (hex, so it needs no URL escaping).
write mongo_url "mongodb://facerec:$(cat "$dir/mongo_app_password")@mongo:27017/facerec?replicaSet=rs0&authSource=facerec"
write api_key_pepper "$(random 32)"
write bootstrap_admin_password "$(random 12)"

echo
echo "Dashboard sign-in: admin@localhost (BOOTSTRAP_ADMIN_EMAIL) / $(cat "$dir/bootstrap_admin_password")"
