"""What the emulator corrects in moto's Step Functions (``aws_emulator.MotoPatches``)."""

from __future__ import annotations

import time

from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, CallbackOutcomeSuccess
from orderbridge_local import aws_emulator as emu


def test_a_task_token_answered_before_the_heartbeat_wait_starts_resumes_the_task():
    # The workflow's RegisterWait answers its token while its Lambda still runs when the wait is
    # already over; moto sets the heartbeat waiter up only after that Lambda returned.
    patches = emu.MotoPatches()
    patches.start()
    try:
        endpoint = CallbackEndpoint(callback_id="token")
        endpoint.notify(CallbackOutcomeSuccess(callback_id="token", output="{}"))
        heartbeat = endpoint.setup_heartbeat_endpoint(heartbeat_seconds=2)
        began = time.monotonic()
        assert heartbeat.clear_and_wait() is True  # at once, not a heartbeat timeout 2 s later
        assert time.monotonic() - began < 1.0
        assert isinstance(endpoint.get_outcome(), CallbackOutcomeSuccess)
    finally:
        patches.stop()


def test_a_task_token_answered_later_still_wakes_the_heartbeat_wait():
    patches = emu.MotoPatches()
    patches.start()
    try:
        endpoint = CallbackEndpoint(callback_id="token")
        heartbeat = endpoint.setup_heartbeat_endpoint(heartbeat_seconds=2)
        endpoint.notify(CallbackOutcomeSuccess(callback_id="token", output="{}"))
        assert heartbeat.clear_and_wait() is True
    finally:
        patches.stop()
