"""The mapping language: data files that translate a CRM's fields to the canonical opportunity.

A mapping file is validated against :class:`MappingSpec`, checked against the canonical model and
compiled once into plain functions (:class:`CompiledMapping`); translating a record never looks
at the file again. ``docs/mappings.md`` is the language reference.
"""

from channel_sync.mapping.compiled import CompiledMapping, TranslationError
from channel_sync.mapping.compiler import MappingError, compile_mapping, compile_spec
from channel_sync.mapping.examples import ExampleResult, run_examples
from channel_sync.mapping.flat import build_opportunity, canonical_value, flatten
from channel_sync.mapping.loader import LoadedMapping, load_mapping, mapping_files
from channel_sync.mapping.roundtrip import FieldRoundTrip, check_round_trips
from channel_sync.mapping.scope import Scope
from channel_sync.mapping.spec import (
    Authority,
    Connector,
    Direction,
    MappingSpec,
    OnConflict,
    WireType,
)
from channel_sync.mapping.transforms import FieldCodec

__all__ = [
    "Authority",
    "CompiledMapping",
    "Connector",
    "Direction",
    "ExampleResult",
    "FieldCodec",
    "FieldRoundTrip",
    "LoadedMapping",
    "MappingError",
    "MappingSpec",
    "OnConflict",
    "Scope",
    "TranslationError",
    "WireType",
    "build_opportunity",
    "canonical_value",
    "check_round_trips",
    "compile_mapping",
    "compile_spec",
    "flatten",
    "load_mapping",
    "mapping_files",
    "run_examples",
]
