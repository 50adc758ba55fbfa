"""Local stack: the real template and handlers on an in-process AWS emulator, plus vendor sandboxes."""
