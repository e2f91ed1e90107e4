from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

app = FastAPI()
router = APIRouter()


# ruleid: fastapi/on-event-deprecated
@app.on_event("startup")
async def connect() -> None:
    app.state.ready = True


# ruleid: fastapi/on-event-deprecated
@router.on_event('shutdown')
async def disconnect() -> None:
    app.state.ready = False


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.ready = True
    yield
    app.state.ready = False


# ok: fastapi/on-event-deprecated
modern = FastAPI(lifespan=lifespan)


# ok: fastapi/on-event-deprecated
# @app.on_event("startup")
# ok: fastapi/on-event-deprecated
@app.get("/on_event/startup")
async def docs_page() -> dict:
    return {"ready": app.state.ready}
