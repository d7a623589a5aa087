"""kitchen.py: site_status.py and run_commands.py on one event loop at once.

The site checks (aiohttp, consumed with `as_completed`) and the commands (`subprocess.run` on
worker threads through `asyncio.to_thread`) are gathered together, so their lines interleave as
each one finishes: network waits are served by the loop, blocking commands by the threads, and
neither holds up the other.

This is the program that cashier's `kitchen` binary redoes in Rust. It needs aiohttp
(`pip install aiohttp`). The exit status is 0 when every site answered and every command
succeeded, 1 otherwise.

Run: python3 kitchen.py [URL ...] [--command COMMAND ...]   (defaults: those of the two
scripts it combines)
"""

import argparse
import asyncio
import shlex
import sys

import run_commands
import site_status


async def main(urls, commands):
    failed_sites, commands_ok = await asyncio.gather(
        site_status.main(urls), run_commands.main(commands)
    )
    return failed_sites == 0 and commands_ok


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="*", help="URLs to check")
    parser.add_argument(
        "--command", action="append", default=[], help="a command to run (repeatable)"
    )
    args = parser.parse_args()
    urls = args.urls or site_status.DEFAULT_URLS
    commands = [shlex.split(line) for line in args.command] or run_commands.DEFAULT_COMMANDS
    sys.exit(0 if asyncio.run(main(urls, commands)) else 1)
