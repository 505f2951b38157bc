"""Fieldwork control for organizers: waves, population frame, quotas, channels, QR codes."""
