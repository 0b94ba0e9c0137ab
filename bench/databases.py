"""The private PostgreSQL database a benchmark runs against."""

import os
from urllib.parse import urlsplit


def bench_database_url(name: str) -> str:
    """DATABASE_URL if it points at PostgreSQL, else database `name` on the local server;
    created if it does not exist yet."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = f"postgres://postgres@127.0.0.1:5432/{name}"
    parts = urlsplit(url)
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        database = parts.path.lstrip("/")
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{database}"')
    return url
