#!/bin/sh
# Runs once, when the database volume is new. The app role owns nothing: it gets only the
# privileges that migrations grant it (see the ledger migration's grants).
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE memberhub_app LOGIN PASSWORD '${MEMBERHUB_APP_PASSWORD}';
GRANT CONNECT ON DATABASE ${POSTGRES_DB} TO memberhub_app;
GRANT USAGE ON SCHEMA public TO memberhub_app;
-- Tables created later by the owner: read and write, but not own (no DROP, no ALTER).
ALTER DEFAULT PRIVILEGES FOR ROLE ${POSTGRES_USER} IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO memberhub_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ${POSTGRES_USER} IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO memberhub_app;
SQL
