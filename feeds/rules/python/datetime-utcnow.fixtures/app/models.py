from datetime import datetime


class Event:
    def __init__(self, name: str) -> None:
        self.name = name
        # ruleid: python/datetime-utcnow
        self.created_at = datetime.utcnow()
