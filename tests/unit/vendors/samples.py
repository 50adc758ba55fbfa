"""Sample bodies copied verbatim from the vendor docs (shared/vendor-docs/).

Kept as JSON text, not Python dicts, so values such as "7199.980" and 53.11 reach the code under
test exactly as the vendor writes them.
"""

from __future__ import annotations

# blink-api.txt, Authorization API: sample payload
BLINK_LOGIN_REQUEST = """\
{
    "username": "xxxxxxxxx",
    "password": "xxxxxxxxx"
}
"""

# blink-api.txt, Authorization API: sample response (token truncated in the doc)
BLINK_LOGIN_RESPONSE = """\
{
    "token_type": "Bearer",
    "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9....."
}
"""

# blink-api.txt, Fetch Menu: sample response (page 2 of 5)
BLINK_FETCH_MENU_RESPONSE = """\
{
    "total_items": 9,
    "last_page": 5,
    "current_page": 2,
    "per_page": 2,
    "next_page_path": "https://api.blinkco.io/interface/v1/fetchMenu?page=3",
    "last_page_path": "https://api.blinkco.io/interface/v1/fetchMenu?page=5",
    "data": [
        {
            "id": "",
            "name": "Parisian Platter of Mini Sandwiches",
            "price": "7199.980",
            "discount_price": "0.000",
            "category": [
                {
                    "id": 126873,
                    "code": null,
                    "name": "Cocktails & Aperitifs"
                }
            ],
            "branches": [],
            "modifiers": []
        },
        {
            "id": "",
            "name": "The PAUL Baguette with Cheese",
            "price": "1299.990",
            "discount_price": "0.000",
            "category": [
                {
                    "id": 126875,
                    "code": null,
                    "name": "Breads"
                }
            ],
            "branches": [],
            "modifiers": [
                {
                    "id": 1531139,
                    "code": null,
                    "name": "test1",
                    "is_required": false,
                    "max_multi_select_count": 3,
                    "min_multi_select_count": 2,
                    "modifier_options": [
                        {
                            "id": 12289595,
                            "code": "",
                            "name": "testa",
                            "price": "20.000",
                            "discount_price": "0.000"
                        },
                        {
                            "id": 12289596,
                            "code": "",
                            "name": "testb",
                            "price": "15.000",
                            "discount_price": "0.000"
                        }
                    ]
                }
            ]
        }
    ]
}
"""

# blink-api.txt, Stock and Price Syncing: sample payload
BLINK_STOCK_AND_PRICE_PAYLOAD = """\
{
    "products": [
        {
            "id": "97358ecc-06aa-4a8c-8249-6113261ac5a8",
            "price": 94.72,
            "discount_price": 94.72,
            "branches": [
                {
                    "id": "12345",
                    "is_active": true,
                    "price": 94.72,
                    "discount_price": 94.72,
                    "stock_quantity": 1
                }
            ]
        }
    ]
}
"""

# blink-api.txt, Branches: sample response
BLINK_BRANCHES_RESPONSE = """\
{
    "msg": "Success",
    "success": true,
    "error": null,
    "data": [
        {
            "id": 63,
            "blink_id": 60001,
            "branch": "Clifton-Block 4",
            "branch_address": "209 Bolvard center, caspian road beside Hollywood Cafe",
            "is_live": 1,
            "is_active": 1
        },
        {
            "id": 64,
            "blink_id": 60002,
            "branch": "SMCHS-12",
            "branch_address": "Plot#212 Rae Avenue road",
            "is_live": 1,
            "is_active": 1
        }
    ]
}
"""

# blink-api.txt, Customers: sample response
BLINK_CUSTOMERS_RESPONSE = """\
{
    "msg": "Success",
    "success": true,
    "error": null,
    "data": {
        "current_page": 1,
        "data": [
            {
                "full_name": "John Doe",
                "phone": "+9233XXXXXXX",
                "gender": "Male",
                "date_of_birth": "1990-01-01",
                "created_at": "2023-01-01 00:00:00",
                "email": "[email protected]",
                "wallet_balance": "23",
                "loyalty_points": "100"
            }
        ],
        "first_page_url": "URL/interface/v1/customers?page=1",
        "from": 1,
        "last_page": 1,
        "last_page_url": "URL/interface/v1/customers?page=1",
        "next_page_url": null,
        "path": "URL/interface/v1/customers",
        "per_page": 100,
        "prev_page_url": null,
        "to": 4,
        "total": 4
    }
}
"""

