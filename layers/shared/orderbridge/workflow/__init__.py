"""The order workflow's own pieces: starting it when an order is stored, parking it on task
tokens, and resuming it when the order's tracks settle a wait. The workflow definition is
statemachine/order_delivery.asl.json; the vendor steps it runs are ``orderbridge.actions``.
"""
