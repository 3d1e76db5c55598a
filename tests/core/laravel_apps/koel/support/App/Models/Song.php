<?php
namespace App\Models;
// Koel's Song model as its migrations use it on an empty database: an Eloquent model on its table.
class Song extends \Illuminate\Database\Eloquent\Model {}
