<?php
namespace App\Models;
// Koel's Setting model as its migrations use it on an empty database: an Eloquent model on its table.
class Setting extends \Illuminate\Database\Eloquent\Model {}
