"""The scheduled syncs: what recovers whatever a webhook missed (``syncs.runner`` runs them)."""