# blink-api.txt, Submit Order: sample payload
BLINK_SUBMIT_ORDER_PAYLOAD = """\
{
    "blink_branch_id": "60002",
    "delivery": {
        "house_num": "Flat B-1203",
        "street": "Rashid Minhas Road",
        "building": "Noman Grand City",
        "area": "Gulshan-e-Iqbal Block 7",
        "city": "Karachi",
        "latitude": 24.918682,
        "longitude": 67.102982
    },
    "customer_phone": "+92333-2222222",
    "customer_name": "Test Order User",
    "is_scheduled": 1,
    "scheduled_delivery_time": "22-05-2025 08:00 PM",
    "delivery_type": "delivery",
    "payment_method": "Cash",
    "tax_amount": "12",
    "tax_percentage": "0",
    "subtotal": "90",
    "total": "132",
    "delivery_charges": "30",
    "delivery_eta": 45,
    "instructions": "test note",
    "items": [
        {
            "blink_item_id": "257327",
            "name": "Nestle MilkPak Full Cream Milk 250ml",
            "description": "Nestle MilkPak Full Cream Milk 250ml",
            "notes": "test note",
            "actual_price": "110",
            "price": "85",
            "quantity": "2",
            "sub_options": [
                {
                    "sub_option_id": "596996",
                    "price": "5",
                    "quantity": "1"
                }
            ]
        }
    ]
}
"""

# blink-api.txt, Submit Order: sample response (HTTP 201)
BLINK_SUBMIT_ORDER_RESPONSE = """\
{
    "success": true,
    "msg": "Your order has been placed",
    "data": {
        "id": 988278,
        "unique_code": "2349-JLMD3"
    }
}
"""

# blink-api.txt, Fetch Order: sample response (HTTP 201)
BLINK_GET_ORDER_RESPONSE = """\
{
    "success": true,
    "data": {
        "id": 988309,
        "unique_code": "1T4I-C7WC1",
        "customer_name": "Test Order User",
        "customer_phone": "+923332222222",
        "latitude": "24.918682",
        "longitude": "67.102982",
        "delivery_eta": 45,
        "delivery_type": "delivery",
        "status": "ACCEPTED",
        "ordertime": "2025-05-22 08:02:10",
        "instruction": "test note",
        "payment_method": "Cash",
        "subtotal": 90,
        "total": 132,
        "delivery_charges": 30,
        "promo_code": "",
        "promo_discount": 0,
        "reject_reason": "",
        "items": [
            {
                "item_id": 257327,
                "quantity": 2,
                "price": 90,
                "actual_price": 115,
                "details": "Nestle MilkPak Full Cream Milk 250ml",
                "notes": "test note"
            }
        ]
    }
}
"""

# blink-api.txt, Order List: sample response
BLINK_ORDER_LIST_RESPONSE = """\
{
    "success": true,
    "data": [
        {
            "id": 34862445,
            "unique_code": "KXC2-SQ740",
            "customer_name": "John Doe",
            "customer_phone": "+920554897875",
            "delivery_type": "delivery",
            "status": "REJECTED",
            "ordertime": "2024-01-07 08:51:46",
            "payment_method": "Cash",
            "subtotal": 47,
            "total": 53.11,
            "delivery_charges": 0,
            "items": [
                {
                    "item_id": 1567138,
                    "quantity": 1,
                    "price": 23,
                    "actual_price": 23,
                    "details": "Chicken Bites 8 Pcs",
                    "notes": null
                }
            ]
        }
    ],
    "pagination": {
        "total": 441,
        "per_page": 30,
        "current_page": 1,
        "last_page": 15,
        "from": 1,
        "to": 30,
        "has_more": true
    }
}
"""

# blink-api.txt, Get Abandoned Carts: sample response
BLINK_ABANDONED_CARTS_RESPONSE = """\
{
    "success": true,
    "pagination": {
        "total": 177,
        "per_page": 5,
        "current_page": 1,
        "last_page": 36,
        "from": 1,
        "to": 5,
        "has_more": true
    },
    "data": {
        "current_page": 1,
        "data": [
            {
                "order_id": "",
                "branch_id": "",
                "customer": {
                    "name": "Test User",
                    "phone": "+9233XXXXXXX",
                    "address": "",
                    "latitude": "",
                    "longitude": ""
                },
                "notification": {
                    "status": "SENT",
                    "sent_at": "2026-02-09 08:34:04"
                },
                "created_at": "2026-02-09 08:08:18",
                "cart_value": 744,
                "cart_items": [
                    {
                        "dish_id": 722688,
                        "quantity": 1,
                        "details": "Abbott Similac Total Comfort 2 (6-12 Months) 360g",
                        "unit_price": "142.000",
                        "actual_unit_price": "142.000",
                        "total_price": "344.0",
                        "actual_total_price": "344.0",
                        "selected_suboption_ids": "[]",
                        "options": [
                            {
                                "id": 707758,
                                "name": "Variation",
                                "suboptions": [
                                    {
                                        "id": 6044445,
                                        "name": "per unit",
                                        "price": "0.000",
                                        "actual_price": "0.000"
                                    }
                                ]
                            },
                            {
                                "id": 191554,
                                "name": "Sauce",
                                "suboptions": [
                                    {
                                        "id": 6052048,
                                        "name": "test",
                                        "price": "0.000",
                                        "actual_price": "200.000"
                                    },
                                    {
                                        "id": 896289,
                                        "name": "Buffalo",
                                        "price": "0.000",
                                        "actual_price": "2.000"
                                    }
                                ]
                            }
                        ]
                    }
                ]
            }
        ]
    }
}
"""

