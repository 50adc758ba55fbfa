"""Samples copied from vendor-docs/bloqit-partner-api.txt (Bloq.It Partner API 1.35.0).

Verbatim JSON text of every request and response sample of the doc, bullets removed, collapsed
objects and arrays (``{ }``, ``[ ]``) left as the doc shows them. ``REQ_*`` are request samples;
the others are response samples. The comment names the doc line where the sample starts.
Parse responses through the HTTP layer (``decode_json``) so numbers become ``Decimal``.
"""

# ruff: noqa: E501

# line 129
BLOQ_LIST = """\
{
  "totalDocs": 2,
  "page": 1,
  "limit": 10,
  "docs": [
    ]
}
"""

# line 172
BLOQ = """\
{
  "_id": "5e5fbcebd1195468b647aa02",
  "active": true,
  "details": {
    },
  "code": "T1",
  "createdAt": "2020-03-04T14:36:27.826Z",
  "updatedAt": "2020-04-28T13:38:50.339Z",
  "maxRentTimeHour": 2,
  "supports": [
    ],
  "location": {
    },
  "price": {
    },
  "lockersMeasures": {
    },
  "status": {
    },
  "lockers": [
    ]
}
"""

# line 230
FREE_LOCKERS = """\
[
  {
    }
]
"""

# line 326
BLOQ_GEOSEARCH = """\
{
  "totalDocs": 2,
  "page": 1,
  "limit": 10,
  "docs": [
    ]
}
"""

# line 408
REQ_BLOQ_UPDATE = """\
{
  "active": true,
  "title": "Discriptive title",
  "city": "Lisbon",
  "code": "ABC123",
  "address": "string",
  "postalCode": "1234-567",
  "location": {
    },
  "maxRentTimeHour": 2,
  "maxRentDeliveryTimeHour": 2,
  "maxRentCollectTimeHour": 2,
  "metadata": { }
}
"""

# line 427
BLOQ_UPDATED = """\
{
  "_id": "5e5fbcebd1195468b647aa02",
  "active": true,
  "details": {
    },
  "code": "T1",
  "createdAt": "2020-03-04T14:36:27.826Z",
  "updatedAt": "2020-04-28T13:38:50.339Z",
  "maxRentTimeHour": 2,
  "supports": [
    ],
  "location": {
    },
  "price": {
    },
  "lockersMeasures": {
    },
  "status": {
    },
  "lockers": [
    ]
}
"""

# line 491
LOCKER_OPENED = """\
{
  "_id": "5d5a6e83d1682b7194fc5f9c",
  "rent": null,
  "charger": true,
  "objectDetection": false,
  "isOpen": true,
  "lastDoorOpeningTimestamp": "null",
  "lockerTitle": "A1",
  "bloq": "5d5a6e83d1682b7194fc5f91",
  "type": "S",
  "active": true
}
"""

# line 529
REQ_LOCKERS_OPEN = """\
{
  "lockers": [
    ]
}
"""

# line 538
LOCKERS_OPENED = """\
[
  "5d5a6e83d1682b7194fc5f9c",
  "5d5a6e83d1682b7194fc5f7g"
]
"""

# line 584
LOCKER_CLOSED = """\
{
  "_id": "5d5a6e83d1682b7194fc5f9c",
  "rent": null,
  "charger": true,
  "objectDetection": false,
  "isOpen": false,
  "lastDoorOpeningTimestamp": "null",
  "lockerTitle": "A1",
  "bloq": "5d5a6e83d1682b7194fc5f91",
  "type": "S",
  "active": true
}
"""

# line 629
REQ_LOCKER_AVAILABILITY = """\
{
  "active": true
}
"""

# line 637
LOCKER_AVAILABILITY = """\
{
  "_id": "5d5a6e83d1682b7194fc5f9c",
  "rent": null,
  "charger": true,
  "objectDetection": false,
  "isOpen": false,
  "lastDoorOpeningTimestamp": "null",
  "lockerTitle": "A1",
  "bloq": "5d5a6e83d1682b7194fc5f91",
  "type": "S",
  "active": true
}
"""

