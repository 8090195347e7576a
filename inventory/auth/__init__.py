"""Users, roles, scopes, sign-in, password reset."""
