"""The hyperparameter form: one editor per declared Param, bounded by its declaration, read by its Param."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDoubleSpinBox, QLineEdit, QSpinBox

from classifiers.errors import ConfigError
from classifiers.registry import list_families
from trainer.gui.widgets.param_form import ParamForm
from trainer.hyperparams import family_params

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("info", list_families(), ids=lambda info: info.name)
def test_the_form_lists_exactly_the_declared_params_within_their_bounds(qtbot, info) -> None:
    form = ParamForm()
    qtbot.addWidget(form)
    params = family_params(info)
    form.set_specs(params, info.variants[0])
    assert list(form.editors) == [p.name for p in params]
    for param in params:
        widget = form.editors[param.name].widget
        if isinstance(widget, QSpinBox):
            low = param.low - 1 if param.optional else param.low  # an optional int's None sits below the minimum
            assert (widget.minimum(), widget.maximum()) == (low, param.high), param.name
        elif isinstance(widget, QDoubleSpinBox):
            assert (widget.minimum(), widget.maximum()) == (param.low, param.high), param.name
    values = form.values()
    assert values == {p.name: p.default for p in params if p.applies_to(info.variants[0])}


def test_a_text_field_is_read_and_refused_by_its_param(qtbot) -> None:
    shallow = next(info for info in list_families() if info.name == "shallow")
    form = ParamForm()
    qtbot.addWidget(form)
    form.set_specs(family_params(shallow), "svm")
    gamma = form.editors["gamma"].widget
    assert isinstance(gamma, QLineEdit)
    gamma.setText("0.01")
    assert form.values()["gamma"] == 0.01
    gamma.setText("wide")
    with pytest.raises(ConfigError, match="gamma must be 'scale', 'auto' or a number >= 0, got 'wide'"):
        form.values()
