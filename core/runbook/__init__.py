"""The operator's 15 steps (`steps`) and what they do around the restore: workers,
maintenance mode (`artisan`), backup, permissions (`privileges`), the crashed connection
(`connection`), the report, and the investigation after it (`verify`, `outcome`,
`investigate`)."""
