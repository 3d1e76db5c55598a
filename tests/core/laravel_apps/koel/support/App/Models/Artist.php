<?php
namespace App\Models;
// Koel's artist model as its 2016 migration uses it: an Eloquent model on `artists` and the id
// and name Koel keeps for "Various Artists" (2; the unknown artist is 1).
class Artist extends \Illuminate\Database\Eloquent\Model
{
    public const VARIOUS_ID = 2;
    public const VARIOUS_NAME = 'Various Artists';
}
