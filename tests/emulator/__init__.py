"""An A1111-compatible WebUI emulator for offline tests; see server.py."""

from tests.emulator.flavours import FLAVOURS
from tests.emulator.server import FAULTS, Emulator

__all__ = ["FAULTS", "FLAVOURS", "Emulator"]
