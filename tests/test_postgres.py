"""The system tests again, on PostgreSQL (``DATABASE_URL``), where concurrent chat writers on
two processes take the room's row lock for their sequence numbers.

The server is ``HALLSERVER_TEST_POSTGRES_URL`` if set, else a PostgreSQL on
127.0.0.1:5432 as user ``postgres`` if one answers; each run creates its own database and
drops it afterwards. Without a reachable server the tests are skipped, saying why.
"""

from __future__ import annotations

import os
import time

import psycopg
import pytest

from tests import test_docking_system, test_recruitment_system, test_system
from tests.conftest import ServerProcess, prepare_database, server_env

pytestmark = pytest.mark.system

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def postgres_url() -> str:
    admin_url = os.environ.get("HALLSERVER_TEST_POSTGRES_URL", DEFAULT_URL)
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {admin_url} ({exc.__class__.__name__}); "
                    "set HALLSERVER_TEST_POSTGRES_URL to run these tests")
    name = f"hallserver_test_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def pg_servers(tmp_path_factory, redis_url, postgres_url):
    env = server_env(tmp_path_factory.mktemp("pg"), DATABASE_URL=postgres_url,
                     REDIS_URL=redis_url, HALLSERVER_REDIS_PREFIX=f"pg{os.getpid()}:")
    prepare_database(env)
    first, second = ServerProcess(env, "pg-web1"), ServerProcess(env, "pg-web2")
    assert "database: postgresql" in first.output()
    yield first, second
    first.stop()
    second.stop()


async def test_concurrent_senders_on_postgres(pg_servers):
    await test_system.test_concurrent_senders_on_both_processes_are_seen_in_one_order(pg_servers)


async def test_resume_on_postgres(pg_servers):
    await test_system.test_resume_on_the_other_process_loses_and_repeats_nothing(pg_servers)


async def test_chat_and_presence_on_postgres(pg_servers):
    await test_system.test_chat_and_presence_cross_processes(pg_servers)


@pytest.fixture(scope="module")
def pg_recruitment(pg_servers):
    first, second = pg_servers
    return first, second, test_recruitment_system.set_up(first)


def test_slot_offer_race_on_postgres(pg_recruitment):
    test_recruitment_system.test_two_staff_on_two_processes_offer_the_same_slot_one_wins(
        pg_recruitment)


async def test_overlapping_bookings_race_on_postgres(pg_recruitment):
    await test_recruitment_system.book_both(pg_recruitment)


@pytest.fixture(scope="module")
def pg_docking(pg_servers):
    first, second = pg_servers
    return first, second, test_docking_system.set_up(first)


async def test_overlapping_meeting_acceptances_on_postgres(pg_docking):
    await test_docking_system.accept_both(pg_docking)


async def test_interview_booking_and_meeting_acceptance_race_on_postgres(pg_docking):
    await test_docking_system.book_and_accept(pg_docking)
