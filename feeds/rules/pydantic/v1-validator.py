from pydantic import BaseModel, field_validator, model_validator, root_validator, validator


class Signup(BaseModel):
    email: str
    password: str
    password2: str

    # ruleid: pydantic/v1-validator
    @validator("email")
    def lower_email(cls, v: str) -> str:
        return v.lower()

    # ruleid: pydantic/v1-validator
    @root_validator(pre=True)
    def passwords_match(cls, values):
        return values

    # ruleid: pydantic/v1-validator
    @pydantic.validator("password", always=True)
    def strong(cls, v):
        return v

    # ok: pydantic/v1-validator
    @field_validator("email")
    @classmethod
    def lower_email_v2(cls, v: str) -> str:
        return v.lower()

    # ok: pydantic/v1-validator
    @model_validator(mode="after")
    def check(self) -> "Signup":
        return self

    # ok: pydantic/v1-validator
    # @validator("password2")
    def unused(self) -> None:
        return None
