<?php
// Debian's php-laravel-framework autoloader (on PHP's include path), plus this app's App\ namespace.
require_once 'Illuminate/autoload.php';
spl_autoload_register(function ($class) {
    if (strpos($class, 'App\\') === 0) {
        $file = __DIR__.'/../app/'.str_replace('\\', '/', substr($class, 4)).'.php';
        if (is_file($file)) {
            require $file;
        }
    }
});
