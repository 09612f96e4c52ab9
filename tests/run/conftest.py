"""The real lock stores of the lease tests (env, local servers, or private ones)."""

from tests.lease.conftest import (  # noqa: F401 (fixtures)
    postgres_server,
    postgres_url,
    redis_server,
    redis_url,
)
