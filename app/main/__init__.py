"""Public pages: the landing page and the health check."""
