"""Package of toymodels (see docs/architecture.md)."""
