"""Jovial's JupyterHub hooks and configuration (see src/jovial_hub/README or roles/jupyterhub)."""
