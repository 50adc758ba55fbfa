"""Bloq.It Partner API sandbox, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from orderbridge.models.bloqit_webhooks import BloqWebhookEvent
from orderbridge_local.sandboxes.base import ServerHandle
from orderbridge_local.sandboxes.bloqit import EVENT_TYPES, BloqitSandbox, BloqitSettings

API = "/api/v1/public"
KEY = {"X-API-KEY": "bloqit-sandbox-api-key"}
SECRET = "Y2No6tuPrX"  # the doc's sample secret
LISBON_T1 = "5e5fbcebd1195468b647aa02"
LISBON_T2 = "5d5a6e83d1682b7194fc5f91"
PORTO = "60c72b2f9b1d8e3a4c5f6a01"
RENT_AND_LOCKER_EVENTS = [event for event in EVENT_TYPES if event.startswith(("rent.", "locker."))]
CALLBACK_KEYS = [
    "_id", "admin", "customer", "rent", "bloq", "locker", "price", "codeName", "description", "message", "title",
    "metadata", "actionInitiatedBy",
]  # fmt: skip
NODE_SIGNER = Path(__file__).resolve().parents[2] / "node" / "sign.js"

# The doc's sample secret is shorter than PyJWT's recommended HMAC key length.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
def bloqit() -> Iterator[ServerHandle]:
    handle = BloqitSandbox(BloqitSettings(webhook_mode="sync")).serve()
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def api(http: httpx.Client) -> httpx.Client:
    http.headers.update(KEY)
    return http


def register(api: httpx.Client, bloqit: ServerHandle, url: str, secret: str | None = SECRET, events=None) -> dict:
    body = {"url": url, "enabledEvents": events or RENT_AND_LOCKER_EVENTS, "description": "Orderbridge"}
    if secret is not None:
        body["secret"] = secret
    answer = api.post(f"{bloqit.url}{API}/webhooks", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def future(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def verify(hook, secret: str = SECRET) -> str:
    """Check a callback's signature as the doc's Security section says; return the signed text."""
    signature, timestamp = hook.headers["X-Bloq-Signature"], hook.headers["X-Bloq-Timestamp"]
    assert jwt.get_unverified_header(signature) == {"alg": "HS256"}  # no "typ", like jsonwebtoken
    signed = jwt.api_jws.decode(signature, secret, algorithms=["HS256"]).decode()
    assert signed == f"{timestamp}.{hook.raw}"
    # The body is what JSON.stringify(body) gives back, so a Node verifier compares equal strings.
    assert json.dumps(json.loads(hook.raw), separators=(",", ":"), ensure_ascii=False) == hook.raw
    assert timestamp.isdigit() and abs(int(timestamp) - datetime.now(UTC).timestamp() * 1000) < 60_000
    return signed


def test_the_api_key_is_required(bloqit: ServerHandle, http: httpx.Client) -> None:
    answer = http.get(f"{bloqit.url}{API}/bloqs", headers={"X-API-KEY": "wrong"})

    assert answer.status_code == 401
    assert answer.json()["code"] == "apiKeyInvalid"


def test_bloqs_list_get_and_free_lockers(bloqit: ServerHandle, api: httpx.Client) -> None:
    listed = api.get(f"{bloqit.url}{API}/bloqs", params={"rentType": "delivery"}).json()
    bloq = api.get(f"{bloqit.url}{API}/bloqs/{LISBON_T1}").json()
    free = api.get(f"{bloqit.url}{API}/bloqs/{LISBON_T1}/free-lockers").json()
    invalid = api.get(f"{bloqit.url}{API}/bloqs/not-an-id")
    unknown = api.get(f"{bloqit.url}{API}/bloqs/{'0' * 24}")

    assert (listed["totalDocs"], listed["page"], listed["limit"]) == (2, 1, 10)
    assert {b["_id"] for b in listed["docs"]} == {LISBON_T1, LISBON_T2}
    assert bloq["code"] == "T1" and bloq["active"] is True and bloq["maxRentTimeHour"] == 2
    assert {locker["type"] for locker in bloq["lockers"]} == {"XS", "S", "M", "L", "XL"}
    assert len(free) == 7 and all(locker["rent"] is None and locker["bloq"] == LISBON_T1 for locker in free)
    assert invalid.status_code == 400
    assert invalid.json() == {
        "code": "bloqIDInvalid",
        "message": "Invalid bloqID. bloqID is either missing or has a wrong format.",
    }
    assert unknown.status_code == 404


def test_geo_search_finds_the_bloqs_within_the_distance_nearest_first(bloqit: ServerHandle, api: httpx.Client) -> None:
    # Given a point next to the Avenida da Liberdade bloq
    near = {"latitude": 38.7203, "longitude": -9.1455, "maxDistance": 3000}

    within_3km = api.get(f"{bloqit.url}{API}/bloqs/geoSearch", params=near).json()
    within_100m = api.get(f"{bloqit.url}{API}/bloqs/geoSearch", params={**near, "maxDistance": 100}).json()
    missing = api.get(f"{bloqit.url}{API}/bloqs/geoSearch", params={"latitude": 38.7})

    assert [b["_id"] for b in within_3km["docs"]] == [LISBON_T2, LISBON_T1]
    assert [b["_id"] for b in within_100m["docs"]] == [LISBON_T2]
    assert missing.status_code == 400


def test_delivery_create_reserve_dropoff_pickup_sends_signed_webhooks_in_order(
    bloqit: ServerHandle, api: httpx.Client, receiver
) -> None:
    # Given our webhook registered with a secret, and a customer
    webhook = register(api, bloqit, f"{receiver.url}/webhooks/bloqit")
    assert "secret" not in webhook
    customer = api.post(
        f"{bloqit.url}{API}/customers",
        json={"name": "John Doe", "email": "j@example.com", "phoneNumber": "+351912345678"},
    ).json()

    # When a delivery is created without a locker, a locker is reserved, the courier drops the item
    # and the customer picks it up
    created = api.post(
        f"{bloqit.url}{API}/deliveries",
        params={"customerID": customer["_id"]},
        json={"expiryDate": future(48), "externalID": "order-42", "pickUpCode": "1234"},
    )
    rent_id = created.json()["_id"]
    reserved = api.put(
        f"{bloqit.url}{API}/deliveries/{rent_id}/reserve", params={"bloqID": LISBON_T1, "lockerType": "M"}
    )
    dropped = api.post(f"{bloqit.url}/_admin/rents/{rent_id}/dropoff")
    picked = api.post(f"{bloqit.url}/_admin/rents/{rent_id}/pickup")

    # Then each step answered as the doc shows
    assert created.status_code == 201
    assert (created.json()["type"], created.json()["state"], created.json()["locker"]) == ("delivery", "created", None)
    assert reserved.status_code == 200 and reserved.json()["state"] == "reserved"
    locker_id = reserved.json()["locker"]
    assert dropped.json()["rent"]["state"] == "in_progress"
    assert picked.json()["rent"]["state"] == "finished"

    # And our receiver got one signed callback per event, in order
    hooks = receiver.wait_for(13)
    assert [hook.json["codeName"] for hook in hooks] == [
        "rent.created",
        "rent.reserved",
        "rent.drop_off_code_check",
        "locker.locker_opened",
        "rent.started",
        "locker.locker_closed",
        "rent.in_progress",
        "rent.drop_off_confirmation",
        "locker.locker_opened",
        "rent.collect_item",
        "locker.locker_closed",
        "rent.price_calculation",
        "rent.finished",
    ]
    for hook in hooks:
        verify(hook)
        body = hook.json
        assert list(body) == CALLBACK_KEYS
        assert body["rent"] == rent_id and body["customer"] == customer["_id"]
        assert set(body["actionInitiatedBy"]) == {"role", "id", "source"}
        assert BloqWebhookEvent.model_validate(body).code_name == body["codeName"]
    in_progress = next(hook.json for hook in hooks if hook.json["codeName"] == "rent.in_progress")
    assert (in_progress["bloq"], in_progress["locker"]) == (LISBON_T1, locker_id)
    assert in_progress["actionInitiatedBy"]["source"] == "locker"
    assert hooks[0].json["actionInitiatedBy"] == {"role": "partner_admin", "id": "5f7dc9fc04d61b14f47c6a01",
                                                  "source": "public_api"}  # fmt: skip

    # And the rent's history, its states, and the freed locker agree
    rent = api.get(f"{bloqit.url}{API}/rents/{rent_id}").json()
    assert [s["state"] for s in rent["states"]] == [
        "created", "reserved", "starting", "in_progress", "collect_item", "price_calculation", "finished",
    ]  # fmt: skip
    assert rent["customer"]["_id"] == customer["_id"] and rent["locker"]["_id"] == locker_id
    history = api.get(f"{bloqit.url}{API}/rents/{rent_id}/history").json()
    assert [event["codeName"] for event in history] == [hook.json["codeName"] for hook in hooks]
    assert locker_id in {
        locker["_id"] for locker in api.get(f"{bloqit.url}{API}/bloqs/{LISBON_T1}/free-lockers").json()
    }


def test_the_signature_is_byte_for_byte_what_node_jsonwebtoken_signs(
    bloqit: ServerHandle, api: httpx.Client, receiver
) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_SIGNER.parent / "node_modules" / "jsonwebtoken").is_dir():
        pytest.skip("node and tests/node/node_modules/jsonwebtoken are needed")
    # Given a callback signed by the sandbox, with a non-ASCII customer name in it
    register(api, bloqit, f"{receiver.url}/hook", events=["customer.customer_created", "rent.created"])
    customer = api.post(f"{bloqit.url}{API}/customers", json={"name": "João Ñandú"}).json()
    api.post(
        f"{bloqit.url}{API}/deliveries", params={"customerID": customer["_id"]}, json={"expiryDate": future(1)}
    ).raise_for_status()
    hook = receiver.wait_for(2)[1]

    # When Node's jsonwebtoken signs the same text with the same secret
    text = f"{hook.headers['X-Bloq-Timestamp']}.{hook.raw}"
    node_token = subprocess.run(
        [node, str(NODE_SIGNER)],
        input=json.dumps({"text": text, "secret": SECRET}),
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    ).stdout

    # Then both tokens are identical (HS256 is deterministic)
    assert hook.headers["X-Bloq-Signature"] == node_token


def test_callbacks_are_unsigned_when_the_webhook_has_no_secret(
    bloqit: ServerHandle, api: httpx.Client, receiver
) -> None:
    register(api, bloqit, f"{receiver.url}/plain", secret=None)

    api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T2}, json={}).raise_for_status()

    hooks = receiver.wait_for(2)
    assert [hook.json["codeName"] for hook in hooks] == ["rent.created", "rent.reserved"]
    assert all("X-Bloq-Signature" not in hook.headers and "X-Bloq-Timestamp" not in hook.headers for hook in hooks)


def test_signature_header_names_are_settings(receiver, http: httpx.Client) -> None:
    settings = BloqitSettings(
        webhook_mode="sync",
        signature_header="x-signature",
        timestamp_header="x-timestamp",
        webhooks=[{"url": f"{receiver.url}/hook", "enabledEvents": ["rent.created"], "secret": "s3cr3t"}],
    )
    handle = BloqitSandbox(settings).serve()
    try:
        http.post(f"{handle.url}{API}/deliveries", json={"expiryDate": future(2)}, headers=KEY).raise_for_status()
        (hook,) = receiver.wait_for(1)
    finally:
        handle.stop()

    signed = jwt.api_jws.decode(hook.headers["X-Signature"], "s3cr3t", algorithms=["HS256"]).decode()
    assert signed == f"{hook.headers['X-Timestamp']}.{hook.raw}"


def test_only_subscribed_events_are_sent(bloqit: ServerHandle, api: httpx.Client, receiver) -> None:
    register(api, bloqit, f"{receiver.url}/only-finished", events=["rent.finished", "customer.customer_created"])

    api.post(f"{bloqit.url}{API}/customers", json={"name": "A"}).raise_for_status()
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]
    api.put(f"{bloqit.url}{API}/rents/{rent_id}/cancel").raise_for_status()
    api.put(f"{bloqit.url}{API}/rents/{rent_id}/finish").raise_for_status()

    assert [hook.json["codeName"] for hook in receiver.wait_for(2)] == ["customer.customer_created", "rent.finished"]


def test_make_then_simulated_close_keypad_and_close(bloqit: ServerHandle, api: httpx.Client) -> None:
    # Given a delivery reserved on a chosen locker
    locker_id = api.get(f"{bloqit.url}{API}/bloqs/{LISBON_T2}/free-lockers").json()[0]["_id"]
    rent = api.post(
        f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T2, "lockerID": locker_id}, json={}
    ).json()
    assert (rent["state"], rent["locker"]) == ("reserved", locker_id)
    rent_id = rent["_id"]

    # When it is made, the door closed, opened with the keypad and closed again
    states = [api.put(f"{bloqit.url}{API}/deliveries/{rent_id}/make").json()["state"]]
    locker = api.get(f"{bloqit.url}{API}/bloqs/{LISBON_T2}").json()["lockers"][0]
    states.append(api.put(f"{bloqit.url}{API}/rent-sims/{rent_id}/lockers/close").json()["state"])
    states.append(api.put(f"{bloqit.url}{API}/rent-sims/{rent_id}/lockers/keypad").json()["state"])
    states.append(api.put(f"{bloqit.url}{API}/rent-sims/{rent_id}/lockers/close").json()["state"])

    # Then the rent followed the doc's states, the locker was open while starting
    assert locker["_id"] == locker_id and locker["isOpen"] is True and locker["rent"] == rent_id
    assert states == ["starting", "in_progress", "collect_item", "finished"]


def test_a_cancelled_rent_keeps_its_locker_until_collected(bloqit: ServerHandle, api: httpx.Client) -> None:
    # Given a delivery with the item in the locker, then cancelled
    rent_id = api.post(
        f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={"desiredLockerType": "XL"}
    ).json()["_id"]
    api.post(f"{bloqit.url}/_admin/rents/{rent_id}/dropoff").raise_for_status()
    cancelled = api.put(f"{bloqit.url}{API}/rents/{rent_id}/cancel").json()
    locker_id = cancelled["locker"]

    def free_ids() -> set[str]:
        return {locker["_id"] for locker in api.get(f"{bloqit.url}{API}/bloqs/{LISBON_T1}/free-lockers").json()}

    # Then the locker is still held
    assert cancelled["state"] == "cancelled"
    assert locker_id not in free_ids()
    assert api.put(f"{bloqit.url}{API}/rents/{rent_id}/cancel").status_code == 409

    # When the item is collected and the door closed
    collected = api.put(f"{bloqit.url}{API}/rents/{rent_id}/collect").json()
    closed = api.put(f"{bloqit.url}{API}/rent-sims/{rent_id}/lockers/close").json()

    # Then the rent is finished and the locker free again
    assert (collected["state"], closed["state"]) == ("collect_item", "finished")
    assert locker_id in free_ids()


def test_finish_frees_an_expired_rent_without_opening(bloqit: ServerHandle, api: httpx.Client) -> None:
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]

    refused = api.put(f"{bloqit.url}{API}/rents/{rent_id}/finish")
    expired = api.post(f"{bloqit.url}/_admin/rents/{rent_id}/expire").json()["rent"]
    finished = api.put(f"{bloqit.url}{API}/rents/{rent_id}/finish").json()

    assert refused.status_code == 409 and refused.json()["code"] == "rentStateInvalid"
    assert expired["state"] == "expired" and finished["state"] == "finished"
    assert finished["endDate"] is not None


def test_state_machine_refuses_out_of_order_actions(bloqit: ServerHandle, api: httpx.Client) -> None:
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]

    notify = api.put(f"{bloqit.url}{API}/deliveries/{rent_id}/notify")
    collect = api.put(f"{bloqit.url}{API}/rents/{rent_id}/collect")
    in_transit = api.put(f"{bloqit.url}{API}/deliveries/{rent_id}/in-transit")

    assert [a.status_code for a in (notify, collect, in_transit)] == [409, 409, 409]


def test_notify_ready_for_pickup_and_in_transit(bloqit: ServerHandle, api: httpx.Client, receiver) -> None:
    register(api, bloqit, f"{receiver.url}/hook", secret=None)
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]
    api.post(f"{bloqit.url}/_admin/rents/{rent_id}/dropoff").raise_for_status()

    notified = api.put(f"{bloqit.url}{API}/deliveries/{rent_id}/notify").json()
    ready = api.put(f"{bloqit.url}{API}/deliveries/{rent_id}/ready-for-pickup").json()
    transit = api.put(f"{bloqit.url}{API}/deliveries/{rent_id}/in-transit").json()

    assert (notified["state"], ready["state"], transit["state"]) == ("in_progress", "ready_for_pickup", "in_transit")
    codes = [hook.json["codeName"] for hook in receiver.received]
    assert codes[-3:] == ["rent.automatic_notification_sent", "rent.ready_for_pickup", "rent.in_transit"]


def test_rents_lookups_and_filters(bloqit: ServerHandle, api: httpx.Client) -> None:
    first = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={"externalID": "A-1"}).json()
    second = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T2}, json={"externalID": "B-2"}).json()
    api.post(f"{bloqit.url}/_admin/rents/{second['_id']}/dropoff").raise_for_status()
    api.post(f"{bloqit.url}/_admin/rents/{second['_id']}/pickup").raise_for_status()

    by_external = api.get(f"{bloqit.url}{API}/rents/external/A-1").json()
    reserved = api.get(f"{bloqit.url}{API}/rents", params={"rentStates": ["reserved", "created"]}).json()
    active = api.get(f"{bloqit.url}{API}/rents/active").json()
    by_bloq = api.get(f"{bloqit.url}{API}/rents", params={"bloqID": LISBON_T2}).json()
    window = {"state": "in_progress", "from": future(-1)[:19], "until": future(1)[:19]}
    reached = api.get(f"{bloqit.url}{API}/rents/reached-state", params=window).json()
    missing = api.get(f"{bloqit.url}{API}/rents/external/nope")

    assert by_external["_id"] == first["_id"]
    assert [r["_id"] for r in reserved["docs"]] == [first["_id"]]
    assert list(reserved) == ["docs", "totalDocs", "limit", "page"]
    assert [r["_id"] for r in active["docs"]] == [first["_id"]]
    assert [r["_id"] for r in by_bloq["docs"]] == [second["_id"]]
    assert [r["_id"] for r in reached["docs"]] == [second["_id"]]
    assert missing.status_code == 404


def test_update_rent_respects_the_states_the_doc_names(bloqit: ServerHandle, api: httpx.Client) -> None:
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]

    before = api.put(f"{bloqit.url}{API}/rents/{rent_id}", json={"dropOffCode": "998877", "externalID": "X-9"})
    api.post(f"{bloqit.url}/_admin/rents/{rent_id}/dropoff").raise_for_status()
    after_dropoff = api.put(f"{bloqit.url}{API}/rents/{rent_id}", json={"dropOffCode": "111111"})
    expiry_still_ok = api.put(f"{bloqit.url}{API}/rents/{rent_id}", json={"expiryDate": future(5)})

    assert before.status_code == 200
    page = before.json()
    assert list(page) == ["docs", "totalDocs", "limit", "page"]  # the doc's sample shape
    assert (page["docs"][0]["dropOffCode"], page["docs"][0]["externalID"]) == ("998877", "X-9")
    assert after_dropoff.status_code == 409
    assert expiry_still_ok.status_code == 200


def test_extend_sends_rent_extended_and_revives_an_expired_rent(
    bloqit: ServerHandle, api: httpx.Client, receiver
) -> None:
    register(
        api, bloqit, f"{receiver.url}/hook", secret=None, events=["rent.expired", "rent.extended", "rent.in_progress"]
    )
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]
    api.post(f"{bloqit.url}/_admin/rents/{rent_id}/dropoff").raise_for_status()
    api.post(f"{bloqit.url}/_admin/rents/{rent_id}/expire").raise_for_status()

    extended = api.put(f"{bloqit.url}{API}/rents/{rent_id}/extend", json={"expiryDate": future(24)})
    past = api.put(f"{bloqit.url}{API}/rents/{rent_id}/extend", json={"expiryDate": future(-1)})

    assert extended.status_code == 200 and extended.json()["state"] == "in_progress"
    assert past.status_code == 400
    codes = [hook.json["codeName"] for hook in receiver.received]
    assert codes == ["rent.in_progress", "rent.expired", "rent.extended", "rent.in_progress"]
    assert receiver.received[0].json["actionInitiatedBy"]["source"] == "locker"
    assert receiver.received[1].json["actionInitiatedBy"]["source"] == "expiration"


def test_rents_expire_by_themselves(receiver, http: httpx.Client, wait_until) -> None:
    settings = BloqitSettings(
        tick_seconds=0.02,
        webhooks=[{"url": f"{receiver.url}/hook", "enabledEvents": ["rent.expired"], "secret": SECRET}],
    )
    handle = BloqitSandbox(settings).serve()
    try:
        expiry = (datetime.now(UTC) + timedelta(milliseconds=300)).isoformat()
        rent_id = http.post(
            f"{handle.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={"expiryDate": expiry}, headers=KEY
        ).json()["_id"]
        (hook,) = receiver.wait_for(1)
        state = http.get(f"{handle.url}{API}/rents/{rent_id}", headers=KEY).json()["state"]
    finally:
        handle.stop()

    assert hook.json["codeName"] == "rent.expired" and hook.json["rent"] == rent_id
    assert state == "expired"
    verify(hook)


def test_create_delivery_validates_its_body(bloqit: ServerHandle, api: httpx.Client) -> None:
    both_codes = api.post(
        f"{bloqit.url}{API}/deliveries",
        params={"bloqID": LISBON_T1},
        json={"pickUpCode": "1", "pickUpCodes": {"user": "2"}},
    )
    no_limit = api.post(f"{bloqit.url}{API}/deliveries", json={})
    porto = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": PORTO}, json={})
    unknown_customer = api.post(
        f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1, "customerID": "a" * 24}, json={}
    )

    assert both_codes.status_code == 400
    assert no_limit.status_code == 400
    assert porto.status_code == 409 and porto.json()["code"] == "bloqNotAcceptingRents"
    assert unknown_customer.status_code == 404
    assert api.get(f"{bloqit.url}{API}/rents").json()["totalDocs"] == 0


def test_lockers_run_out(bloqit: ServerHandle, api: httpx.Client) -> None:
    answers = [
        api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={"desiredLockerType": "S"})
        for _ in range(3)
    ]

    assert [a.status_code for a in answers] == [201, 201, 409]
    assert answers[2].json()["code"] == "noLockersAvailable"


def test_lockers_open_close_availability_and_open_or_collect(bloqit: ServerHandle, api: httpx.Client) -> None:
    lockers = api.get(f"{bloqit.url}{API}/bloqs/{LISBON_T2}/free-lockers").json()
    first, second = lockers[0]["_id"], lockers[1]["_id"]
    base = f"{bloqit.url}{API}/bloqs/{LISBON_T2}/lockers"

    opened = api.put(f"{base}/{first}/open").json()
    closed = api.put(f"{base}/{first}/close").json()
    several = api.put(f"{base}/open", json={"lockers": [first, second]}).json()
    disabled = api.put(f"{base}/{first}/availability", json={"active": False}).json()
    free_after = {locker["_id"] for locker in api.get(f"{bloqit.url}{API}/bloqs/{LISBON_T2}/free-lockers").json()}
    rent_id = api.post(
        f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T2, "lockerID": second}, json={}
    ).json()["_id"]
    allocated = api.put(f"{base}/{second}/open")
    api.post(f"{bloqit.url}/_admin/rents/{rent_id}/dropoff").raise_for_status()
    api.put(f"{base}/{second}/open-or-collect").raise_for_status()

    assert (opened["isOpen"], closed["isOpen"]) == (True, False)
    assert several == [first, second]
    assert disabled["active"] is False and first not in free_after
    assert allocated.status_code == 409
    assert api.get(f"{bloqit.url}{API}/rents/{rent_id}").json()["state"] == "collect_item"


def test_customers_crud_sends_customer_events(bloqit: ServerHandle, api: httpx.Client, receiver) -> None:
    register(api, bloqit, f"{receiver.url}/customers", events=[e for e in EVENT_TYPES if e.startswith("customer.")])

    created = api.post(f"{bloqit.url}{API}/customers", json={"name": "John Doe", "phoneNumber": "+351912345678"})
    customer_id = created.json()["_id"]
    updated = api.put(f"{bloqit.url}{API}/customers/{customer_id}", json={"email": "john@example.com"}).json()
    listed = api.get(f"{bloqit.url}{API}/customers").json()
    deleted = api.delete(f"{bloqit.url}{API}/customers/{customer_id}")
    gone = api.get(f"{bloqit.url}{API}/customers/{customer_id}")

    assert created.status_code == 201
    assert set(created.json()) == {"_id", "partner", "name", "email", "phoneNumber", "externalID", "createdAt",
                                   "updatedAt"}  # fmt: skip
    assert updated["email"] == "john@example.com" and listed["totalDocs"] == 1
    assert deleted.status_code == 200 and gone.status_code == 404
    hooks = receiver.wait_for(3)
    assert [h.json["codeName"] for h in hooks] == [
        "customer.customer_created", "customer.customer_updated", "customer.customer_deleted",
    ]  # fmt: skip
    assert all(hook.json["customer"] == customer_id for hook in hooks)
    for hook in hooks:
        verify(hook)


def test_webhooks_crud_and_validation(bloqit: ServerHandle, api: httpx.Client, receiver) -> None:
    webhook = register(api, bloqit, f"{receiver.url}/a", events=["rent.created"])
    other = register(api, bloqit, f"{receiver.url}/b", events=["rent.finished"])

    listed = api.get(f"{bloqit.url}{API}/webhooks", params={"eventType": "rent.created"}).json()
    fetched = api.get(f"{bloqit.url}{API}/webhooks/{webhook['_id']}").json()
    updated = api.put(f"{bloqit.url}{API}/webhooks/{other['_id']}", json={"enabledEvents": ["rent.created"]}).json()
    deleted = api.delete(f"{bloqit.url}{API}/webhooks/{webhook['_id']}")
    bad_event = api.post(f"{bloqit.url}{API}/webhooks", json={"url": f"{receiver.url}/c", "enabledEvents": ["x.y"]})
    relative = api.post(
        f"{bloqit.url}{API}/webhooks", json={"url": "/ourPartner/receiveWebhook", "enabledEvents": ["rent.created"]}
    )
    api.post(f"{bloqit.url}{API}/deliveries", json={"expiryDate": future(1)}).raise_for_status()

    assert [w["_id"] for w in listed["docs"]] == [webhook["_id"]]
    assert fetched["url"] == f"{receiver.url}/a" and "secret" not in fetched
    assert updated["enabledEvents"] == ["rent.created"]
    assert deleted.status_code == 200
    assert (bad_event.status_code, relative.status_code) == (400, 400)
    # Only the remaining (updated) webhook got the new rent's event
    assert [(hook.path, hook.json["codeName"]) for hook in receiver.wait_for(1)] == [("/b", "rent.created")]


def test_event_history_and_arbitrary_admin_events(bloqit: ServerHandle, api: httpx.Client, receiver) -> None:
    register(api, bloqit, f"{receiver.url}/all", events=list(EVENT_TYPES))
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]

    sent = api.post(
        f"{bloqit.url}/_admin/events/rent.pin_attempt", json={"rentID": rent_id, "message": "wrong pin 0000"}
    ).json()
    history = api.get(f"{bloqit.url}{API}/webhooks/history", params={"eventTypes": "rent.pin_attempt"}).json()
    everything = api.get(f"{bloqit.url}{API}/webhooks/history", params={"limit": 0}).json()

    assert sent["webhooks"][0]["status"] == 200
    assert [e["codeName"] for e in history["docs"]] == ["rent.pin_attempt"]
    assert history["docs"][0]["message"] == "wrong pin 0000" and history["docs"][0]["rent"] == rent_id
    assert [e["codeName"] for e in everything["docs"]] == ["rent.created", "rent.reserved", "rent.pin_attempt"]
    assert receiver.wait_for(3)[2].json["codeName"] == "rent.pin_attempt"


def test_return_a_delivery_after_expiry(bloqit: ServerHandle, api: httpx.Client) -> None:
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]
    api.post(f"{bloqit.url}/_admin/rents/{rent_id}/dropoff").raise_for_status()
    too_early = api.put(f"{bloqit.url}{API}/deliveries/{rent_id}/return", json={"expiryDate": future(24)})
    api.post(f"{bloqit.url}/_admin/rents/{rent_id}/expire").raise_for_status()

    returned = api.put(f"{bloqit.url}{API}/deliveries/{rent_id}/return", json={"expiryDate": future(24)}).json()

    assert too_early.status_code == 409
    assert (returned["type"], returned["state"]) == ("return", "in_progress")


def test_select_locker_then_make_with_another_locker(bloqit: ServerHandle, api: httpx.Client) -> None:
    # Given a delivery created without a bloq
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", json={"deliveryDateLimit": future(4)}).json()["_id"]
    lockers = api.get(f"{bloqit.url}{API}/bloqs/{LISBON_T1}/free-lockers").json()

    # When a locker type is selected, then make names a specific locker
    no_bloq = api.put(f"{bloqit.url}{API}/deliveries/{rent_id}/select-locker", params={"lockerType": "L"})
    selected = api.put(
        f"{bloqit.url}{API}/deliveries/{rent_id}/select-locker", params={"bloqID": LISBON_T1, "lockerType": "L"}
    ).json()
    made = api.put(f"{bloqit.url}{API}/deliveries/{rent_id}/make", params={"lockerID": lockers[0]["_id"]}).json()

    # Then the rent moved created → reserved → starting, on the locker make named, the first one freed
    assert no_bloq.status_code == 400
    assert selected["state"] == "reserved" and selected["details"]["lockerType"] == "L"
    assert (made["state"], made["locker"]) == ("starting", lockers[0]["_id"])
    free = {locker["_id"] for locker in api.get(f"{bloqit.url}{API}/bloqs/{LISBON_T1}/free-lockers").json()}
    assert selected["locker"] in free and lockers[0]["_id"] not in free


def test_offline_drop_off_is_announced_by_rent_offline_dropoff_only(
    bloqit: ServerHandle, api: httpx.Client, receiver
) -> None:
    # Given a reserved delivery and our webhook
    register(api, bloqit, f"{receiver.url}/hook", events=list(EVENT_TYPES))
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]
    receiver.wait_for(2)

    # When the courier drops the item while the Bloq is offline, and the Bloq syncs on reconnecting
    dropped = api.post(f"{bloqit.url}/_admin/rents/{rent_id}/offline-dropoff", json={})
    again = api.post(f"{bloqit.url}/_admin/rents/{rent_id}/offline-dropoff", json={})

    # Then the cloud learns of it through rent.offline_dropoff (no rent.in_progress), the rent holds the item
    assert dropped.status_code == 200 and dropped.json()["rent"]["state"] == "in_progress"
    assert again.status_code == 409
    hooks = receiver.wait_for(5)[2:]
    assert [hook.json["codeName"] for hook in hooks] == [
        "bloq.reconnected", "rent.drop_off_code_check_offline", "rent.offline_dropoff",
    ]  # fmt: skip
    for hook in hooks:
        verify(hook)
    offline = BloqWebhookEvent.model_validate(hooks[-1].json)
    assert (offline.rent, offline.rent_state) == (rent_id, "in_progress")
    assert hooks[-1].json["actionInitiatedBy"]["source"] == "locker"
    rent = api.get(f"{bloqit.url}{API}/rents/{rent_id}").json()
    assert [s["state"] for s in rent["states"]] == ["created", "reserved", "in_progress"]

    # And the customer can collect it as after any drop-off
    assert api.post(f"{bloqit.url}/_admin/rents/{rent_id}/pickup").json()["rent"]["state"] == "finished"


def test_offline_drop_off_waiting_for_sync(bloqit: ServerHandle, api: httpx.Client, receiver) -> None:
    register(api, bloqit, f"{receiver.url}/hook", secret=None, events=[e for e in EVENT_TYPES if e.startswith("rent.")])
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]

    api.post(f"{bloqit.url}/_admin/rents/{rent_id}/offline-dropoff", json={"waiting_sync": True}).raise_for_status()
    bad = api.post(f"{bloqit.url}/_admin/rents/{rent_id}/offline-dropoff", json={"waiting_sync": "yes"})

    codes = [hook.json["codeName"] for hook in receiver.wait_for(5)]
    assert codes[2:] == [
        "rent.drop_off_code_check_offline", "rent.waiting_offline_dropoff_sync", "rent.offline_dropoff",
    ]  # fmt: skip
    assert bad.status_code == 400


def test_admin_extend_sends_rent_extended_with_the_new_expiry(
    bloqit: ServerHandle, api: httpx.Client, receiver
) -> None:
    # Given a delivery with the item in the locker
    register(api, bloqit, f"{receiver.url}/hook", events=["rent.extended"])
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]
    api.post(f"{bloqit.url}/_admin/rents/{rent_id}/dropoff").raise_for_status()
    before = datetime.fromisoformat(api.get(f"{bloqit.url}{API}/rents/{rent_id}").json()["expiryDate"])

    # When Bloq.It's backoffice extends it by 24 hours, then to a given date, then with nonsense
    by_hours = api.post(f"{bloqit.url}/_admin/rents/{rent_id}/extend", json={"hours": 24}).json()["rent"]
    to_date = api.post(f"{bloqit.url}/_admin/rents/{rent_id}/extend", json={"expiryDate": future(100)}).json()["rent"]
    nonsense = api.post(f"{bloqit.url}/_admin/rents/{rent_id}/extend", json={"hours": -1})

    # Then each extension is a signed rent.extended carrying the new expiry in metadata.expiryDate
    assert datetime.fromisoformat(by_hours["expiryDate"]) - before == timedelta(hours=24)
    assert nonsense.status_code == 400
    hooks = receiver.wait_for(2)
    assert [hook.json["metadata"] for hook in hooks] == [
        {"expiryDate": by_hours["expiryDate"]}, {"expiryDate": to_date["expiryDate"]},
    ]  # fmt: skip
    for hook in hooks:
        verify(hook)
        assert hook.json["actionInitiatedBy"]["source"] == "bloq_it_admin"
    parsed = BloqWebhookEvent.model_validate(hooks[0].json).new_expiry
    assert parsed == datetime.fromisoformat(by_hours["expiryDate"])
    assert to_date["state"] == "in_progress"


def test_the_extend_endpoint_puts_the_new_expiry_in_the_event_metadata(
    bloqit: ServerHandle, api: httpx.Client, receiver
) -> None:
    register(api, bloqit, f"{receiver.url}/hook", secret=None, events=["rent.extended"])
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]

    extended = api.put(f"{bloqit.url}{API}/rents/{rent_id}/extend", json={"expiryDate": future(30)}).json()

    (hook,) = receiver.wait_for(1)
    assert hook.json["metadata"] == {"expiryDate": extended["expiryDate"]}
    assert hook.json["actionInitiatedBy"]["source"] == "public_api"


@pytest.mark.parametrize("before", ["reserved", "in_progress", "cancelled"])
def test_only_an_expired_delivery_can_be_returned(bloqit: ServerHandle, api: httpx.Client, before: str) -> None:
    # Given a delivery that is not expired
    rent_id = api.post(f"{bloqit.url}{API}/deliveries", params={"bloqID": LISBON_T1}, json={}).json()["_id"]
    if before != "reserved":
        api.post(f"{bloqit.url}/_admin/rents/{rent_id}/dropoff").raise_for_status()
    if before == "cancelled":
        api.put(f"{bloqit.url}{API}/rents/{rent_id}/cancel").raise_for_status()

    # When it is returned
    refused = api.put(f"{bloqit.url}{API}/deliveries/{rent_id}/return", json={"expiryDate": future(24)})

    # Then Bloq.It refuses, and the rent is unchanged
    assert (refused.status_code, refused.json()["code"]) == (409, "rentStateInvalid")
    rent = api.get(f"{bloqit.url}{API}/rents/{rent_id}").json()
    assert (rent["type"], rent["state"]) == ("delivery", before)
