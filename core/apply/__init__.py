"""Apply: the restore (`restore`; inside the server where it can, `server_copy`), its
id guard (`id_guard`), ids rewritten inside payloads (`payload_rewrite`), the dry run's
SQL (`sql_recorder`), keys spooled to disk (`spool`), one restore at a time (`exclusive`)."""
