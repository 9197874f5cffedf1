"""A queued job's task id carries the routing key of the call that queued it."""

from __future__ import annotations

from webui.jobs import handles
from webui.transport.http import new_route

UUID = "e85a536e-84c0-4265-a696-33bcabc1b125"


def test_a_handle_gives_back_the_task_id_and_the_key():
    route = new_route()
    assert handles.split(handles.handle(UUID, route)) == (UUID, route)


def test_a_bare_task_id_routes_by_a_key_of_its_own():
    task_id, route = handles.split(UUID)
    assert task_id == UUID and len(route) == 16 and route not in UUID
    assert handles.split(UUID) == (task_id, route)  # every look-up of it reaches the same backend
    assert handles.split("other-task")[1] != route


def test_keys_are_random():
    assert len({new_route() for _ in range(100)}) == 100
