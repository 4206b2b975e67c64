"""Connexion's handlers, one module per resource, named after the operationIds in
``openapi.yaml`` (``prospects.list`` is :func:`handlers.prospects.list`)."""