# line 691
LOCKER_OPEN_OR_COLLECT = """\
{
  "_id": "5d5a6e83d1682b7194fc5f9c",
  "rent": null,
  "charger": true,
  "objectDetection": false,
  "isOpen": true,
  "lastDoorOpeningTimestamp": "null",
  "lockerTitle": "A1",
  "bloq": "5d5a6e83d1682b7194fc5f91",
  "type": "S",
  "active": true
}
"""

# line 754
REQ_BLOQ_LOCATION_CREATE = """\
{
  "address": "Street 123, 1100-123 Lisbon",
  "latitude": 38.707163,
  "longitude": -9.135517,
  "externalID": "externalID-1",
  "name": "Supermarket Locker 01",
  "metadata": {
    }
}
"""

# line 768
BLOQ_LOCATION_CREATED = """\
{
  "address": "Street 123, 1100-123 Lisbon",
  "externalID": "externalID-1",
  "name": "Supermarket Locker 01",
  "location": {
    },
  "state": "created",
  "metadata": {
    }
}
"""

# line 849
BLOQ_LOCATION_LIST = """\
{
  "totalDocs": 2,
  "page": 1,
  "limit": 15,
  "docs": [
    ]
}
"""

# line 892
BLOQ_LOCATION = """\
{
  "address": "Street 123, 1100-123 Lisbon",
  "externalID": "externalID-1",
  "name": "Supermarket Locker 01",
  "location": {
    },
  "state": "created",
  "metadata": {
    }
}
"""

# line 959
REQ_BLOQ_LOCATION_UPDATE = """\
{
  "address": "Street 123, 1100-123 Lisbon",
  "latitude": 38.707163,
  "longitude": -9.135517,
  "externalID": "externalID-1",
  "name": "Supermarket Locker 01",
  "metadata": {
    },
  "state": "churned"
}
"""

# line 974
BLOQ_LOCATION_UPDATED = """\
{
  "address": "Street 123, 1100-123 Lisbon",
  "externalID": "externalID-1",
  "name": "Supermarket Locker 01",
  "location": {
    },
  "state": "created",
  "metadata": {
    }
}
"""

# line 1020
BLOQ_LOCATION_BY_EXTERNAL_ID = """\
{
  "address": "Street 123, 1100-123 Lisbon",
  "externalID": "externalID-1",
  "name": "Supermarket Locker 01",
  "location": {
    },
  "state": "created",
  "metadata": {
    }
}
"""

# line 1087
REQ_BLOQ_LOCATION_UPDATE_BY_EXTERNAL_ID = """\
{
  "address": "Street 123, 1100-123 Lisbon",
  "latitude": 38.707163,
  "longitude": -9.135517,
  "externalID": "externalID-1",
  "name": "Supermarket Locker 01",
  "metadata": {
    },
  "state": "churned"
}
"""

# line 1102
BLOQ_LOCATION_UPDATED_BY_EXTERNAL_ID = """\
{
  "address": "Street 123, 1100-123 Lisbon",
  "externalID": "externalID-1",
  "name": "Supermarket Locker 01",
  "location": {
    },
  "state": "created",
  "metadata": {
    }
}
"""

# line 1159
LABELS_BULK = """\
{
  "totalDocs": 2,
  "page": 1,
  "limit": 15,
  "docs": [
    ]
}
"""

# line 1202
LABELS = """\
{
  "remainingLabels": "120"
}
"""

# line 1237
REQ_PRINT_LABEL = """\
{
  "content": { }
}
"""

# line 1244
PRINT_LABEL = """\
{
  "_id": "5d5a6e83d1682b7194fc5f9c",
  "rent": null,
  "charger": true,
  "objectDetection": false,
  "isOpen": false,
  "lastDoorOpeningTimestamp": "null",
  "lockerTitle": "A1",
  "bloq": "5d5a6e83d1682b7194fc5f91",
  "type": "S",
  "active": true
}
"""

# line 1292
NOTIFY_LABEL_REPLACEMENT = """\
{
  "code": "bloqIDInvalid",
  "message": "Invalid bloqID. bloqID is either missing or has a wrong format."
}
"""

# line 1398
RENT_LIST = """\
{
  "docs": [
    ],
  "totalDocs": 50,
  "limit": 10,
  "page": 1
}
"""

# line 1497
RENT_ACTIVE_LIST = """\
{
  "docs": [
    ],
  "totalDocs": 50,
  "limit": 10,
  "page": 1
}
"""

