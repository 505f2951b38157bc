"""Staff authentication and role checks."""
