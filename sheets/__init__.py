"""crm-pulse sheets package."""
