"""crm-pulse configuration: the validated settings model (`config.settings`) and example files."""

from config.settings import (
    ConfigError,
    Settings,
    load_settings,
    move_aside,
    parse_settings,
    secret,
    state_dir,
    write_state_file,
)

__all__ = [
    "ConfigError",
    "Settings",
    "load_settings",
    "move_aside",
    "parse_settings",
    "secret",
    "state_dir",
    "write_state_file",
]
