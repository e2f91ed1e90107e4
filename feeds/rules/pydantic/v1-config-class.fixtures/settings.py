# Not a pydantic module: the imports gate keeps this one out.
class Base:
    pass


class AppSettings(Base):
    # ok: pydantic/v1-config-class
    class Config:
        debug = False
