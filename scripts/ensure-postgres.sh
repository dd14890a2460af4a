# Sourced by scripts/test and scripts/demo: makes sure PostgreSQL's server binaries (initdb,
# postgres) are installed, installing Debian's package when they are missing.
ensure_postgres() {
  if [ -n "${PGSHRED_PG_BIN:-}" ] && [ -x "$PGSHRED_PG_BIN/initdb" ]; then return 0; fi
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
    return 0
  fi
  echo "PostgreSQL server binaries not found; installing Debian's postgresql package..." >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: not root and no sudo: install PostgreSQL (apt-get install -y postgresql) or set PGSHRED_PG_BIN" >&2
      return 1
    fi
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "error: postgresql installed but initdb not found" >&2; return 1; }
}
