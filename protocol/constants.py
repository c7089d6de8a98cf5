"""Protocol constants and timing knobs. Module-level so tests can shrink them."""

from __future__ import annotations

PROTOCOL_VERSION = 1

#: Chunk of clip bytes inside a `Chunk` message's msgpack (a Fetch without `chunk_size`).
CHUNK_SIZE = 256 * 1024
#: Bounds of `Fetch.chunk_size`: chunks whose bytes travel as a frame of their own.
MIN_CHUNK = 4 * 1024
MAX_CHUNK = 1024 * 1024
#: Default number of chunks a kiosk allows in flight per fetch.
DEFAULT_CREDIT = 8
#: Largest frame either side accepts (an inline chunk plus headroom); a chunk's own data
#: frame may be up to MAX_CHUNK.
MAX_FRAME = CHUNK_SIZE + 64 * 1024

#: Seconds between heartbeats, and how many may be missed before a peer is gone.
HEARTBEAT_INTERVAL = 1.0
HEARTBEAT_LIVENESS = 3
#: Kiosk reconnect back-off, seconds.
RECONNECT_INITIAL = 0.5
RECONNECT_MAX = 8.0

#: Hello capabilities. A kiosk that lists CAP_KIOSK_VERIFIER checks PINs offline against
#: per-kiosk verifiers (protocol.pins.kiosk_verifier) and sends `OfflineLogin` proofs; the
#: hub sends other kiosks no roster.
CAP_KIOSK_VERIFIER = "kiosk_verifier"
#: A kiosk that lists CAP_RESUME in Hello understands `Welcome.capabilities`; a hub that lists
#: it there takes `Resume`: an operator whose login at this kiosk the site's hub has seen (at
#: any process of the site) carries on without a new PIN check after the kiosk reconnected.
CAP_RESUME = "resume"
#: A hub that lists CAP_LOGOUT_AT in `Welcome.capabilities` takes `Logout` with `uuid` and
#: `at` from the kiosk's outbox (a logout made offline arrives with its own time) and
#: acknowledges it; to other hubs the kiosk sends the plain `Logout` once.
CAP_LOGOUT_AT = "logout_at"

#: Zeroconf service type and TXT keys.
SERVICE_TYPE = "_annotatiestraat._tcp.local."
TXT_VERSION = "v"
TXT_HUB_ID = "hub"
TXT_PROJECT = "project"
TXT_FINGERPRINT = "fp"
TXT_PUBLIC_KEY = "pk"  # the hub's CurveZMQ public key (Z85)
TXT_PAIR_PORT = "pp"  # the pairing socket's port
#: "1" when the hub tells kiosks apart by their Hello and CURVE key, not by the routing id:
#: kiosks then leave the routing id to libzmq. A hub without it (the previous release) reads
#: the kiosk id from the routing id, so kiosks set it to their id there.
TXT_CONN_IDS = "cid"
