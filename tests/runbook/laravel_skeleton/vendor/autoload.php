<?php
// Debian's php-laravel-framework autoloader (on PHP's include path), plus this app's App\ namespace
// and any class a test puts under support/ (an application's own classes its migrations call),
// with support/helpers.php: the global functions an app's composer.json "files" would load.
require_once 'Illuminate/autoload.php';
if (is_file(__DIR__.'/../support/helpers.php')) {
    require_once __DIR__.'/../support/helpers.php';
}
spl_autoload_register(function ($class) {
    if (strpos($class, 'App\\') === 0) {
        $file = __DIR__.'/../app/'.str_replace('\\', '/', substr($class, 4)).'.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
spl_autoload_register(function ($class) {
    $file = __DIR__.'/../support/'.str_replace('\\', '/', $class).'.php';
    if (is_file($file)) {
        require $file;
    }
});
