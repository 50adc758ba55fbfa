"""Client of the Blink interface API (vendor-docs/blink-api.txt, ``/interface/v1/...``).

Authentication is :class:`BlinkTokenAuth`, an ``httpx.Auth``: it logs in with the merchant's
username and password, caches the bearer token until shortly before the JWT's ``exp``, and on a 401
logs in again once and replays the request once (a second 401 reaches the caller as
``VendorAuthError``). Every method goes through it; none handles tokens itself.

Blink also fails "softly": a 2xx whose body says ``"success": false``. Those are raised as
``PermanentVendorError`` with Blink's ``msg``/``error``.

Paginated endpoints are generators that fetch the next page only when the caller gets there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from pydantic import BaseModel

from orderbridge.config import VendorSettings
from orderbridge.models.blink import (
    BlinkAbandonedCart,
    BlinkAbandonedCartsResponse,
    BlinkAck,
    BlinkBranch,
    BlinkBranchesResponse,
    BlinkCustomer,
    BlinkCustomersResponse,
    BlinkLoginRequest,
    BlinkLoginResponse,
    BlinkMenuItem,
    BlinkMenuPage,
    BlinkOrderDetails,
    BlinkOrderListResponse,
    BlinkOrderResponse,
    BlinkOrderStatusSync,
    BlinkOrderSummary,
    BlinkPagination,
    BlinkRequest,
    BlinkStockAndPriceSync,
    BlinkSubmitOrderRequest,
    BlinkSubmitOrderResponse,
    BlinkSubmittedOrder,
)
from orderbridge.models.states import BlinkOrderStatus
from orderbridge.models.types import RefusedEntry
from orderbridge.observability import logger
from orderbridge.vendors.credentials import BlinkCredentials, VendorCredentials
from orderbridge.vendors.http import (
    PermanentVendorError,
    VendorAuthError,
    VendorHttpClient,
    decode_json,
    describe_vendor_body,
    encode_json,
    parse_answer,
    raise_for_vendor_status,
)

VENDOR = "blink"
LOGIN_PATH = "/interface/v1/login"
FETCH_MENU_PATH = "/interface/v1/fetchMenu"
SYNC_STOCK_AND_PRICE_PATH = "/interface/v1/syncStockAndPrice"
BRANCHES_PATH = "/interface/v1/branches"
CUSTOMERS_PATH = "/interface/v1/customers"
SUBMIT_ORDER_PATH = "/interface/v1/submitOrder"
GET_ORDER_PATH = "/interface/v1/getOrder"
GET_ORDER_LIST_PATH = "/interface/v1/getOrderList"
GET_ABANDONED_CARTS_PATH = "/interface/v1/getAbandonedCarts"
SYNC_ORDER_STATUS_PATH = "/interface/v1/syncOrderStatus"

# A token is dropped this long before its JWT exp, so no request leaves with a token that expires
# on the way.
TOKEN_REFRESH_MARGIN_SECONDS = 60.0
# How long to keep a token whose expiry cannot be read (not a JWT, or no exp claim).
TOKEN_FALLBACK_TTL_SECONDS = 15 * 60.0

P = TypeVar("P")
BaseModelT = TypeVar("BaseModelT", bound=BaseModel)


def raise_for_soft_failure(body: Any, *, status_code: int | None = None, vendor: str = VENDOR) -> None:
    """Raise when a 2xx body says ``"success": false`` (the Blink platform's soft failure)."""
    if isinstance(body, Mapping) and body.get("success") in (False, "false", 0, "0"):
        message, code = describe_vendor_body(body)
        raise PermanentVendorError(
            vendor, message or "the answer says success: false", status_code=status_code, vendor_code=code
        )


class BlinkTokenAuth(httpx.Auth):
    """Bearer-token auth for Blink: log in when needed, cache the token, re-login once on a 401.

    The cache belongs to this instance (one client per merchant per container) and is guarded by a
    lock. The login itself runs outside the lock, inside httpx's auth flow: two threads that find no
    token at the same moment may both log in, which is harmless (each gets a valid token) and keeps
    a lock from ever being held across network I/O.
    """

    requires_response_body = True

    def __init__(
        self,
        credentials: BlinkCredentials,
        login_url: str | httpx.URL,
        *,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = TOKEN_REFRESH_MARGIN_SECONDS,
        fallback_ttl: float = TOKEN_FALLBACK_TTL_SECONDS,
    ) -> None:
        self._credentials = credentials
        self._login_url = httpx.URL(login_url)
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._fallback_ttl = fallback_ttl
        self._lock = threading.Lock()
        self._token: str | None = None
        self._valid_until = 0.0

    # -- the token cache ---------------------------------------------------------------------------

    def cached_token(self) -> str | None:
        """The cached token while it is still fresh, else None."""
        with self._lock:
            if self._token is not None and self._clock() < self._valid_until:
                return self._token
            return None

    def store(self, token: str) -> None:
        """Cache ``token`` until ``refresh_margin`` before its JWT exp (or for ``fallback_ttl``)."""
        valid_until = self._valid_until_for(token)
        with self._lock:
            self._token = token
            self._valid_until = valid_until

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (unless another thread has already replaced it)."""
        with self._lock:
            if self._token == token:
                self._token = None
                self._valid_until = 0.0

    def _valid_until_for(self, token: str) -> float:
        now = self._clock()
        try:
            # Only to read exp: the token is Blink's to verify, we hold no key for it.
            claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
        except jwt.PyJWTError:
            return now + self._fallback_ttl
        exp = claims.get("exp") if isinstance(claims, dict) else None
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            return float(exp) - self._refresh_margin
        return now + self._fallback_ttl

    # -- login -----------------------------------------------------------------------------------------

    def login_body(self) -> dict[str, Any]:
        return BlinkLoginRequest(username=self._credentials.username, password=self._credentials.password).to_body()

    def accept_login(self, response: httpx.Response) -> BlinkLoginResponse:
        """Check a login answer, cache its token and return it."""
        raise_for_vendor_status(VENDOR, response)
        body = decode_json(response)
        try:
            raise_for_soft_failure(body, status_code=response.status_code)
        except PermanentVendorError as exc:  # a refused login is an auth failure
            raise VendorAuthError(VENDOR, exc.message, status_code=exc.status_code) from None
        answer = parse_answer(VENDOR, BlinkLoginResponse, body, status_code=response.status_code)
        self.store(answer.access_token.get_secret_value())
        return answer

    def _login_flow(self, reason: str) -> Generator[httpx.Request, httpx.Response, str]:
        started = time.perf_counter()
        request = httpx.Request(
            "POST",
            self._login_url,
            content=encode_json(self.login_body()),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        response = yield request
        logger.info(
            "vendor login",
            extra={
                "vendor": VENDOR,
                "path": self._login_url.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "reason": reason,
            },
        )
        return self.accept_login(response).access_token.get_secret_value()

    # -- the httpx auth flow ---------------------------------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.url.copy_with(query=None) == self._login_url:
            yield request  # the login itself carries credentials, not a token
            return
        token = self.cached_token()
        if token is None:
            token = yield from self._login_flow("no token")
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        # The token was refused (revoked, rotated password, clock skew): log in again, once.
        self.invalidate(token)
        token = yield from self._login_flow("token refused")
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


class BlinkClient:
    """Typed client of the Blink interface API. Build it once per merchant per container."""

    def __init__(self, http: VendorHttpClient, auth: BlinkTokenAuth) -> None:
        self._http = http
        self._auth = auth

    @classmethod
    def create(
        cls,
        vendor_settings: VendorSettings,
        credentials: BlinkCredentials | VendorCredentials,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> BlinkClient:
        """A client for ``vendor_settings.blink_base_url``.

        ``transport``, ``sleep`` and ``clock`` are for tests (a mock transport, no waiting between
        retries, a controllable clock for token expiry).
        """
        if isinstance(credentials, VendorCredentials):
            credentials = credentials.require_blink()
        base_url = vendor_settings.blink_base_url.rstrip("/")
        auth = BlinkTokenAuth(credentials, f"{base_url}{LOGIN_PATH}", clock=clock)
        http = VendorHttpClient.from_settings(
            VENDOR,
            base_url,
            vendor_settings,
            auth=auth,
            transport=transport,
            sleep=sleep,
        )
        return cls(http, auth)

    def close(self) -> None:
        self._http.close()

    # -- Authorization ----------------------------------------------------------------------------------

    def login(self) -> BlinkLoginResponse:
        """Log in now (POST /interface/v1/login) and cache the token for the calls that follow.

        Not needed before other calls: they log in by themselves when they have no fresh token.
        """
        response = self._http.request("POST", LOGIN_PATH, json=self._auth.login_body())
        return self._auth.accept_login(response)

    # -- Menu, stock and price --------------------------------------------------------------------------

    def fetch_menu(self) -> Iterator[BlinkMenuItem]:
        """Every menu item, across all pages (GET /interface/v1/fetchMenu, following next_page_path)."""
        for page in _walk_pages(self.fetch_menu_page, _next_menu_page):
            yield from page.data

    def fetch_menu_page(self, page: int = 1) -> BlinkMenuPage:
        return self._get(BlinkMenuPage, FETCH_MENU_PATH, params={"page": page})

    def sync_stock_and_price(self, sync: BlinkStockAndPriceSync) -> BlinkAck:
        """POST /interface/v1/syncStockAndPrice (prices sent as exact JSON numbers)."""
        return self._send(BlinkAck, "POST", SYNC_STOCK_AND_PRICE_PATH, body=sync)

    # -- Branches and customers -----------------------------------------------------------------------

    def branches(self, *, refused: list[RefusedEntry] | None = None) -> list[BlinkBranch]:
        """Every branch of the merchant in Blink (GET /interface/v1/branches).

        ``refused`` (here and in the other listings): where the entries the models refused (an
        empty or overlong id, a code too long: ``models.types``) are added, for the caller to
        report; the other entries are returned. Without it they are logged."""
        answer = self._get(BlinkBranchesResponse, BRANCHES_PATH)
        _note_refused(answer.refused, refused, BRANCHES_PATH)
        return answer.data

    def customers(
        self,
        *,
        phone: str | None = None,
        created_at: datetime | None = None,
        refused: list[RefusedEntry] | None = None,
    ) -> Iterator[BlinkCustomer]:
        """Customers, across all pages (GET /interface/v1/customers, following next_page_url).

        ``phone`` (923XXXXXXXXX) finds one customer; ``created_at`` keeps those created after it.
        """
        filters = {
            "phone": phone,
            "created_at": _utc(created_at, "created_at").strftime("%Y-%m-%d %H:%M:%S") if created_at else None,
        }

        def fetch(page: int) -> BlinkCustomersResponse:
            return self._get(BlinkCustomersResponse, CUSTOMERS_PATH, params={**filters, "page": page})

        for answer in _walk_pages(fetch, _next_customers_page):
            _note_refused(answer.data.refused, refused, CUSTOMERS_PATH)
            yield from answer.data.data

    # -- Orders -------------------------------------------------------------------------------------------

    def submit_order(self, order: BlinkSubmitOrderRequest) -> BlinkSubmittedOrder:
        """Push an order into Blink (POST /interface/v1/submitOrder): Blink's id and unique code.

        Sent once: Blink offers no lookup by our reference, so a request that may have reached it is
        never repeated (``VendorOutcomeUnknown``: a person checks)."""
        return self._send(BlinkSubmitOrderResponse, "POST", SUBMIT_ORDER_PATH, body=order, once=True).data

    def get_order(self, order_id: str | int, *, unique_code: str | None = None) -> BlinkOrderDetails:
        """One order (GET /interface/v1/getOrder)."""
        params = {"order_id": str(order_id), "unique_code": unique_code}
        return self._get(BlinkOrderResponse, GET_ORDER_PATH, params=params).data

    def get_order_list(
        self, after_order_id: str | int, *, refused: list[RefusedEntry] | None = None
    ) -> Iterator[BlinkOrderSummary]:
        """Orders whose id is greater than ``after_order_id``, across all pages (GET getOrderList).

        This is the catch-up for webhooks Blink failed to deliver: pass the highest order id seen.
        """

        def fetch(page: int) -> BlinkOrderListResponse:
            params = {"order_id": str(after_order_id), "page": page}
            return self._get(BlinkOrderListResponse, GET_ORDER_LIST_PATH, params=params)

        for answer in _walk_pages(fetch, lambda answer: _next_by_has_more(answer.pagination)):
            _note_refused(answer.refused, refused, GET_ORDER_LIST_PATH)
            yield from answer.data

    def get_abandoned_carts(
        self, start: datetime, end: datetime, *, refused: list[RefusedEntry] | None = None
    ) -> Iterator[BlinkAbandonedCart]:
        """Carts created between ``start`` and ``end`` (UTC, to the minute), across all pages."""
        start_utc, end_utc = _utc(start, "start"), _utc(end, "end")
        if end_utc < start_utc:
            raise ValueError("end must not be before start")
        dates = {"start_date": start_utc.strftime("%Y-%m-%d %H:%M"), "end_date": end_utc.strftime("%Y-%m-%d %H:%M")}

        def fetch(page: int) -> BlinkAbandonedCartsResponse:
            return self._get(BlinkAbandonedCartsResponse, GET_ABANDONED_CARTS_PATH, params={**dates, "page": page})

        for answer in _walk_pages(fetch, lambda answer: _next_by_has_more(answer.pagination)):
            _note_refused(answer.data.refused, refused, GET_ABANDONED_CARTS_PATH)
            yield from answer.data.data

    def sync_order_status(
        self,
        blink_order_id: str | int,
        status: BlinkOrderStatus | int,
        *,
        comment: str | None = None,
        once: bool = False,
    ) -> BlinkAck:
        """Set an order's status in Blink (POST /interface/v1/syncOrderStatus).

        Rejecting (status 4) needs ``comment``, the reason: without one this raises ``ValueError``
        before anything is sent. ``once``: not sent again after a request that may have reached
        Blink (``VendorOutcomeUnknown``): the caller reads the order back (``get_order``) first.
        """
        sync = BlinkOrderStatusSync(
            blink_order_id=str(blink_order_id), status=BlinkOrderStatus(status), comment=comment
        )
        return self._send(BlinkAck, "POST", SYNC_ORDER_STATUS_PATH, body=sync, once=once)

    # -- plumbing -----------------------------------------------------------------------------------------

    def _get(self, model: type[BaseModelT], path: str, *, params: Mapping[str, Any] | None = None) -> BaseModelT:
        return self._send(model, "GET", path, params=params)

    def _send(
        self,
        model: type[BaseModelT],
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: BlinkRequest | None = None,
        once: bool = False,
    ) -> BaseModelT:
        response = self._http.request(method, path, params=params, json=body.to_body() if body else None, once=once)
        answer = decode_json(response)
        raise_for_soft_failure(answer, status_code=response.status_code)
        return parse_answer(VENDOR, model, answer, status_code=response.status_code)


def _note_refused(found: list[RefusedEntry], into: list[RefusedEntry] | None, path: str) -> None:
    """Hand the entries a listing's model refused to the caller (``into``), else log them."""
    if not found:
        return
    if into is not None:
        into.extend(found)
        return
    for entry in found:
        logger.warning(
            "an entry of Blink's answer was refused", extra={"path": path, **entry.model_dump(exclude_none=True)}
        )


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _walk_pages(fetch: Callable[[int], P], next_page: Callable[[P], int | None]) -> Iterator[P]:
    """Pages 1, 2, ... as long as ``next_page`` names one; refuses a vendor paginator that loops."""
    seen: set[int] = set()
    page_number: int | None = 1
    while page_number is not None:
        if page_number in seen:
            raise PermanentVendorError(VENDOR, f"pagination points back to page {page_number}")
        seen.add(page_number)
        page = fetch(page_number)
        yield page
        page_number = next_page(page)


def _page_from_link(link: str | None, current: int | None, last: int | None) -> int | None:
    """The page a Laravel-style "next" link points to, or None at the end.

    Only the page number is taken from the link: the request goes to our own base URL (the token
    never follows a link to another host) with our own filters, which Laravel leaves out of its
    links unless told otherwise.
    """
    if not link:
        return None
    if current is not None and last is not None and current >= last:
        return None
    pages = parse_qs(urlsplit(link).query).get("page")
    if pages and pages[0].isdigit():
        return int(pages[0])
    return current + 1 if current is not None else None


def _next_menu_page(page: BlinkMenuPage) -> int | None:
    return next_menu_page(page)


def next_menu_page(page: BlinkMenuPage) -> int | None:
    """The fetchMenu page after ``page`` (from its ``next_page_path``), or None at the last: for a
    caller that reads the menu a page at a time (the catalog sync resumes at a page)."""
    return _page_from_link(page.next_page_path, page.current_page, page.last_page)


def _next_customers_page(answer: BlinkCustomersResponse) -> int | None:
    paginator = answer.data
    return _page_from_link(paginator.next_page_url, paginator.current_page, paginator.last_page)


def _next_by_has_more(pagination: BlinkPagination | None) -> int | None:
    if pagination is None or not pagination.has_more or pagination.current_page is None:
        return None
    if pagination.last_page is not None and pagination.current_page >= pagination.last_page:
        return None
    return pagination.current_page + 1
