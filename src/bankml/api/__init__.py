"""The HTTP service: thin routes over the platform's services (decisions, management)."""