# line 1574
RENT_REACHED_STATE_LIST = """\
{
  "docs": [
    ],
  "totalDocs": 50,
  "limit": 10,
  "page": 1
}
"""

# line 1617
RENT_BY_EXTERNAL_ID = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "finished",
  "states": [
    ],
  "customer": {
    },
  "startDate": "2020-10-13T14:56:39.561Z",
  "endDate": "2020-10-13T14:57:47.007Z",
  "details": {
    },
  "locker": {
    },
  "pricing": {
    }
}
"""

# line 1673
RENT_HISTORY = """\
[
  {
    },
  {
    },
  {
    }
]
"""

# line 1717
RENT = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "finished",
  "states": [
    ],
  "customer": {
    },
  "startDate": "2020-10-13T14:56:39.561Z",
  "endDate": "2020-10-13T14:57:47.007Z",
  "details": {
    },
  "locker": {
    },
  "pricing": {
    }
}
"""

# line 1821
REQ_RENT_UPDATE = """\
{
  "expiryDate": "2019-08-24T14:15:22Z",
  "deliveryDateLimit": "2019-08-24T14:15:22Z",
  "collectTimeLimit": 0,
  "externalID": "string",
  "dropOffCode": "string",
  "desiredLockerType": "string",
  "labelContent": { },
  "labelTemplateID": null,
  "pickUpCodes": {
    },
  "operationType": "firstMile",
  "prePickUpActions": [
    ],
  "carrier": "string"
}
"""

# line 1842
RENT_UPDATED = """\
{
  "docs": [
    ],
  "totalDocs": 50,
  "limit": 10,
  "page": 1
}
"""

# line 1875
REQ_RENT_EXTEND = """\
{
  "expiryDate": "2019-08-24T14:15:22Z"
}
"""

# line 1883
RENT_EXTENDED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "finished",
  "states": [
    ],
  "customer": {
    },
  "startDate": "2020-10-13T14:56:39.561Z",
  "endDate": "2020-10-13T14:57:47.007Z",
  "details": {
    },
  "locker": {
    },
  "pricing": {
    }
}
"""

# line 1936
RENT_LOCKER_OPENED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "store",
  "state": "locker_opened",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T14:57:47.007Z",
  "details": {
    },
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 1989
RENT_CANCELLED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "send",
  "state": "cancelled",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "endDate": "2020-10-13T14:57:47.007Z",
  "details": {
    },
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 2040
RENT_COLLECT = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "collect_item",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "endDate": "2020-10-13T14:57:47.007Z",
  "details": {
    },
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 2091
RENT_FINISHED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "finished",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "endDate": "2020-10-13T14:57:47.007Z",
  "details": {
    },
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 2146
SIM_KEYPAD = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "store",
  "state": "collect_item",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T14:57:47.007Z",
  "details": {
    },
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 2197
SIM_CLOSE = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "store",
  "state": "in_progress",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T14:57:47.007Z",
  "details": {
    },
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 2247
REQ_STORE_START = """\
{
  "pickUpCodes": {
    }
}
"""

# line 2256
STORE_STARTED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "store",
  "state": "starting",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "startDate": "2019-08-19T09:40:19.343+00:00",
  "expiryDate": "2019-08-19T11:40:19.343+00:00",
  "details": {
    },
  "pricing": {
    }
}
"""

# line 2298
REQ_STORE_END = """\
{
  "openLocker": false
}
"""

# line 2306
STORE_ENDED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "store",
  "state": "finished",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "startDate": "2019-08-19T09:40:19.343+00:00",
  "endDate": "2019-08-19T10:40:19.343+00:00",
  "details": {
    },
  "pricing": {
    }
}
"""

# line 2362
REQ_SEND_START = """\
{
  "phoneNumber": "+351919090909",
  "pickUpCodes": { }
}
"""

# line 2371
SEND_STARTED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "send",
  "state": "starting",
  "states": [
    ],
  "startDate": "2019-08-19T09:40:19.343+00:00",
  "expiryDate": "2019-08-19T11:40:19.343+00:00",
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "details": {
    },
  "pricing": {
    }
}
"""