# blink-api.txt, Order Status Syncing: accept an order
BLINK_ACCEPT_ORDER_PAYLOAD = """\
{
    "blink_order_id": "123456",
    "status": 1
}
"""

# blink-api.txt, Order Status Syncing: reject an order
BLINK_REJECT_ORDER_PAYLOAD = """\
{
    "blink_order_id": "123456",
    "status": 4,
    "comment": "Delivery area is too far"
}
"""

# blink-api.txt, Logistics Task Creation: sample payload
LOGISTICS_CREATE_TASK_PAYLOAD = """\
{
    "source": "SourceTesting",
    "mappingKey": "12345678",
    "mappingCode": "12345678",
    "mappingBranchId": "12345",
    "discountCode": "",
    "tax": 0,
    "taxPercent": 0,
    "discount": 0,
    "deliveryCharges": 120,
    "subTotal": 2080,
    "paymentType": "COD",
    "description": "Details: Milk Buffalo 1 Ltr Pouch, Quantity: 8",
    "instruction": "",
    "customerName": "Test Customer",
    "customerEmail": "[email protected]",
    "customerAddress": "Tariq Road, PECHS Block 2",
    "customerPhone": "923001234567",
    "lat": "24.871641",
    "lng": "67.059906",
    "deliveryTime": "2024-06-06T04:29:15.000Z",
    "pickUpTime": "2024-06-06T03:29:15.000Z",
    "type": 1
}
"""

# blink-api.txt, Logistics Task Creation: sample response (HTTP 201)
LOGISTICS_CREATE_TASK_RESPONSE = """\
{
    "eventId": 20,
    "event": "TASK_CREATED",
    "data": {
        "taskId": "XYZAB-12345",
        "type": 1
    }
}
"""

# blink-api.txt, Logistics Task Update: sample response (HTTP 201)
LOGISTICS_UPDATE_TASK_RESPONSE = """\
{
    "eventId": 21,
    "event": "TASK_UPDATED",
    "data": {
        "taskId": "XYZAB-12345",
        "type": 1
    }
}
"""

# blink-api.txt, Logistics Get Task Status: sample response
LOGISTICS_TASK_STATUS_RESPONSE = """\
{
    "eventId": 24,
    "event": "TASK_ACCEPTED",
    "data": {
        "taskId": "XYZAB-12345",
        "type": 1,
        "reason": "",
        "agent": {
            "name": "Test Rider",
            "contact": "+923213456789"
        },
        "trackingLink": "https://delivery-stg.blinkco.io/tracking/jvkUgPIRN6f8jZg9q62xy"
    }
}
"""

# dispatchninja-order-api.txt, Creating an Order: response
NINJA_ADD_ORDER_RESPONSE = """\
{
  "code": "200",
  "status": "200 success",
  "response": {
    "message": "Order Successfully Added. Use the Order ID to query or update this order.",
    "order_id": "1857",
    "order_count": 4
  }
}
"""

# dispatchninja-order-api.txt, Querying an Order: response
NINJA_ORDER_DETAILS_RESPONSE = """\
{
  "code": "200",
  "status": "200 success",
  "response": {
    "id": "1857",
    "created": "2021-04-23 15:12:44",
    "created_by": "192",
    "modified": "2021-04-23 15:12:45",
    "modified_by": "192",
    "canceled": null,
    "canceled_by": null,
    "completed": null,
    "completed_by": null,
    "trash": "0",
    "location": "21",
    "location_count": null,
    "dispatcher": null,
    "driver": null,
    "driver_name": null,
    "status_id": "1",
    "status": "Pending",
    "delivery_time_type": "asap",
    "delivery_time": "asap",
    "delivery_delay": null,
    "comment": "This is a test order",
    "payment_method": null,
    "payment_method_name": null,
    "paid": "0",
    "tip": "0.00",
    "delivery_fee": "0",
    "extra_delivery_fee": "0",
    "price": "0.00",
    "surcharge": null,
    "discount": "0.00",
    "coupon": "0",
    "tax": "0.00",
    "grand_total": "0.00",
    "client": "0",
    "client_name": "Test Store",
    "client_address": "145 Test st",
    "client_latitude": "43.1722028",
    "client_longitude": "-79.2522345",
    "customer": "8",
    "customer_name": "Test Customer",
    "customer_apt": null,
    "customer_address": "150 Test st",
    "customer_phone": "777 777 7777",
    "customer_email": "test@test.com",
    "customer_latitude": "42.1315155",
    "customer_longitude": "-80.090805",
    "estimated_distance": "211 km",
    "estimated_duration": "2 hours 13 mins",
    "actual_duration": null,
    "red_zone": null,
    "loss": null,
    "loss_amount": null,
    "opened": "1",
    "order_number": "4",
    "milestone_event_label": null,
    "milestone_event_value": null,
    "tracking_hash": "ere2u7evedypada2u9u3era6ezuhu6ur",
    "cancelled_reason": null,
    "pool_id": "177647",
    "pool_locked": null,
    "pre_auth_code": null
  }
}
"""
