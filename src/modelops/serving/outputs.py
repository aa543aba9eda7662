"""What a model predicts, computed once per batch of rows, and every shape it is shown in.

An estimator gives scores: class probabilities (classification, columns in the order of the
classes) or values (regression). `Outputs.of` turns them into the prediction, once: the label
(binary: the positive class when its probability is at least the threshold; multiclass: the most
probable class) and probabilities rounded to `PROBABILITY_DIGITS`. The HTTP answer (`records`),
batch scoring and the client's columns (`columns`) are two views of the same arrays, so they
cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

PROBABILITY_DIGITS = 6


def plain(value: Any) -> Any:
    """A NumPy scalar as the Python value JSON can carry (anything else as it is)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Outputs:
    """The predictions of a batch of rows: labels and probabilities, or values."""

    task: str
    classes: tuple[Any, ...]
    chosen: np.ndarray | None = None  # class index per row (classification)
    probabilities: np.ndarray | None = None  # rows x classes, rounded (classification)
    values: np.ndarray | None = None  # one value per row (regression)

    @classmethod
    def of(cls, task: str, classes: Sequence[Any], threshold: float, scores: np.ndarray) -> Outputs:
        """The predictions an estimator's `scores` mean for `task`.

        Args:
            task: binary, multiclass or regression.
            classes: the original class labels, in the order of the score columns.
            threshold: binary only: the positive class (index 1) wins from this probability on.
            scores: probabilities (rows x classes) or values (rows).

        """
        if task == "regression":
            return cls(task, (), values=np.asarray(scores, dtype=np.float64).reshape(-1))
        probabilities = np.asarray(scores, dtype=np.float64)
        if task == "binary":
            chosen = (probabilities[:, 1] >= threshold).astype(np.intp)
        else:
            chosen = probabilities.argmax(axis=1)
        return cls(
            task,
            tuple(plain(c) for c in classes),
            chosen=chosen,
            probabilities=probabilities.round(PROBABILITY_DIGITS),
        )

    def take(self, start: int, stop: int) -> Outputs:
        """The outputs of rows `start` to `stop` (a request's share of a merged predict)."""
        part = slice(start, stop)
        return Outputs(
            self.task,
            self.classes,
            chosen=None if self.chosen is None else self.chosen[part],
            probabilities=None if self.probabilities is None else self.probabilities[part],
            values=None if self.values is None else self.values[part],
        )

    def __len__(self) -> int:
        return len(self.values if self.values is not None else self._classified()[0])

    def _classified(self) -> tuple[np.ndarray, np.ndarray]:
        """The class index per row and the probabilities (classification outputs only)."""
        if self.chosen is None or self.probabilities is None:
            raise ValueError(f"{self.task} outputs carry no class predictions")
        return self.chosen, self.probabilities

    def labels(self) -> np.ndarray:
        """The predicted labels (original class values), or the values for regression."""
        if self.values is not None:
            return self.values
        table = np.empty(len(self.classes), dtype=object)
        table[:] = list(self.classes)
        labels: np.ndarray = table[self._classified()[0]]
        return labels

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready prediction per row, as `POST /predict` answers it.

        Binary: `{"label", "probabilities", "probability"}` (of the positive class);
        multiclass: `{"label", "probabilities"}`; regression: `{"value"}`.
        """
        if self.values is not None:
            return [{"value": value} for value in self.values.tolist()]
        keys = [str(c) for c in self.classes]
        binary = self.task == "binary"
        records = []
        chosen, probabilities = self._classified()
        for index, row in zip(chosen.tolist(), probabilities.tolist(), strict=True):
            record = {
                "label": self.classes[index],
                "probabilities": dict(zip(keys, row, strict=True)),
            }
            if binary:
                record["probability"] = row[1]
            records.append(record)
        return records

    def columns(self) -> dict[str, np.ndarray]:
        """The predictions as columns, as batch scoring and the client append them to a table.

        Classification: `label`, `probability` (binary: of the positive class) and
        `proba_<class>` per class; regression: `value`.
        """
        if self.values is not None:
            return {"value": self.values}
        columns: dict[str, np.ndarray] = {"label": self.labels()}
        _, probabilities = self._classified()
        if self.task == "binary":
            columns["probability"] = probabilities[:, 1]
        for position, label in enumerate(self.classes):
            columns[f"proba_{label}"] = probabilities[:, position]
        return columns
