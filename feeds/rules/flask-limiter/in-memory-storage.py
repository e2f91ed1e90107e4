import os

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

app = Flask(__name__)

# ruleid: flask-limiter/in-memory-storage
limiter = Limiter(get_remote_address, app=app, default_limits=["200 per day", "50 per hour"])

# ruleid: flask-limiter/in-memory-storage
legacy = Limiter(
    app,
    key_func=get_remote_address,
)

# ruleid: flask-limiter/in-memory-storage
explicit = Limiter(get_remote_address, app=app, storage_uri="memory://")

# ruleid: flask-limiter/in-memory-storage
from_env = Limiter(get_remote_address, storage_uri=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"))

# ruleid: flask-limiter/in-memory-storage
app.config["RATELIMIT_STORAGE_URI"] = "memory://"

# ok: flask-limiter/in-memory-storage
shared = Limiter(get_remote_address, app=app, storage_uri="redis://redis:6379/0")

# ok: flask-limiter/in-memory-storage
configured = Limiter(get_remote_address, app=app, storage_uri=os.environ["RATELIMIT_STORAGE_URI"])

# ok: flask-limiter/in-memory-storage
# limiter = Limiter(get_remote_address, app=app)

# ok: flask-limiter/in-memory-storage
options = RateLimiterOptions(app)
