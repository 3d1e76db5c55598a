"""The databases and their dialects: engines opened safely (`engines`), every SQLite /
MariaDB difference behind one interface (`dialects`), reflection (`schema`), rows read in
chunks (`rows`), strings compared alike (`collation`), and what gapmend keeps inside
production: the journal of restores (`journal`) and production's triggers (`triggers`)."""
