"""Administration: staff accounts, survey waves, and the audit log."""
