<?php
// A queued job as Laravel 8 (Debian's php-laravel-framework) serializes it: the model goes through
// SerializesModels into a ModelIdentifier; the payload JSON has the shape Queue::createPayload writes.
// Usage: php queued_job.php USER_ID
namespace { require '/usr/share/php/Illuminate/autoload.php'; }
namespace App\Models { class User extends \Illuminate\Database\Eloquent\Model {} }
namespace App\Jobs {
    class SendWelcome { use \Illuminate\Queue\SerializesModels; public $user; public $tries = 3;
        public function __construct($user) { $this->user = $user; } }
}
namespace {
    $user = new App\Models\User; $user->id = (int) $argv[1]; $user->exists = true;
    $job = new App\Jobs\SendWelcome($user);
    echo json_encode(['uuid' => 'u-' . $argv[1], 'displayName' => get_class($job),
        'job' => 'Illuminate\Queue\CallQueuedHandler@call', 'maxTries' => null, 'timeout' => null,
        'data' => ['commandName' => get_class($job), 'command' => serialize(clone $job)]]);
}
