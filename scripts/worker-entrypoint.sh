#!/bin/sh
# Worker container entrypoint: add this image's DVC objects to the store volume, then exec the CMD.
# The `dvc-store` volume is seeded from the image only while it is empty, so a volume created by an
# older image lacks a newer model's objects. Same name = same bytes (content-addressed), so only
# missing or differing files are copied, to a temp name + rename: replicas starting together never
# read a partial object. The worker itself verifies every checksum when it materializes the model.
set -eu
# The image's layout (Dockerfile.worker); the variables exist for the script's own test.
app=${APP_DIR:-/app}
seed=${TAGSERVE_IMAGE_BLOB:-$app/stores/.image-blob}
store=${DVC_STORE_DIR:-stores/blob}
case $store in /*) ;; *) store=$app/$store ;; esac

if [ -d "$seed" ] && mkdir -p "$store" 2>/dev/null && [ -w "$store" ]; then
  cd "$seed"
  find . -type f | while IFS= read -r f; do
    cmp -s "$f" "$store/$f" && continue
    mkdir -p "$(dirname "$store/$f")"
    tmp="$store/$f.tmp-${HOSTNAME:-x}-$$"
    cp "$f" "$tmp" && mv -f "$tmp" "$store/$f"
  done
  cd "$app"
fi
exec "$@"
