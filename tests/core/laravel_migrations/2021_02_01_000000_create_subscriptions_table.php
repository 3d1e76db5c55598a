<?php
// A UUID-keyed table with a unique key over a reference and a polymorphic pair.
use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

return new class extends Migration {
    public function up()
    {
        Schema::create('subscriptions', function (Blueprint $table) {
            $table->uuid('id')->primary();
            $table->foreignId('user_id')->constrained()->cascadeOnDelete();
            $table->morphs('subscribable');
            $table->timestamps();
            $table->unique(['user_id', 'subscribable_id', 'subscribable_type']);
        });
    }
};
