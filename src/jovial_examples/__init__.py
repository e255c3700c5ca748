"""Examples shipped in the users' environment (roles/jupyterhub, images/notebook)."""
