"""The ``nbt`` command line: one module ``cmd_<name>.py`` per sub-command."""
