"""Orderbridge shared package: models, vendor clients, stores, domain rules and web helpers.

Shipped to Lambda as the shared layer (layers/shared), installed editable in development.
"""
