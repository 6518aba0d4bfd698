"""Moving up from the embedded SQLite database to PostgreSQL (``zhiku migrate``): ``run.migrate``.

The whole package needs the ``postgres`` extra, and says so when it is missing."""

from zhiku.core.extras import require_extra

require_extra("postgres", "zhiku migrate")
