"""names_ages.py: two coroutines take turns on one asyncio event loop.

One coroutine prints five names, the other the even ages from 20 to 38; after each line a
coroutine sleeps for a random moment (up to 1 s for names, up to 0.5 s for ages). While one
sleeps the loop runs the other, so the lines come out interleaved, differently on every run.

This is the program that cashier's `names_ages` binary redoes in Rust. `--seed N` seeds
`random`, which fixes this script's interleaving; the Rust binary's random generator differs, so
with the same seed both print the same lines, not necessarily in the same order.

Run: python3 names_ages.py [--seed N]
"""

import argparse
import asyncio
import random

NAMES = ["John", "Kate", "Mike", "Alex", "Anne"]


async def print_names():
    for name in NAMES:
        print(name, flush=True)
        await asyncio.sleep(random.random())


async def print_ages():
    for age in range(20, 40, 2):
        print(age, flush=True)
        await asyncio.sleep(random.random() / 2)


async def main():
    # gather wraps each coroutine in a task: both are scheduled at once.
    await asyncio.gather(print_names(), print_ages())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, help="seed the random pauses")
    args = parser.parse_args()
    if args.seed is not None:
        random.seed(args.seed)
    asyncio.run(main())
