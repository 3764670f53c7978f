"""The store's checks fingerprint changes with every check edit, so the web plane's cached
check list (nyxmon.web.live) is read again exactly when it must be."""

from __future__ import annotations

from pathlib import Path

from nyxmon.domain.model import Check, CheckSource, Service
from nyxmon.store.sqlite import SqliteStore


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


def test_the_fingerprint_changes_when_a_check_is_added_changed_paused_or_removed(
    tmp_path: Path,
) -> None:
    with SqliteStore(str(tmp_path / "nyxmon.db")) as store:
        with store.transaction() as tx:
            tx.services.upsert(Service("svc"))
            tx.checks.upsert(_check("a"))
            tx.commit()
        marks = [store.checks_fingerprint()]
        assert store.checks_fingerprint() == marks[0]  # nothing changed, same mark

        with store.transaction() as tx:
            tx.checks.upsert(_check("b"))
            tx.commit()
        marks.append(store.checks_fingerprint())

        with store.transaction() as tx:
            tx.checks.upsert(_check("b", url="http://127.0.0.1:10/"))
            tx.commit()
        marks.append(store.checks_fingerprint())

        with store.transaction() as tx:
            tx.checks.set_paused("svc.a", True)
            tx.commit()
        marks.append(store.checks_fingerprint())

        with store.transaction() as tx:
            tx.checks.delete("svc.a")
            tx.commit()
        marks.append(store.checks_fingerprint())

        assert len(set(marks)) == len(marks), marks
        assert store.checks_fingerprint() == marks[-1]
