<?php
// The two global helpers Koel's migrations call (Koel's composer.json loads its own from
// app/Helpers.php): run the callback and, should it fail, go on with null. Written for
// this suite; a migration calls them to try a change an older install may already lack.
function attempt(callable $callback, bool $log = true)
{
    try {
        return $callback();
    } catch (Throwable $e) {
        return null;
    }
}

function attempt_if($condition, callable $callback, bool $log = true)
{
    return value($condition) ? attempt($callback, $log) : null;
}
