"""One module per dashboard screen; modal forms and prompts in ``modals``."""
