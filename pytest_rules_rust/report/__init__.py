"""Report: matrix entries made from build results or errors, merged and written as text, JSON and Markdown."""

from .entries import COLUMNS as COLUMNS
from .entries import PROPERTY as PROPERTY
from .entries import SCHEMA_VERSION as SCHEMA_VERSION
from .entries import MatrixEntry as MatrixEntry
from .entries import entries_from_properties as entries_from_properties
from .entries import entry_for as entry_for
from .entries import entry_from_error as entry_from_error
from .entries import entry_from_image as entry_from_image
from .entries import entry_from_result as entry_from_result
from .entries import record as record
from .matrix_report import MatrixReport as MatrixReport
from .matrix_report import write_atomic as write_atomic
