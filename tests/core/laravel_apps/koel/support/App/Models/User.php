<?php
namespace App\Models;
// Koel's User model as its migrations use it on an empty database: an Eloquent model on its table.
class User extends \Illuminate\Database\Eloquent\Model {}
