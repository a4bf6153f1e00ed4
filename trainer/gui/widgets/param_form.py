"""A hyperparameter form built from a family's declared Params: typed editors, bounds, tooltips, an Advanced group."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from classifiers.families.params import Param

INT_LIMIT = 2**31 - 1
NONE_TEXT = "auto / off"


def label_for(name: str) -> str:
    """ "batch_size" → "Batch size"; acronyms and single letters stay as they are ("C", "lr" → "LR")."""
    if name == "lr":
        return "Learning rate"
    if len(name) <= 2:
        return name
    return name.replace("_", " ").capitalize()


class _Editor:
    """One parameter's widget and how to read and write it."""

    def __init__(self, spec: Param) -> None:
        self.spec = spec
        self.widget = self._make()
        self.tooltip = f"<b>{spec.name}</b>: {spec.help}<br>{spec.expectation()}; default: {spec.default!r}"
        self.widget.setToolTip(self.tooltip)
        self.widget.setObjectName(f"param-{spec.name}")
        self.set(spec.default)

    def _make(self) -> QWidget:
        spec = self.spec
        if spec.kind == "bool":
            return QCheckBox()
        if spec.kind == "choice":
            box = QComboBox()
            box.addItems(list(spec.choices))
            return box
        if spec.words:  # a number or a word ("scale"): free text, read by the Param
            return QLineEdit()
        if spec.kind == "int":
            spin = QSpinBox()
            low = int(spec.low if spec.low is not None else -INT_LIMIT)
            # an optional int shows its None as the special value one below the minimum
            spin.setRange(low - 1 if spec.optional else low, int(spec.high if spec.high is not None else INT_LIMIT))
            if spec.optional:
                spin.setSpecialValueText(NONE_TEXT)
            return spin
        if spec.kind == "float" and spec.log:
            # a value spanning orders of magnitude (1e-5 … 1e-1) reads best as text: "0.0003", "1e-05"
            line = QLineEdit()
            validator = QDoubleValidator(
                spec.low if spec.low is not None else 0.0, spec.high if spec.high is not None else 1e12, 12, line
            )
            validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
            validator.setLocale(QLocale.c())
            line.setValidator(validator)
            if spec.optional:  # the embedding family's C: empty chooses it on the val split
                line.setPlaceholderText("empty: none")
            return line
        if spec.kind == "float":
            spin = QDoubleSpinBox()
            spin.setDecimals(3)
            spin.setRange(spec.low if spec.low is not None else -1e9, spec.high if spec.high is not None else 1e9)
            spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            return spin
        line = QLineEdit()
        if spec.optional:
            line.setPlaceholderText("empty: none")
        return line

    def set(self, value: Any) -> None:
        widget = self.widget
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QComboBox):
            widget.setCurrentText(str(value))
        elif isinstance(widget, QSpinBox):
            widget.setValue(widget.minimum() if value is None else int(value))
        elif isinstance(widget, QDoubleSpinBox):
            widget.setValue(float(value))
        elif self.spec.kind == "float" and not isinstance(value, str) and value is not None:
            widget.setText(f"{float(value):.6g}")
        else:
            widget.setText("" if value is None else str(value))

    def get(self) -> Any:
        widget = self.widget
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            return widget.currentText()
        if isinstance(widget, QSpinBox):
            if self.spec.optional and widget.value() == widget.minimum():
                return None
            return widget.value()
        if isinstance(widget, QDoubleSpinBox):
            return widget.value()
        return self.spec.parse(widget.text())  # ConfigError naming the field, its text and the allowed values


class ParamForm(QWidget):
    """Main parameters first, the rest in a collapsible "Advanced" group; irrelevant ones are disabled.

    Signals:
        values_changed(): any editor changed.
    """

    values_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editors: dict[str, _Editor] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._content: QWidget | None = None
        self._variant = ""

    def set_specs(self, specs: list[Param], variant: str = "") -> None:
        """Rebuild the form for a family's parameters, at their defaults."""
        if self._content is not None:
            self._layout.removeWidget(self._content)
            self._content.deleteLater()
        self.editors = {spec.name: _Editor(spec) for spec in specs}
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        main = QFormLayout()
        column.addLayout(main)
        advanced_count = sum(not spec.is_main for spec in specs)
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setText(f"Advanced ({advanced_count})")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced_body = QWidget()
        advanced_form = QFormLayout(self.advanced_body)
        advanced_form.setContentsMargins(12, 0, 0, 0)
        self.advanced_body.setVisible(False)
        self.advanced_toggle.toggled.connect(self._on_advanced_toggled)
        for editor in self.editors.values():
            label = QLabel(label_for(editor.spec.name))
            label.setToolTip(editor.tooltip)
            (main if editor.spec.is_main else advanced_form).addRow(label, editor.widget)
            _connect_changed(editor.widget, lambda *_: self.values_changed.emit())
        if advanced_count:
            column.addWidget(self.advanced_toggle)
            column.addWidget(self.advanced_body)
        column.addStretch(1)
        self._layout.addWidget(content)
        self._content = content
        self.set_variant(variant)

    def _on_advanced_toggled(self, shown: bool) -> None:
        self.advanced_body.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def set_variant(self, variant: str) -> None:
        self._variant = variant
        for editor in self.editors.values():
            applies = editor.spec.applies_to(variant)
            editor.widget.setEnabled(applies)
            note = "" if applies else f"<br><i>not used by variant {variant!r}</i>"
            editor.widget.setToolTip(editor.tooltip + note)

    def values(self) -> dict[str, Any]:
        """Every parameter the variant uses (the others are left out, so the family default stays).

        Raises:
            ConfigError: a text field holds no allowed value (naming it and what it must be).
        """
        return {name: editor.get() for name, editor in self.editors.items() if editor.spec.applies_to(self._variant)}

    def set_values(self, values: dict[str, Any]) -> None:
        """Set the named parameters (unknown names are ignored: e.g. a tuned "variant")."""
        for name, value in values.items():
            if name in self.editors:
                self.editors[name].set(value)

    def reset(self) -> None:
        for editor in self.editors.values():
            editor.set(editor.spec.default)


def _connect_changed(widget: QWidget, slot: Any) -> None:
    if isinstance(widget, QCheckBox):
        widget.toggled.connect(slot)
    elif isinstance(widget, QComboBox):
        widget.currentIndexChanged.connect(slot)
    elif isinstance(widget, QSpinBox | QDoubleSpinBox):
        widget.valueChanged.connect(slot)
    elif isinstance(widget, QLineEdit):
        widget.textChanged.connect(slot)
