"""The organizer's live dashboard."""
