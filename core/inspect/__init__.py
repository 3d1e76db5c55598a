"""Inspect: per table, where the snapshot ends and what each side did since (`gap`, by
`compare`'s set-based strategies); the references between tables (`graph`: declared,
implied, polymorphic, with the app's morph map from `laravel`), ids
inside payloads (`payloads`, `php_payloads`), unique keys as written (`unique`), the
framework's tables (`framework`, `soft_deletes`), which database is which (`roles`), and
Friday's rows picked one by one (`picks`)."""
