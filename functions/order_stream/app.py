"""OrdersTable stream → start a new order's workflow; resume its waits when its tracks change."""

from orderbridge.entry import stream_handler
from orderbridge.workflow.stream import handle_record

lambda_handler = stream_handler(handle_record)
