# A home-grown class with the same name, in a module that does not import flask_limiter.
class Limiter:
    def __init__(self, rate):
        self.rate = rate


# ok: flask-limiter/in-memory-storage
per_user = Limiter(10)
