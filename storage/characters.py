"""Repository functions for character sheets. A sheet is edited in place; a removed one
is hidden, not deleted (its name stays known, so the bible does not propose it again)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import CharacterSheet
from storage.records import CharacterRecord


def _record(row: CharacterSheet) -> CharacterRecord:
    return CharacterRecord(
        id=row.id,
        work_id=row.work_id,
        name=row.name,
        role=row.role,
        traits=row.traits,
        relationships=row.relationships,
        first_appearance=row.first_appearance,
        author=row.author,
        updated_at=row.updated_at,
    )


def _row(session: Session, sheet_id: int) -> CharacterSheet:
    row = session.get(CharacterSheet, sheet_id)
    if row is None or row.deleted:
        raise NotFoundError(f"no character with id {sheet_id}")
    return row


def add_character(
    session: Session,
    work_id: int,
    *,
    name: str,
    role: str = "",
    traits: str = "",
    relationships: str = "",
    first_appearance: int | None = None,
    author: str = "model",
) -> CharacterRecord:
    row = CharacterSheet(
        work_id=work_id,
        name=name,
        role=role,
        traits=traits,
        relationships=relationships,
        first_appearance=first_appearance,
        author=author,
    )
    session.add(row)
    session.flush()
    return _record(row)


def get_character(session: Session, sheet_id: int) -> CharacterRecord:
    return _record(_row(session, sheet_id))


def update_character(
    session: Session,
    sheet_id: int,
    *,
    author: str,
    name: str | None = None,
    role: str | None = None,
    traits: str | None = None,
    relationships: str | None = None,
    first_appearance: int | None = None,
    clear_first_appearance: bool = False,
) -> CharacterRecord:
    """Change the fields given (None: left as it is); ``author`` wrote it last."""
    row = _row(session, sheet_id)
    if name is not None:
        row.name = name
    if role is not None:
        row.role = role
    if traits is not None:
        row.traits = traits
    if relationships is not None:
        row.relationships = relationships
    if first_appearance is not None or clear_first_appearance:
        row.first_appearance = first_appearance
    row.author = author
    session.flush()
    return _record(row)


def remove_character(session: Session, sheet_id: int) -> CharacterRecord:
    """Hide a sheet from use; returns it as it was."""
    row = _row(session, sheet_id)
    row.deleted = True
    session.flush()
    return _record(row)


def list_characters(session: Session, work_id: int) -> list[CharacterRecord]:
    """The work's sheets, oldest first."""
    rows = session.scalars(
        select(CharacterSheet)
        .where(CharacterSheet.work_id == work_id, CharacterSheet.deleted.is_(False))
        .order_by(CharacterSheet.id)
    ).all()
    return [_record(r) for r in rows]


def removed_names(session: Session, work_id: int) -> list[str]:
    """The names of the sheets a person removed."""
    return list(
        session.scalars(
            select(CharacterSheet.name).where(
                CharacterSheet.work_id == work_id, CharacterSheet.deleted.is_(True)
            )
        ).all()
    )
