from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

app = Flask(__name__)
# ruleid: flask-limiter/in-memory-storage
limiter = Limiter(get_remote_address, app=app)
