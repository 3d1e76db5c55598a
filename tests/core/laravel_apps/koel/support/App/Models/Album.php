<?php
namespace App\Models;
// Koel's Album model as its migrations use it on an empty database: an Eloquent model on its table.
class Album extends \Illuminate\Database\Eloquent\Model {}
