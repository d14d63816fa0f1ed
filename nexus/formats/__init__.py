"""Date formats of the pages Django renders (the back office): ISO everywhere (FORMAT_MODULE_PATH)."""
