"""run_commands.py: run blocking commands side by side with asyncio.to_thread.

`subprocess.run` blocks until its command exits; called on the event loop it would stop every
other task. `asyncio.to_thread` runs it on a worker thread instead and wakes the task when it
is done, so the commands run at the same time and each prints its output as soon as it ends.
A command's standard error is not captured: it goes straight to the terminal.

This is the program that cashier's `run_commands` binary redoes in Rust. The exit status is 0
when every command ran and exited with 0, 1 otherwise.

Run: python3 run_commands.py [COMMAND ...]   (each argument one command line, split like a
shell; default: the four commands below)
"""

import asyncio
import shlex
import subprocess
import sys

DEFAULT_COMMANDS = [
    ["whoami"],
    ["ping", "-c", "5", "google.com"],
    ["lsb_release", "-a"],
    ["python3", "--version"],
]


async def run_command(command):
    line = shlex.join(command)
    print(f"Running {line}", flush=True)
    try:
        result = await asyncio.to_thread(
            subprocess.run, command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
        )
    except OSError as error:  # the program could not be started
        print(f"{line} failed: {error}", flush=True)
        return False
    output = result.stdout.decode(errors="replace").rstrip()
    if result.returncode == 0:
        print(f"{line} completed:\n{output}", flush=True)
        return True
    print(f"{line} failed with exit status {result.returncode}:\n{output}", flush=True)
    return False


async def main(commands):
    results = await asyncio.gather(*(run_command(command) for command in commands))
    return all(results)


if __name__ == "__main__":
    commands = [shlex.split(line) for line in sys.argv[1:]] or DEFAULT_COMMANDS
    sys.exit(0 if asyncio.run(main(commands)) else 1)
