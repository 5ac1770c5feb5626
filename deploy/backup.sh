#!/usr/bin/env bash
# Backs up what must not be lost: the PostgreSQL database (DATABASE_URL) with pg_dump, or, for the embedded
# default (no DATABASE_URL), the DATA_DIR folder (PGlite's files and the Zalo token file) while the bot is stopped.
# Redis holds only sessions, de-duplication keys and locks: losing it costs people their unfinished form, nothing
# stored; it is not backed up here (its append-only file is on the redis-data volume).
#
#   deploy/backup.sh postgres <DATABASE_URL> <backup folder>     e.g. from cron, every night, keeping 14 days
#   deploy/backup.sh datadir  <DATA_DIR> <backup folder> [unit]  stops and restarts the systemd unit around the copy ("-": already stopped)
#   (compose)  docker compose -f deploy/compose.yaml exec -T postgres pg_dump -U bot -Fc bot > backups/bot-$(date +%F).dump
#
# THE ZALO TOKEN CAVEAT: Zalo's refresh token is single-use and the bot renews the pair every day, storing the new
# pair (table channel_tokens with DATABASE_URL, else DATA_DIR/zalo-tokens.json). A backup older than the last
# renewal holds a spent refresh token. After restoring one, paste a fresh pair into ZALO_ACCESS_TOKEN and
# ZALO_REFRESH_TOKEN (developers.zalo.me → Tools → API Explorer → OA Access Token) before starting the bot:
# a changed pair in the environment wins over the stored one.
set -euo pipefail

usage() { echo "usage: $0 postgres <DATABASE_URL> <folder> | $0 datadir <DATA_DIR> <folder> [systemd unit]" >&2; exit 2; }
[ $# -ge 3 ] || usage
kind=$1; source=$2; folder=$3; unit=${4:-citizen-guidance-bot}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$folder"
umask 077   # backups hold personal data

case "$kind" in
  postgres)
    out="$folder/bot-$stamp.dump"
    # Custom format: compressed, restorable table by table; consistent without stopping the bot.
    pg_dump --format=custom --no-owner --dbname="$source" --file="$out.partial"
    mv "$out.partial" "$out"
    ;;
  datadir)
    out="$folder/bot-data-$stamp.tar.gz"
    # PGlite's files are only consistent when no process has them open: stop, copy, start (a minute of downtime).
    # Pass "-" as the unit when the bot is already stopped (Docker, or by hand).
    if [ "$unit" != "-" ]; then
      systemctl stop "$unit"
      trap 'systemctl start "$unit"' EXIT
    fi
    tar -C "$(dirname "$source")" -czf "$out.partial" "$(basename "$source")"
    mv "$out.partial" "$out"
    ;;
  *) usage ;;
esac
# Keep 14 days.
find "$folder" -name 'bot-*' -type f -mtime +14 -delete
echo "backup written: $out"
