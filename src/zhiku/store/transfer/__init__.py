"""Moving up from the embedded SQLite database to PostgreSQL (``zhiku migrate``): ``run.migrate``.

Nothing is imported here, so the CLI loads psycopg (the ``postgres`` extra) only when used."""
