"""Times `age -p -o OUT IN` with the passphrase typed into its terminal.

age reads a passphrase only from a terminal, so the backup bench runs it
under a pseudo-terminal (Python's standard pty module: Node has none without
a native addon), answers both prompts, and prints the seconds from start to
exit as JSON. Usage: age-passphrase.py IN OUT PASSPHRASE
"""

import json
import os
import pty
import sys
import time

source, target, passphrase = sys.argv[1:4]
started = time.perf_counter()
pid, fd = pty.fork()
if pid == 0:
    os.execvp("age", ["age", "-p", "-o", target, source])
seen = b""
answered = 0
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:  # the terminal closes when age exits
        break
    if not chunk:
        break
    seen += chunk
    # "Enter passphrase ...:" then "Confirm passphrase:"; answer each once.
    if seen.count(b"passphrase") > answered and seen.rstrip().endswith(b":"):
        os.write(fd, passphrase.encode() + b"\n")
        answered += 1
_, status = os.waitpid(pid, 0)
seconds = time.perf_counter() - started
if status != 0 or answered != 2:
    sys.exit(f"age -p failed (status {status}, {answered} prompts answered)")
print(json.dumps({"seconds": seconds}))
