# The asyncio + aiohttp client of `benches/get_10k.rs`: site_status.py as the asyncio tutorial
# writes it, at the bench's scale. One `ClientSession` (aiohttp's default connector: at most 100
# connections), an `asyncio.Semaphore` capping the requests in flight, a task per URL consumed
# with `asyncio.as_completed`. It prints what the `site_status` demo prints, three lines per URL:
# "Getting status of URL", "URL took 0.00s", "URL: STATUS" (or "URL: error: ..." in place of the
# last two when the GET fails).
#
# Usage: python3 benches/get_10k_aiohttp.py LIMIT URL...
# Exit status: 0 when every URL answered, 1 when one failed, 2 on bad arguments.
import asyncio
import sys
import time

import aiohttp


async def get_status(session, limit, url):
    """GETs one URL; returns the URL and its status, or the URL and the error."""
    async with limit:
        print(f"Getting status of {url}")
        start = time.perf_counter()
        try:
            async with session.get(url) as response:
                await response.read()
                print(f"{url} took {time.perf_counter() - start:.2f}s")
                return url, response.status
        except Exception as error:
            return url, error


async def main(limit, urls):
    limit = asyncio.Semaphore(limit)
    failed = 0
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(get_status(session, limit, url)) for url in urls]
        for task in asyncio.as_completed(tasks):
            url, result = await task
            if isinstance(result, Exception):
                failed += 1
                print(f"{url}: error: {result!r}")
            else:
                print(f"{url}: {result}")
    return failed


if __name__ == "__main__":
    if len(sys.argv) < 2 or not sys.argv[1].isdigit():
        print("usage: get_10k_aiohttp.py LIMIT URL...", file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if asyncio.run(main(int(sys.argv[1]), sys.argv[2:])) else 0)
