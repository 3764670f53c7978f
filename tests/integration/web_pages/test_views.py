"""The dashboard's check list is read from the store again only when a check changed."""

from __future__ import annotations

from pathlib import Path

from nyxmon.domain.model import Check, CheckSource, Service
from nyxmon.store.sqlite import SqliteStore
from nyxmon.web.pages.views import CheckList


def _check(name: str, url: str = "http://127.0.0.1:9/") -> Check:
    return Check(
        id=f"svc.{name}",
        service="svc",
        name=name,
        type="http",
        interval=30,
        timeout=5,
        params={"url": url},
        source=CheckSource.API,
    )


def test_the_list_is_reused_until_a_check_is_added_changed_paused_or_removed(
    tmp_path: Path,
) -> None:
    with SqliteStore(str(tmp_path / "nyxmon.db")) as store:
        with store.unit_of_work() as uow:
            uow.services.upsert(Service("svc"))
            uow.checks.upsert(_check("a"))
            uow.commit()
        listing = CheckList()
        first = listing.read(store)
        assert [c.id for c in first] == ["svc.a"]
        assert listing.read(store) is first
        assert listing.reads == 1

        with store.unit_of_work() as uow:
            uow.checks.upsert(_check("b"))
            uow.commit()
        assert [c.id for c in listing.read(store)] == ["svc.a", "svc.b"]

        with store.unit_of_work() as uow:
            uow.checks.upsert(_check("b", url="http://127.0.0.1:10/"))
            uow.commit()
        assert listing.read(store)[1].params["url"] == "http://127.0.0.1:10/"

        with store.unit_of_work() as uow:
            uow.checks.set_paused("svc.a", True)
            uow.commit()
        assert listing.read(store)[0].paused

        with store.unit_of_work() as uow:
            uow.checks.delete("svc.a")
            uow.commit()
        assert [c.id for c in listing.read(store)] == ["svc.b"]
        assert listing.reads == 5
        assert listing.read(store) is listing.read(store)
        assert listing.reads == 5
