"""crm-pulse configuration: the validated settings model (`config.settings`) and example files."""

from config.settings import ConfigError, Settings, load_settings, parse_settings, secret, state_dir

__all__ = ["ConfigError", "Settings", "load_settings", "parse_settings", "secret", "state_dir"]
