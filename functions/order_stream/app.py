"""OrdersTable stream → start a new order's workflow; resume its waits when its tracks change."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from orderbridge.observability import logger, metrics, tracer
from orderbridge.workflow.steps import get_workflow_deps
from orderbridge.workflow.stream import handle_record

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record):
    return handle_record(record, get_workflow_deps())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
