import os

from fastapi import FastAPI, Request
from slowapi import Limiter, _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address

# ruleid: slowapi/in-memory-storage
limiter = Limiter(key_func=get_remote_address)

# ruleid: slowapi/in-memory-storage
per_route = Limiter(
    key_func=get_remote_address,
    default_limits=["100/minute"],
    headers_enabled=True,
)

# ruleid: slowapi/in-memory-storage
fallback = Limiter(key_func=get_remote_address, storage_uri=os.getenv("REDIS_URL", "memory://"))

# ok: slowapi/in-memory-storage
shared = Limiter(key_func=get_remote_address, storage_uri="redis://redis:6379/1")

# ok: slowapi/in-memory-storage
# limiter = Limiter(key_func=get_remote_address)

app = FastAPI()
app.state.limiter = shared
app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)


@app.get("/search")
@shared.limit("10/minute")
async def search(request: Request):
    return {"ok": True}
