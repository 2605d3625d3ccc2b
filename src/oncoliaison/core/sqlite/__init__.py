"""Django's SQLite backend, with the database files kept owner-only (see ``core.files``)."""
