"""crm-pulse bot package."""
