"""crm-pulse metrics package."""
