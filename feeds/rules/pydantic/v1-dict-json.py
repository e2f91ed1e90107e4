import httpx
from pydantic import BaseModel


class User(BaseModel):
    id: int
    name: str
    nickname: str | None = None


user = User(id=1, name="Ada")
# ruleid: pydantic/v1-dict-json
payload = user.dict()
# ruleid: pydantic/v1-dict-json
partial = user.dict(exclude_unset=True)
# ruleid: pydantic/v1-dict-json
body = user.json(by_alias=True, exclude_none=True)
# ok: pydantic/v1-dict-json
payload2 = user.model_dump()
# ok: pydantic/v1-dict-json
body2 = user.model_dump_json(exclude_none=True)
# ok: pydantic/v1-dict-json
data = httpx.get("https://api.example.test/users/1").json()
# ok: pydantic/v1-dict-json
plain = dict(user)
