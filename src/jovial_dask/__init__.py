"""Jovial's Dask Gateway extensions (installed on the gateway host by roles/dask_gateway)."""
