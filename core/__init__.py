"""gapmend's restore engine: reflection, gap inspection, planning and (later) the restore.

Nothing in this package imports a UI library; the wizard (`gapmend.screens`) and
the console commands (`gapmend.app`) are thin layers over it.
"""