# line 2501
REQ_DELIVERY_CREATE = """\
{
  "expiryDate": "2019-08-24T14:15:22Z",
  "deliveryDateLimit": "2019-08-24T14:15:22Z",
  "collectTimeLimit": 0,
  "notificationOptions": [
    ],
  "externalID": "string",
  "customer": {
    },
  "pickUpCode": "string",
  "dropOffCode": "string",
  "desiredLockerType": "string",
  "labelContent": { },
  "labelTemplateID": null,
  "pickUpCodes": {
    },
  "operationType": "firstMile",
  "carrier": "string",
  "prePickUpActions": [
    ]
}
"""

# line 2527
DELIVERY_CREATED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "reserved",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T16:57:47.007Z",
  "details": {
    },
  "notificationOptions": [
    ],
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 2587
DELIVERY_MADE = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "starting",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T16:57:47.007Z",
  "details": {
    },
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 2638
DELIVERY_NOTIFIED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "in_progress",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T16:57:47.007Z",
  "details": {
    },
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 2689
DELIVERY_READY_FOR_PICKUP = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "ready_for_pickup",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T16:57:47.007Z",
  "details": {
    },
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 2740
DELIVERY_IN_TRANSIT = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "in_transit",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T16:57:47.007Z",
  "details": {
    },
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 2812
DELIVERY_LOCKER_SELECTED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "in_transit",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T16:57:47.007Z",
  "details": {
    },
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 2853
REQ_DELIVERY_RETURN = """\
{
  "expiryDate": "2019-08-24T14:15:22Z"
}
"""

