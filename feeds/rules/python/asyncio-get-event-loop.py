import asyncio


async def main() -> None:
    # ok: python/asyncio-get-event-loop
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, print, "hello")


if __name__ == "__main__":
    # ruleid: python/asyncio-get-event-loop
    loop = asyncio.get_event_loop()
    loop.run_until_complete(main())
    # ruleid: python/asyncio-get-event-loop
    asyncio.get_event_loop().close()
    # ok: python/asyncio-get-event-loop
    asyncio.run(main())
    # ok: python/asyncio-get-event-loop
    fresh = asyncio.new_event_loop()
    # ok: python/asyncio-get-event-loop
    policy = asyncio.get_event_loop_policy()
