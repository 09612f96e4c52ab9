"""A faithful local emulator of the Tanium APIs an OpenCTI → Tanium controller uses.

Threat Response intel (sources, documents in four formats, labels, deploy, scans, alerts),
Reputation custom hashes, session auth, with a switch per unverified behaviour, fault
injection and `/__sandbox/` test routes. See `tanium-api.md` §10 for the specification.

    app = create_app(TaniumConfig(seed="demo"))
    app.state.tanium          # the TaniumEmulator: .config, .state, .faults, .reset(), ...
"""

from .app import create_app
from .config import ALL_PERMISSIONS, DEFAULT_TOKEN, Permission, TaniumConfig
from .emulator import TaniumEmulator
from .faults import ConnectionClosedByFault, ConnectionResetByFault, FaultRule
from .signals import CONDITIONS, SignalSyntaxError, compile_signal
from .state import IntelSeed, TaniumState

__all__ = [
    "ALL_PERMISSIONS",
    "CONDITIONS",
    "DEFAULT_TOKEN",
    "ConnectionClosedByFault",
    "ConnectionResetByFault",
    "FaultRule",
    "IntelSeed",
    "Permission",
    "SignalSyntaxError",
    "TaniumConfig",
    "TaniumEmulator",
    "TaniumState",
    "compile_signal",
    "create_app",
]
