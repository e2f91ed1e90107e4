import datetime as dt
from datetime import datetime, timezone

# ruleid: python/datetime-utcnow
created_at = datetime.utcnow()
# ruleid: python/datetime-utcnow
expires = dt.datetime.utcnow() + dt.timedelta(hours=1)
# ruleid: python/datetime-utcnow
seen = datetime.utcfromtimestamp(1700000000)
# ok: python/datetime-utcnow
now = datetime.now(timezone.utc)
# ok: python/datetime-utcnow
then = datetime.fromtimestamp(1700000000, tz=timezone.utc)
# ok: python/datetime-utcnow
offset = now.utcoffset()
# ok: python/datetime-utcnow
stamp = arrow.utcnow()
