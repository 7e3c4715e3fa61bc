"""One chart's numbers, shared by its three forms: the chart the browser draws
(static/js/charts.js reads `spec()` through `json_script`), the table beside
it, and its CSV export. Building all three from one object is what keeps them
saying the same thing.

A column is a series: `plot` says whether the chart draws it (a table may show
more than the chart, e.g. a link's address or every open beside first opens).
`percent` columns are rates (shown with one decimal and a % sign); the others
are counts (shown with thousands separators). The totals row adds counts up;
a rate has no total unless one is given (a total rate is not a sum of rates).
"""

from collections.abc import Iterator
import csv
from dataclasses import dataclass, field
import io

from apps.audit.csv_export import neutralise


@dataclass
class Column:
    label: str
    values: list
    plot: bool = True
    percent: bool = False
    total: float | int | None = None  # None: added up for counts, blank for rates
    text: bool = False  # a text column (a link's address): never plotted or added up


@dataclass
class Chart:
    key: str  # the id in the page and the ?export= value
    title: str
    kind: str  # "line", "bar" or "hbar" (horizontal bars)
    row_label: str  # the first column's heading ("Hour since the send")
    labels: list[str]  # one per row (the x axis)
    columns: list[Column]
    summary: str = ""  # the text alternative: what the chart shows, in a sentence or two
    axis_label: str = ""  # the value axis ("Contacts", "Percent of recipients")
    row_notes: list[str] = field(default_factory=list)  # a second line per row (a local time)
    total_label: str = "Total"
    totals_note: str = ""  # why a total differs from the headline, when it may

    @property
    def has_totals(self) -> bool:
        return any(self.total_of(c) is not None for c in self.columns)

    @property
    def empty(self) -> bool:
        return not self.labels

    @staticmethod
    def total_of(column: Column):
        if column.total is not None:
            return column.total
        if column.percent or column.text:
            return None
        return sum(v for v in column.values if isinstance(v, (int, float)))

    def rows(self) -> Iterator[dict]:
        for index, label in enumerate(self.labels):
            yield {
                "label": label,
                "note": self.row_notes[index] if index < len(self.row_notes) else "",
                "cells": [(c, c.values[index]) for c in self.columns],
            }

    def totals(self) -> list:
        return [(c, self.total_of(c)) for c in self.columns]

    def spec(self) -> dict:
        """What charts.js draws: plotted columns only, and nothing else."""
        plotted = [c for c in self.columns if c.plot and not c.text]
        return {
            "type": self.kind,
            "labels": self.labels,
            "axis": self.axis_label,
            "percent": any(c.percent for c in plotted),
            "datasets": [{"label": c.label, "data": [v if v is not None else None
                                                     for v in c.values]}
                         for c in plotted],
        }

    def csv(self) -> str:
        """The table as CSV: a header, one line per row, the totals. Text cells are
        made inert for spreadsheets (apps/audit/csv_export.py says why)."""
        out = io.StringIO()
        writer = csv.writer(out)
        has_notes = any(self.row_notes)
        header = [self.row_label] + (["When"] if has_notes else []) + [
            f"{c.label} (%)" if c.percent else c.label for c in self.columns]
        writer.writerow([neutralise(h) for h in header])
        for row in self.rows():
            line = [neutralise(str(row["label"]))] + ([row["note"]] if has_notes else [])
            line += [_csv_cell(c, v) for c, v in row["cells"]]
            writer.writerow(line)
        if self.has_totals:
            line = [self.total_label] + ([""] if has_notes else [])
            line += ["" if v is None else _csv_cell(c, v) for c, v in self.totals()]
            writer.writerow(line)
        return out.getvalue()


def _csv_cell(column: Column, value) -> str:
    if value is None:
        return ""
    if column.text:
        return neutralise(str(value))
    if column.percent:
        return f"{value:.1f}"
    return str(value)
