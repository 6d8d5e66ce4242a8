"""The HTTP API behind the Google Sheets add-on (sheets/addon/): authenticated, validated, rate limited."""
