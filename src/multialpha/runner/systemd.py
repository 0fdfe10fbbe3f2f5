"""systemd's notify protocol (Type=notify): readiness, watchdog pings and status lines."""

from __future__ import annotations

import os
import socket


def sd_notify(message: str) -> bool:
    """Send ``message`` (e.g. "READY=1") to systemd if it runs us with NOTIFY_SOCKET; else no-op."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
        return True
    except OSError:
        return False
