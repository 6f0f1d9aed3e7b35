"""Modal screens: the view prompt, triage forms (waiver, note, attestation), the
Markdown view of a finding, and help. Forms validate on save and show each error under
its field; nothing is written until every field is valid."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from postureapp.model import Attestation, Waiver, isoformat
from postureapp.tui.text import safe

T = TypeVar("T")

_RELATIVE = re.compile(r"^\+?(\d+)\s*([hdw])$")


def parse_when(value: str, now: datetime) -> datetime:
    """A date typed in a form: ``2026-12-31``, ISO 8601, or relative ``30d``/``12w``/``6h``.

    Raises:
        ValueError: with a message fit to show under the field.
    """
    text = value.strip()
    match = _RELATIVE.match(text.lower())
    if match:
        number, unit = int(match.group(1)), match.group(2)
        hours = {"h": 1, "d": 24, "w": 24 * 7}[unit] * number
        return now + timedelta(hours=hours)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("not a date: use YYYY-MM-DD, ISO 8601, or 30d / 12w") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _subject(finding: dict[str, Any]) -> Text:
    return Text.assemble(
        safe(finding["title"], "bold"), " on ", safe(finding["resource_uid"], "dim")
    )


@dataclass(frozen=True)
class Field:
    id: str
    label: str
    value: str = ""
    placeholder: str = ""


class FormScreen(ModalScreen[T], Generic[T]):
    """A small form: fields, inline errors, Save/Cancel. Subclasses implement
    :meth:`validate`, returning errors by field id, or the result."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]
    TITLE = ""
    SUBTITLE: Text | None = None
    TAKES_INPUT: ClassVar[bool] = True  # the app holds keys typed ahead (keys.py)

    def fields(self) -> list[Field]:
        raise NotImplementedError

    def validate(self, values: dict[str, str]) -> tuple[dict[str, str], T | None]:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.TITLE, "bold"), classes="dialog-title")
            if self.SUBTITLE is not None:
                yield Static(self.SUBTITLE, classes="dialog-subtitle")
            for field in self.fields():
                yield Label(field.label, classes="field-label")
                yield Input(field.value, placeholder=field.placeholder, id=f"field-{field.id}")
                yield Static("", id=f"error-{field.id}", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.set_focus(self.query(Input).first())
        self.app.release_keys()  # type: ignore[attr-defined]

    def values(self) -> dict[str, str]:
        return {f.id: self.query_one(f"#field-{f.id}", Input).value for f in self.fields()}

    def action_save(self) -> None:
        errors, result = self.validate(self.values())
        for field in self.fields():
            message = errors.get(field.id, "")
            widget = self.query_one(f"#error-{field.id}", Static)
            widget.update(Text(message, "red") if message else "")
            widget.set_class(bool(message), "-visible")
        if errors:
            first = next(f for f in self.fields() if f.id in errors)
            self.query_one(f"#field-{first.id}", Input).focus()
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        inputs = list(self.query(Input))
        position = inputs.index(event.input)
        if position + 1 < len(inputs):
            inputs[position + 1].focus()
        else:
            self.action_save()


class WaiverForm(FormScreen[Waiver]):
    """Waive one finding (by fingerprint): reason, owner, ticket, expiry."""

    TITLE = "Waive finding"

    def __init__(self, finding: dict[str, Any], user: str, now: datetime) -> None:
        super().__init__()
        self.finding = finding
        self.user = user
        self.now = now
        self.SUBTITLE = _subject(finding)

    def fields(self) -> list[Field]:
        default_expiry = (self.now + timedelta(days=90)).date().isoformat()
        return [
            Field("reason", "Reason (why the risk is accepted)", placeholder="required"),
            Field("owner", "Owner", self.user, "who answers for it"),
            Field("ticket", "Ticket", placeholder="optional, e.g. SEC-123"),
            Field("expires", "Expires", default_expiry, "YYYY-MM-DD, ISO 8601, or 30d / 12w"),
        ]

    def validate(self, values: dict[str, str]) -> tuple[dict[str, str], Waiver | None]:
        errors = {}
        if len(values["reason"].strip()) < 3:
            errors["reason"] = "a waiver needs a reason (at least 3 characters)"
        if not values["owner"].strip():
            errors["owner"] = "a waiver needs an owner"
        if not values["expires"].strip():
            errors["expires"] = "a waiver needs an expiry: accepted risks are reviewed"
        else:
            try:
                expires = parse_when(values["expires"], self.now)
            except ValueError as error:
                errors["expires"] = str(error)
            else:
                if expires <= self.now:
                    errors["expires"] = "the expiry must be in the future"
        if errors:
            return errors, None
        return {}, Waiver(
            fingerprint=self.finding["fingerprint"],
            reason=values["reason"].strip(),
            owner=values["owner"].strip(),
            ticket=values["ticket"].strip(),
            created_at=isoformat(self.now),
            expires_at=isoformat(expires),
        )


class NoteForm(FormScreen[tuple[str, str]]):
    """A note on a finding: (author, text)."""

    TITLE = "Add a note"

    def __init__(self, finding: dict[str, Any], user: str) -> None:
        super().__init__()
        self.user = user
        self.SUBTITLE = _subject(finding)

    def fields(self) -> list[Field]:
        return [
            Field("author", "Author", self.user),
            Field("text", "Note", placeholder="what you found, what you did"),
        ]

    def validate(self, values: dict[str, str]) -> tuple[dict[str, str], tuple[str, str] | None]:
        errors = {}
        if not values["author"].strip():
            errors["author"] = "who is writing?"
        if not values["text"].strip():
            errors["text"] = "a note needs some text"
        if errors:
            return errors, None
        return {}, (values["author"].strip(), values["text"].strip())


class AttestationForm(FormScreen[Attestation]):
    """A person vouching for a control: who, when, until when, and a note."""

    TITLE = "Record attestation"

    def __init__(self, control_id: str, title: str, user: str, now: datetime) -> None:
        super().__init__()
        self.control_id = control_id
        self.user = user
        self.now = now
        self.SUBTITLE = Text.assemble(safe(control_id, "bold"), " ", safe(title))

    def fields(self) -> list[Field]:
        return [
            Field("by", "Who", self.user),
            Field("at", "When", self.now.date().isoformat(), "YYYY-MM-DD or ISO 8601"),
            Field("expires", "Expires", "", "optional: YYYY-MM-DD, or 90d / 52w from now"),
            Field("note", "Note", placeholder="what was checked, where the evidence is"),
        ]

    def validate(self, values: dict[str, str]) -> tuple[dict[str, str], Attestation | None]:
        errors = {}
        at = expires = None
        if not values["by"].strip():
            errors["by"] = "who attests?"
        try:
            at = parse_when(values["at"], self.now)
        except ValueError as error:
            errors["at"] = str(error) if values["at"].strip() else "when was it done?"
        else:
            if at > self.now + timedelta(minutes=5):
                errors["at"] = "an attestation cannot be in the future"
        if values["expires"].strip():
            try:
                expires = parse_when(values["expires"], self.now)
            except ValueError as error:
                errors["expires"] = str(error)
            else:
                if at is not None and expires <= at:
                    errors["expires"] = "the expiry must come after the attestation"
                elif expires <= self.now:
                    errors["expires"] = "this attestation would already be expired"
        if errors:
            return errors, None
        assert at is not None  # "at" parsed, or errors["at"] says why not
        return {}, Attestation(
            control_id=self.control_id,
            by=values["by"].strip(),
            at=isoformat(at),
            expires_at=isoformat(expires),
            note=values["note"].strip(),
        )


class ComparePrompt(ModalScreen[tuple[int, int] | None]):
    """Ask for two retained snapshots to compare: ``FROM TO`` (ids, as `posture diff`)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    TAKES_INPUT: ClassVar[bool] = True

    def __init__(self, retained: list[int]) -> None:
        super().__init__()
        self.retained = retained

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog prompt"):
            yield Label(Text(f"Compare two snapshots (retained: {self._span()})"))
            yield Input(placeholder="FROM TO, e.g. 12 15", id="compare")
            yield Static("", id="compare-error", classes="field-error")

    def _span(self) -> str:
        if not self.retained:
            return "none"
        return f"#{min(self.retained)} to #{max(self.retained)}"

    def on_mount(self) -> None:
        self.set_focus(self.query_one(Input))
        self.app.release_keys()  # type: ignore[attr-defined]

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        parts = event.value.replace("#", " ").replace(",", " ").split()
        problem = ""
        if len(parts) != 2 or not all(part.isdigit() for part in parts):
            problem = "type two snapshot ids, oldest first: FROM TO"
        else:
            first, second = (int(part) for part in parts)
            missing = [n for n in (first, second) if n not in self.retained]
            if missing:
                problem = f"no snapshot #{missing[0]} retained ({self._span()})"
            elif first == second:
                problem = "pick two different snapshots"
            else:
                self.dismiss((min(first, second), max(first, second)))
                return
        error = self.query_one("#compare-error", Static)
        error.update(Text(problem, "red"))
        error.add_class("-visible")

    def action_cancel(self) -> None:
        self.dismiss(None)


class MarkdownView(ModalScreen[None]):
    """The Markdown that was copied, shown so it can be read or selected by hand
    (some terminals ignore clipboard requests)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(Text("Copied to the clipboard as Markdown (esc closes)", "bold"))
            yield TextArea(self.markdown, read_only=True, soft_wrap=True, id="markdown")

    def action_close(self) -> None:
        self.dismiss(None)
