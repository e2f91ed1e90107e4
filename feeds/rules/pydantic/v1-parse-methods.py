from pydantic import BaseModel, TypeAdapter


class Item(BaseModel):
    sku: str
    qty: int


raw = '{"sku": "A-1", "qty": 2}'
# ruleid: pydantic/v1-parse-methods
item = Item.parse_obj({"sku": "A-1", "qty": 2})
# ruleid: pydantic/v1-parse-methods
item2 = Item.parse_raw(raw)
# ruleid: pydantic/v1-parse-methods
from_row = Item.from_orm(row)
# ruleid: pydantic/v1-parse-methods
Item.update_forward_refs()
# ruleid: pydantic/v1-parse-methods
items = parse_obj_as(list[Item], [{"sku": "B", "qty": 1}])
# ok: pydantic/v1-parse-methods
item3 = Item.model_validate({"sku": "A-1", "qty": 2})
# ok: pydantic/v1-parse-methods
item4 = Item.model_validate_json(raw)
# ok: pydantic/v1-parse-methods
items2 = TypeAdapter(list[Item]).validate_python([{"sku": "B", "qty": 1}])
# ok: pydantic/v1-parse-methods
schema = Item.model_json_schema()
