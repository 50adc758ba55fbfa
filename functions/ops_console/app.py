"""The ops console (public page; its data comes from the ops API): GET /console/ and its assets."""

from orderbridge.entry import console_handler

lambda_handler = console_handler()
