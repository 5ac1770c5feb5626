#!/usr/bin/env bash
# Restores a backup made by deploy/backup.sh. Stop the bot first (every process), restore, then read the Zalo token
# caveat below before starting it again.
#
#   deploy/restore.sh postgres <DATABASE_URL> <file.dump>       into an EMPTY database (createdb first)
#   deploy/restore.sh datadir  <DATA_DIR> <file.tar.gz>          the current DATA_DIR is kept as DATA_DIR.before-restore
#   (compose)  docker compose -f deploy/compose.yaml exec -T postgres pg_restore -U bot -d bot --clean --if-exists < backups/bot-....dump
#
# Zalo tokens: the restored pair is as old as the backup. If the bot renewed the pair since (it does every day), its
# refresh token is spent: put a fresh pair in ZALO_ACCESS_TOKEN and ZALO_REFRESH_TOKEN before starting (a changed
# pair in the environment wins over the stored one). Sessions (Redis) are not part of a backup: people in the middle
# of a form start it again; nothing they confirmed is lost.
set -euo pipefail

usage() { echo "usage: $0 postgres <DATABASE_URL> <file.dump> | $0 datadir <DATA_DIR> <file.tar.gz>" >&2; exit 2; }
[ $# -eq 3 ] || usage
kind=$1; target=$2; file=$3
[ -f "$file" ] || { echo "no such backup file: $file" >&2; exit 1; }

case "$kind" in
  postgres)
    pg_restore --no-owner --exit-on-error --dbname="$target" "$file"
    ;;
  datadir)
    if [ -e "$target" ]; then mv "$target" "$target.before-restore"; fi
    mkdir -p "$target"
    # The archive holds one folder (DATA_DIR's name at backup time); its content goes into the target.
    tar -C "$target" --strip-components=1 -xzf "$file"
    ;;
  *) usage ;;
esac
echo "restored $file. Before starting the bot: is the Zalo token pair older than the last renewal? (see the top of this script)"
