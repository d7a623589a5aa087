"""site_status.py: check several websites at once with aiohttp, printing each as it answers.

Each URL gets a task that GETs it and times the request. `asyncio.as_completed` hands the
results back in the order the sites answer, not the order they were given. A site that fails
prints its error and the others go on. One `ClientSession` (one connection pool, at most 100
connections open at once by default) serves every request.

This is the program that cashier's `site_status` binary redoes in Rust. It needs aiohttp
(`pip install aiohttp`). The exit status is 0 when every site answered, 1 otherwise.

Run: python3 site_status.py [URL ...]   (default: the five sites below)
"""

import asyncio
import sys
import time

import aiohttp

DEFAULT_URLS = [
    "https://www.google.com",
    "https://www.facebook.com",
    "https://www.github.com",
    "https://www.twitter.com",
    "https://www.linkedin.com",
]


def shown(url):
    """The URL as printed: quoted when it is empty or holds spaces, so its end is visible."""
    if url == "" or any(c.isspace() or not c.isprintable() for c in url):
        return '"' + url.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return url


async def get_status(session, url):
    print(f"Getting status of {shown(url)}", flush=True)
    started = time.perf_counter()
    async with session.get(url) as response:
        print(f"{shown(url)} took {time.perf_counter() - started:.2f}s", flush=True)
        return response.status


async def main(urls):
    failures = 0
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        # Each task remembers its URL, so that a failure can name it.
        async def checked(url):
            try:
                return url, await get_status(session, url), None
            except Exception as error:  # any failure of one site is reported, not raised
                return url, None, error

        tasks = [asyncio.create_task(checked(url)) for url in urls]
        for next_done in asyncio.as_completed(tasks):
            url, status, error = await next_done
            if error is None:
                print(f"{shown(url)}: {status}", flush=True)
            else:
                failures += 1
                # Some errors (a timeout) have an empty message: their repr names them.
                print(f"{shown(url)}: error: {str(error) or repr(error)}", flush=True)
    return failures


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main(sys.argv[1:] or DEFAULT_URLS)) else 0)
