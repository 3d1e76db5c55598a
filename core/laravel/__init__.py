"""What gapmend reads of a Laravel app's own source, never running it: its PHP
(`php_source`), its auth guards (`app_guards`) and its morph map (`morph_map`)."""
