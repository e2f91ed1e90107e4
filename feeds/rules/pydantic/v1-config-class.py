from pydantic import BaseModel, ConfigDict
from pydantic_settings import BaseSettings


class User(BaseModel):
    id: int
    name: str

    # ruleid: pydantic/v1-config-class
    class Config:
        orm_mode = True
        allow_population_by_field_name = True


class Settings(BaseSettings):
    database_url: str

    # ruleid: pydantic/v1-config-class
    class Config:
        env_file = ".env"


class Modern(BaseModel):
    # ok: pydantic/v1-config-class
    model_config = ConfigDict(from_attributes=True)

    id: int
    # ok: pydantic/v1-config-class
    # class Config: orm_mode = True


# ok: pydantic/v1-config-class
class Config:
    DEBUG = False
