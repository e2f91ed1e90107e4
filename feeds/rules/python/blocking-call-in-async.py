import asyncio
import time
import urllib.request

import httpx
import requests
from fastapi import FastAPI

app = FastAPI()


@app.get("/weather")
async def weather(city: str):
    # ruleid: python/blocking-call-in-async
    resp = requests.get("https://api.example.test/weather", params={"q": city}, timeout=5)
    # ruleid: python/blocking-call-in-async
    time.sleep(0.5)
    # ruleid: python/blocking-call-in-async
    other = httpx.post(
        "https://api.example.test/log",
        json={"city": city},
    )
    # ruleid: python/blocking-call-in-async
    with urllib.request.urlopen("https://api.example.test/ping") as r:
        r.read()
    return {"weather": resp.json(), "logged": other.status_code}


@app.get("/good")
async def good(city: str):
    async with httpx.AsyncClient() as client:
        # ok: python/blocking-call-in-async
        resp = await client.get("https://api.example.test/weather", params={"q": city})
    # ok: python/blocking-call-in-async
    await asyncio.sleep(0.5)
    # ok: python/blocking-call-in-async
    data = await asyncio.to_thread(requests.get, "https://api.example.test/slow")

    def fetch_sync():
        # ok: python/blocking-call-in-async
        return requests.get("https://api.example.test/slow", timeout=5)

    loop = asyncio.get_running_loop()
    more = await loop.run_in_executor(None, fetch_sync)
    return {"weather": resp.json(), "data": data.status_code, "more": more.status_code}


@app.get("/sync")
def sync_endpoint():
    # ok: python/blocking-call-in-async
    time.sleep(0.1)
    # ok: python/blocking-call-in-async
    return requests.get("https://api.example.test/weather", timeout=5).json()


async def worker():
    # ok: python/blocking-call-in-async
    # time.sleep(1)
    # ok: python/blocking-call-in-async
    session = requests.Session()
    return session