# line 2861
DELIVERY_RETURNED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "delivery",
  "state": "finished",
  "states": [
    ],
  "customer": {
    },
  "startDate": "2020-10-13T14:56:39.561Z",
  "endDate": "2020-10-13T14:57:47.007Z",
  "details": {
    },
  "locker": {
    },
  "pricing": {
    }
}
"""

# line 2957
REQ_RETURN_CREATE = """\
{
  "expiryDate": "2019-08-24T14:15:22Z",
  "deliveryDateLimit": "2019-08-24T14:15:22Z",
  "collectTimeLimit": "2019-08-24T14:15:22Z",
  "notificationOptions": [
    ],
  "externalID": "string",
  "customer": {
    },
  "pickUpCodes": {
    }
}
"""

# line 2974
RETURN_CREATED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "return",
  "state": "reserved",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T16:57:47.007Z",
  "details": {
    },
  "notificationOptions": [
    ],
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 3037
REQ_RETURN_RESERVE = """\
{
  "customer": {
    }
}
"""

# line 3046
RETURN_RESERVED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "return",
  "state": "reserved",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T16:57:47.007Z",
  "details": {
    },
  "notificationOptions": [
    ],
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 3099
RETURN_FINISHED = """\
{
  "_id": "5f85c02704d61b14f47c78a0",
  "type": "return",
  "state": "reserved",
  "states": [
    ],
  "customer": "5f7dc9fc04d61b14f47c6f00",
  "startDate": "2020-10-13T14:56:39.561Z",
  "expiryDate": "2020-10-13T16:57:47.007Z",
  "details": {
    },
  "notificationOptions": [
    ],
  "locker": "5d5a6e83d1682b7194fc5f9c",
  "pricing": {
    }
}
"""

# line 3143
REQ_CUSTOMER_CREATE = """\
{
  "name": "John Doe",
  "email": "happy_user9236@gmail.com",
  "phoneNumber": "+351912345678"
}
"""

# line 3153
CUSTOMER_CREATED = """\
{
  "_id": "23d4bcebd23c5468b647bd42",
  "partner": "6169a0a732452574e5e247ea",
  "name": "John Doe",
  "email": "happy_customer325@company.com",
  "phoneNumber": "+351912345678",
  "externalID": "externalID",
  "createdAt": "2022-03-30T17:08:48.812Z",
  "updatedAt": "2022-03-30T17:08:48.812Z"
}
"""

# line 3217
CUSTOMER_LIST = """\
{
  "totalDocs": 2,
  "page": 1,
  "limit": 10,
  "docs": [
    ]
}
"""

# line 3260
CUSTOMER = """\
{
  "_id": "23d4bcebd23c5468b647bd42",
  "partner": "6169a0a732452574e5e247ea",
  "name": "John Doe",
  "email": "happy_customer325@company.com",
  "phoneNumber": "+351912345678",
  "externalID": "externalID",
  "createdAt": "2022-03-30T17:08:48.812Z",
  "updatedAt": "2022-03-30T17:08:48.812Z"
}
"""

# line 3298
REQ_CUSTOMER_UPDATE = """\
{
  "name": "John Doe",
  "email": "happy_user9236@gmail.com",
  "phoneNumber": "+351912345678"
}
"""

# line 3308
CUSTOMER_UPDATED = """\
{
  "_id": "23d4bcebd23c5468b647bd42",
  "partner": "6169a0a732452574e5e247ea",
  "name": "John Doe",
  "email": "happy_customer325@company.com",
  "phoneNumber": "+351912345678",
  "externalID": "externalID",
  "createdAt": "2022-03-30T17:08:48.812Z",
  "updatedAt": "2022-03-30T17:08:48.812Z"
}
"""

# line 3354
CUSTOMER_DELETED = """\
{
  "_id": "23d4bcebd23c5468b647bd42",
  "partner": "6169a0a732452574e5e247ea",
  "name": "John Doe",
  "email": "happy_customer325@company.com",
  "phoneNumber": "+351912345678",
  "externalID": "externalID",
  "createdAt": "2022-03-30T17:08:48.812Z",
  "updatedAt": "2022-03-30T17:08:48.812Z"
}
"""

# line 3431
COURIER_TOKEN = """\
{
  "token": "eyJhbGciOiJFUzUxMiIsInR5cCI6IkpXVCJ9.eyJjb3VyaWVyX2lkIjoiRFJJVkVSSUQxIiwiaWF0IjoxNzAwNTg5MjI3LCJleHAiOjE3MDExOTQwMjd9.ALXBtytYWuh5KACz8IJMFTKnEhxvAhIFFQalJnfI1p7fx1fXZLmM4y4ujo9OeOI_a3hJHZCEoh_TGnhgVqzn_U4kASX8qDYnxFMpT-V0i-Y34VBVYLCbEnhP5aGkNCEsyTkz5crl6dyEEyvT6QlVNFC_3aXKX_AOkKQxuTvH1ZJtZZ5x"
}
"""

# line 3556
REQ_WEBHOOK_CREATE = """\
{
  "url": "/ourPartner/receiveWebhook",
  "enabledEvents": [
    ],
  "description": "Is called when a locker is opened or closed",
  "secret": "Y2No6tuPrX"
}
"""

# line 3568
WEBHOOK_CREATED = """\
{
  "_id": "23d4bcebd23c54bba647df6a",
  "description": "Is called when a locker is opened or closed",
  "url": "/ourPartner/receiveWebhook",
  "updatedAt": "2020-10-27T10:35:24.557+00:00",
  "enabledEvents": [
    ]
}
"""

# line 3666
WEBHOOK_LIST = """\
{
  "totalDocs": 2,
  "page": 1,
  "limit": 15,
  "docs": [
    ]
}
"""

# line 3709
WEBHOOK = """\
{
  "_id": "23d4bcebd23c54bba647df6a",
  "description": "Is called when a locker is opened or closed",
  "url": "/ourPartner/receiveWebhook",
  "updatedAt": "2020-10-27T10:35:24.557+00:00",
  "enabledEvents": [
    ]
}
"""

# line 3747
REQ_WEBHOOK_UPDATE = """\
{
  "url": "/ourPartner/receiveWebhook",
  "enabledEvents": [
    ],
  "description": "Is called when a locker is opened or closed",
  "secret": "Y2No6tuPrX"
}
"""

# line 3759
WEBHOOK_UPDATED = """\
{
  "_id": "23d4bcebd23c54bba647df6a",
  "description": "Is called when a locker is opened or closed",
  "url": "/ourPartner/receiveWebhook",
  "updatedAt": "2020-10-27T10:35:24.557+00:00",
  "enabledEvents": [
    ]
}
"""

# line 3803
WEBHOOK_DELETED = """\
{
  "_id": "23d4bcebd23c54bba647df6a",
  "description": "Is called when a locker is opened or closed",
  "url": "/ourPartner/receiveWebhook",
  "updatedAt": "2020-10-27T10:35:24.557+00:00",
  "enabledEvents": [
    ]
}
"""

# line 3861
EVENT_HISTORY = """\
{
  "totalDocs": 2,
  "page": 1,
  "limit": 15,
  "docs": [
    ]
}
"""
