from pydantic import BaseModel


class Item(BaseModel):
    name: str

    # ruleid: pydantic/v1-config-class
    class Config:
        orm_mode = True
