"""The shared upstream budget: calls a minute counted per process (counts) or once for every
worker and server in Redis (shared), chosen from the settings (setup), and the admin's view
of it (page). Imports nothing else of the lookup feature."""
