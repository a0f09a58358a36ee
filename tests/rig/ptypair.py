#!/usr/bin/env python3
"""A linked pty pair for the rig tests where socat is absent (tests/rig/ptyPair.ts runs it).

    python3 tests/rig/ptypair.py LINK_A LINK_B

does what `socat pty,raw,echo=0,link=LINK_A pty,raw,echo=0,link=LINK_B` does: opens two ptys in
raw mode (no echo, no line discipline: every byte passes as it is), makes LINK_A and LINK_B
symlinks to their slave devices, and relays bytes both ways between the two masters. Prints
"ready A_SLAVE B_SLAVE" on stdout once both links exist. Exits, removing the links, on SIGTERM
or SIGINT, or when its stdin closes (so it never outlives the test process that started it).

It holds each slave open itself, as socat does: a client may close its end and open it again,
and bytes sent meanwhile wait in the tty for it, and the master never reads EIO.
"""

import errno
import os
import select
import signal
import sys
import tty

# Bytes relayed but not yet taken by the other pty; beyond this, stop reading from the sender.
BUFFER_MAX = 1 << 16


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: ptypair.py LINK_A LINK_B\n")
        return 2
    links = argv[1:]
    made = []

    def remove_links():
        for link in made:
            try:
                os.unlink(link)
            except OSError:
                pass

    def stop(signum, frame):
        remove_links()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    try:
        ptys = [os.openpty() for _ in links]
        for master, slave in ptys:
            tty.setraw(slave)  # no echo, no line discipline; a master is raw from the start
            os.set_blocking(master, False)
        for (master, slave), link in zip(ptys, links):
            os.symlink(os.ttyname(slave), link)
            made.append(link)
    except OSError as e:
        remove_links()
        sys.stderr.write("ptypair.py: cannot make the pty pair: %s\n" % e)
        return 1
    sys.stdout.write("ready %s %s\n" % tuple(os.ttyname(slave) for _, slave in ptys))
    sys.stdout.flush()

    try:
        relay([master for master, _ in ptys])
    except OSError as e:
        sys.stderr.write("ptypair.py: relay failed: %s\n" % e)
        return 1
    finally:
        remove_links()
    return 0


def relay(masters):
    """Copy bytes from each master to the other until stdin closes."""
    stdin = sys.stdin.fileno()
    pending = [bytearray(), bytearray()]  # pending[i]: bytes waiting to be written to masters[i]
    while True:
        readable = [stdin]
        writable = []
        for i, master in enumerate(masters):
            other = 1 - i
            if len(pending[other]) < BUFFER_MAX:
                readable.append(master)
            if pending[i]:
                writable.append(master)
        ready_r, ready_w, _ = select.select(readable, writable, [])
        if stdin in ready_r:
            if not os.read(stdin, 4096):
                return  # the test process is gone, or closed our stdin
        for i, master in enumerate(masters):
            if master in ready_r:
                try:
                    data = os.read(master, 4096)
                except OSError as e:
                    if e.errno in (errno.EAGAIN, errno.EINTR):
                        continue
                    raise
                pending[1 - i] += data
            if master in ready_w:
                try:
                    written = os.write(master, pending[i])
                except OSError as e:
                    if e.errno in (errno.EAGAIN, errno.EINTR):
                        continue
                    raise
                del pending[i][:written]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
