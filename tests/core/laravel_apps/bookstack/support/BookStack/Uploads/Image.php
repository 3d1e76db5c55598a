<?php
namespace BookStack\Uploads;
// BookStack's upload model as its 2015 migration reads it: an Eloquent model on `images`.
class Image extends \Illuminate\Database\Eloquent\Model {}
