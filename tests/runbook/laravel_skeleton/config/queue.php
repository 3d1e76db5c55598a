<?php
// The database queue, as `php artisan queue:table` and `queue:failed-table` read it.
return [
    'default' => 'database',
    'connections' => ['database' => ['driver' => 'database', 'table' => 'jobs', 'queue' => 'default', 'retry_after' => 90]],
    'batching' => ['database' => 'mysql', 'table' => 'job_batches'],
    'failed' => ['driver' => 'database-uuids', 'database' => 'mysql', 'table' => 'failed_jobs'],
];
