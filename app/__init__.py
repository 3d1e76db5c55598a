"""Entry points: the console commands and (later) the Textual application."""
