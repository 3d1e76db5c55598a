<?php
// A database session's payload as Laravel 8 stores it: base64 of the serialized
// attributes, the logged-in user under login_<guard>_<sha1 of the guard's class>.
// Usage: php session.php USER_ID [GUARD]
require '/usr/share/php/Illuminate/autoload.php';
$attributes = ['_token' => 'csrf-' . $argv[1], '_previous' => ['url' => 'https://forum.example/threads'],
    '_flash' => ['old' => [], 'new' => []], 'login_' . ($argv[2] ?? 'web') . '_' . sha1(Illuminate\Auth\SessionGuard::class) => (int) $argv[1]];
echo base64_encode(serialize($attributes));
