"""Reading .isof files with the `isof` package and converting them to IsoFind's shapes.

The `isof` parser is deliberately permissive: a number it cannot read becomes None, a string
where a list belongs becomes a tuple of characters, a missing yield becomes 0 %. IsoFind
loses nothing silently, so the raw document is checked too and every such value is reported
as a problem with its path in the file.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import isof

from isofind.samples.action import LATITUDE_RANGE, LONGITUDE_RANGE
from isofind.samples.csv_import.values import parse_date
from isofind.samples.isof import trust
from isofind.samples.isof.fields import (
    CONTENT_BLOCKS,
    CREATED_BY_FIELDS,
    EQUIPMENT_FIELDS,
    EXTENSION_KEY,
    ISOTOPE_EXTENSION_FIELDS,
    ISOTOPE_EXTENSION_NUMBERS,
    ISOTOPE_FIELDS,
    PROJECT_FIELDS,
    SAMPLE_EXTENSION_FIELDS,
    SAMPLE_FIELDS,
    SAMPLE_NUMBER_FIELDS,
    SAMPLE_TO_ISOF,
    inferred_isotope_fields,
)
from isofind.samples.isof.results import IsofError, IsofImport, Problem
from isofind.samples.vocabulary import (
    IsotopeQuantity,
    normalise_classification,
    normalise_element,
    normalise_material,
    parse_delta,
    parse_isotope_quantity,
    parse_ratio,
    parse_uncertainty_type,
)

_V12_FAMILIES = ("geochem_data", "physico_data", "molecules_data")
_SAMPLE_FAMILIES = ("isotope_data", *_V12_FAMILIES)
_SKIPPED_EMPTY = "isotope_data_without_value"
_KEYED_BY = {"methods": "method key", "pipelines": "pipeline key",
             "purification": "'<sample id>_<element>'"}


def read_isof(
    content: bytes,
    *,
    decryption_key: str | bytes | None = None,
    custom_symbols: Collection[str] = frozenset(),
) -> IsofImport:
    """Load, verify and convert an .isof file.

    A signature, when the file has one, must verify (level 1: SHA-256 of the signed blocks;
    level 2: ECDSA P-256 by a laboratory certificate chaining to the IsoFind Root CA). An
    encrypted file needs ``decryption_key`` (the recipient's X25519 private key: PEM, raw or
    base64). ``custom_symbols`` are the lab's custom elements, accepted like predefined ones.

    Raises:
        IsofError: the message names what is wrong; ``problems`` lists each bad value.
    """
    document = _load(_decode(bytes(content)))
    _raise_on_bad_shape(document.to_dict())
    signature = _verified_signature(document)
    encrypted = document.is_encrypted
    if encrypted:
        document = _decrypted(document, decryption_key)
        _raise_on_bad_shape(document.to_dict())
    signature["unverified_blocks"] = _unverified_blocks(document.to_dict(), signature, encrypted)
    return _Converter(document, custom_symbols).convert(signature, encrypted=encrypted)


# --- Loading -------------------------------------------------------------------------------

def _decode(content: bytes) -> str:
    if not content.strip():
        raise IsofError("the file is empty")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise IsofError(f"the file is not UTF-8 text (byte {error.start}): "
                        "an .isof file is UTF-8 JSON") from None


def _load(text: str) -> isof.ISOfDocument:
    try:
        return isof.loads(text)
    except isof.ISOfVersionError as error:
        raise IsofError(f"unsupported ISOF version {error.found!r}: this reader accepts "
                        f"{', '.join(error.supported)}") from None
    except isof.ISOfError as error:
        cause = error.__cause__
        if isinstance(cause, json.JSONDecodeError):
            raise IsofError(f"not a JSON document: {cause.msg} at line {cause.lineno} "
                            f"column {cause.colno}") from None
        raise IsofError(f"not a valid ISOF document: {_shape_of_text(text) or error}") from None
    except RecursionError:
        raise IsofError("malformed ISOF document: JSON nested too deeply") from None
    except (AttributeError, TypeError, ValueError, KeyError) as error:
        # The parser trusts the shape of every block it walks: say where the shape is wrong.
        raise IsofError(f"malformed ISOF document: {_shape_of_text(text) or error}") from None


def _shape_of_text(text: str) -> str | None:
    try:
        return _shape_problem(json.loads(text))
    except (ValueError, RecursionError):
        return None


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)


def _raise_on_bad_shape(raw: dict[str, Any]) -> None:
    problem = _shape_problem(raw)
    if problem is not None:
        raise IsofError(f"malformed ISOF document: {problem}")


def _list_of_objects(value: Any, path: str) -> str | None:
    if not isinstance(value, list):
        return f"{path} must be an array"
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            return f"{path}[{index}] must be an object"
    return None


def _first(*problems: str | None) -> str | None:
    return next((problem for problem in problems if problem is not None), None)


def _sample_shape(sample: Any, path: str) -> str | None:
    if not isinstance(sample, dict):
        return f"{path} must be an object"
    if sample.get("id") in (None, ""):
        return f"{path} has no 'id'"
    families = (_list_of_objects(sample[name], f"{path}.{name}")
                for name in _SAMPLE_FAMILIES if sample.get(name) is not None)
    extension = sample.get(EXTENSION_KEY)
    if extension is not None and not isinstance(extension, dict):
        return f"{path}.{EXTENSION_KEY} must be an object"
    return _first(*families)


def _method_shape(method: dict[str, Any], path: str) -> str | None:
    for name in ("equipment", "reference"):
        if method.get(name) and not isinstance(method[name], dict):
            return f"{path}.{name} must be an object"
    matrices = method.get("target_matrices")
    if matrices and not (isinstance(matrices, list)
                         and all(isinstance(item, str) for item in matrices)):
        return f"{path}.target_matrices must be an array of text"
    return _list_of_objects(method["steps"], f"{path}.steps") if method.get("steps") else None


def _keyed_block_shape(raw: dict[str, Any], block: str) -> str | None:
    value = raw.get(block)
    if not value:  # the parser reads null, {} and [] alike as "none"
        return None
    if not isinstance(value, dict):
        return f"'{block}' must be an object keyed by {_KEYED_BY[block]}"
    for key, entry in value.items():
        path = f"{block}.{key}"
        if not isinstance(entry, dict):
            return f"{path} must be an object"
        if block == "methods" and (problem := _method_shape(entry, path)):
            return problem
        if block == "purification" and not _is_number(entry.get("value_pct", 0)):
            return f"{path}.value_pct must be a number"
        stages = entry.get("stages") if block == "pipelines" else None
        if stages and (problem := _list_of_objects(stages, f"{path}.stages")):
            return problem
    return None


def _signature_shape(signature: dict[str, Any]) -> str | None:
    if str(signature.get("level", 1)) not in ("1", "2"):
        return "signature.level must be 1 or 2"
    for name in ("scope", "signed_scope"):
        scope = signature.get(name)
        if scope is not None and not (isinstance(scope, list)
                                      and all(isinstance(item, str) for item in scope)):
            return f"signature.{name} must be an array of block names"
    return None


def _shape_problem(raw: Any) -> str | None:
    """The first place where the document does not have the shape ISOF gives it, or None."""
    if not isinstance(raw, dict):
        return "the document must be a JSON object"
    for name in ("created_by", "project", "signature", "encryption"):
        if raw.get(name) is not None and not isinstance(raw[name], dict):
            return f"'{name}' must be an object"
    encryption = raw.get("encryption") or {}
    samples = raw.get("samples")
    if not isinstance(samples, list):
        if not encryption.get("active"):
            return "'samples' must be an array"
        samples = []
    sample_problems = (_sample_shape(sample, f"samples[{index}]")
                       for index, sample in enumerate(samples))
    assignments = raw.get("assignments")
    return _first(
        _first(*sample_problems),
        *(_keyed_block_shape(raw, block) for block in ("methods", "pipelines", "purification")),
        _list_of_objects(assignments, "assignments") if assignments else None,
        _signature_shape(raw["signature"]) if raw.get("signature") else None,
    )


# --- Signature and encryption ----------------------------------------------------------------

def _verified_signature(document: isof.ISOfDocument) -> dict[str, Any]:
    signature = document.signature
    if signature is None:
        return {"status": "unsigned", "level": 0, "signed_by": None, "signed_at": None,
                "scope": []}
    try:
        result = document.verify()
    except isof.ISOfSignatureError as error:
        raise IsofError(f"the signature cannot be verified: {error}") from None
    scope = list(signature.scope)
    if not result.valid:
        raise IsofError(_failed_verification(signature.level, scope, result.reason or ""))
    if signature.level == 2:
        problem = trust.embedded_issuer_problem(signature)
        if problem is not None:
            raise IsofError(f"signature verification failed (level 2, ECDSA P-256): {problem}")
    status = "signed" if signature.level == 2 else "sha256-verified"
    # Level 1 authenticates nobody: `signed_by` is what the file claims. Level 2 gives the
    # common name of the verified laboratory certificate.
    return {"status": status, "level": signature.level, "signed_by": result.signer,
            "signed_at": result.signed_at, "scope": scope}


def _failed_verification(level: int, scope: list[str], reason: str) -> str:
    blocks = ", ".join(scope) or "no block"
    if level == 1:
        return (f"integrity check failed (level 1): the SHA-256 hash of the signed blocks "
                f"({blocks}) does not match the one in the signature, the file was modified "
                "after it was signed")
    if "chain" in reason.casefold() or "certificate" in reason.casefold():
        return f"signature verification failed (level 2, ECDSA P-256): {reason}"
    return (f"signature verification failed (level 2, ECDSA P-256): the signature does not "
            f"match the signed blocks ({blocks}), the file was modified after it was signed")


def _decrypted(document: isof.ISOfDocument, key: str | bytes | None) -> isof.ISOfDocument:
    recipient = document.encryption.recipient_id if document.encryption else None
    if key is None:
        for_whom = f" for recipient {recipient!r}" if recipient else ""
        raise IsofError(f"the file is encrypted{for_whom}: its content cannot be read without "
                        "the recipient's private key")
    try:
        return document.decrypt(key)
    except isof.ISOfEncryptionError as error:
        raise IsofError(f"the file cannot be decrypted: {error}") from None
    except (isof.ISOfError, AttributeError, TypeError, ValueError, KeyError) as error:
        raise IsofError(f"malformed ISOF document once decrypted: {error}") from None


def _unverified_blocks(raw: Mapping[str, Any], signature: Mapping[str, Any],
                       encrypted: bool) -> list[str]:
    """The content blocks with data that no signature covers.

    IsoFind's own exports sign samples, methods and purification only; an encrypted payload
    is covered when the signed scope includes the `encryption` block that carries it.
    """
    scope = set(signature["scope"])
    if encrypted and "encryption" in scope:
        return []
    return [block for block in CONTENT_BLOCKS if raw.get(block) and block not in scope]


def _iso_timestamp_date(text: str) -> str | None:
    """The date of an ISO 8601 timestamp such as JavaScript writes (`2026-02-15T11:30:00Z`)."""
    try:
        return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        return None


# --- Conversion ------------------------------------------------------------------------------

class _Converter:
    def __init__(self, document: isof.ISOfDocument, custom_symbols: Collection[str]) -> None:
        self.document = document
        self.raw = document.to_dict()
        self.custom = custom_symbols
        self.problems: list[Problem] = []
        self.skipped: Counter[str] = Counter()
        self.sample_ids: set[str] = set()

    def convert(self, signature: dict[str, Any], *, encrypted: bool) -> IsofImport:
        samples = [self.sample(index, sample, raw)
                   for index, (sample, raw) in enumerate(zip(self.document.samples,
                                                             self.raw.get("samples") or [],
                                                             strict=True))]
        methods = [self.method(key, method, self.raw["methods"][key])
                   for key, method in self.document.methods.items()]
        pipelines = [self.pipeline(key, pipeline, self.raw["pipelines"][key])
                     for key, pipeline in self.document.pipelines.items()]
        yields = [self.purification_yield(key, entry, self.raw["purification"][key])
                  for key, entry in self.document.purification.items()]
        assignments = [self.assignment(index, assignment)
                       for index, assignment in enumerate(self.document.assignments)]
        document = {
            "format_version": self.document.version,
            "created_at": self.text(self.document.created_at, "created_at"),
            "created_by": self.metadata(self.document.created_by, CREATED_BY_FIELDS,
                                        "created_by"),
            "project": self.metadata(self.document.project, PROJECT_FIELDS, "project"),
            "signature": signature,
            "encrypted": encrypted,
        }
        if self.problems:
            raise IsofError.from_problems(self.problems)
        return IsofImport(samples=samples, methods=methods, pipelines=pipelines, yields=yields,
                          assignments=assignments, document=document,
                          skipped={kind: n for kind, n in sorted(self.skipped.items()) if n})

    # --- values ---

    def problem(self, path: str, message: str, value: Any) -> None:
        self.problems.append({"path": path, "value": value, "message": message})

    def text(self, value: Any, path: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # a numeric sample name or reference written as a JSON number
        self.problem(path, "must be text", value)
        return None

    def number(self, value: Any, path: str) -> float | None:
        """The number as the `isof` parser reads it, but a problem where it would drop it."""
        if value is None:
            return None
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            self.problem(path, "must be a finite number", value)
            return None
        return number

    def integer(self, value: Any, path: str) -> int | None:
        number = self.number(value, path)
        if number is None:
            return None
        if not number.is_integer() or number < 0:
            self.problem(path, "must be a whole number, 0 or more", value)
            return None
        return int(number)

    def date(self, value: Any, path: str) -> str | None:
        text = self.text(value, path)
        if text is None:
            return None
        parsed = parse_date(text.strip()) or _iso_timestamp_date(text.strip())
        if parsed is None:
            self.problem(path, "not a date (YYYY-MM-DD)", value)
        return parsed

    def within(self, number: float | None, low: float, high: float, path: str) -> float | None:
        if number is not None and not low <= number <= high:
            self.problem(path, f"must be between {low:g} and {high:g}", number)
            return None
        return number

    def extension(self, raw: Mapping[str, Any]) -> Mapping[str, Any]:
        return raw.get(EXTENSION_KEY) or {}

    def element(self, value: Any, path: str) -> str | None:
        text = self.text(value, path)
        if text is None:
            return None
        symbol = normalise_element(text, self.custom)
        if symbol is None:
            self.problem(path, f"unknown element {text!r} (define it as a custom element first)",
                         value)
        return symbol

    def metadata(self, block: Any, names: tuple[str, ...], path: str) -> dict[str, Any] | None:
        if block is None:
            return None
        return {name: self.text(getattr(block, name), f"{path}.{name}") for name in names}

    # --- samples ---

    def sample(self, index: int, sample: isof.Sample, raw: Mapping[str, Any]) -> dict[str, Any]:
        path = f"samples[{index}]"
        fields: dict[str, Any] = {}
        for name, key in SAMPLE_TO_ISOF.items():
            if name in SAMPLE_NUMBER_FIELDS:
                fields[name] = self.number(raw.get(key), f"{path}.{key}")
            else:
                fields[name] = self.text(getattr(sample, key), f"{path}.{key}")
        extension = self.extension(raw)
        for name in SAMPLE_EXTENSION_FIELDS:
            fields[name] = self.text(extension.get(name), f"{path}.{EXTENSION_KEY}.{name}")
        self.clean_sample_fields(fields, raw, path)

        source_id = sample.id
        if source_id in self.sample_ids:
            self.problem(f"{path}.id", "two samples have this id", source_id)
        self.sample_ids.add(source_id)
        for family in _V12_FAMILIES:
            self.skipped[family] += len(getattr(sample, family))

        values: list[dict[str, Any]] = []
        raw_records = raw.get("isotope_data") or []
        for position, (record, raw_record) in enumerate(zip(sample.isotope_data, raw_records,
                                                            strict=True)):
            values += self.isotope_values(record, raw_record, f"{path}.isotope_data[{position}]")
        return {**{name: fields[name] for name in SAMPLE_FIELDS}, "source_id": source_id,
                "isotope_data": values}

    def clean_sample_fields(self, fields: dict[str, Any], raw: Mapping[str, Any],
                            path: str) -> None:
        if not (fields["name"] or "").strip():
            self.problem(f"{path}.name", "a sample needs a name", fields["name"])
        if fields["material_type"]:
            fields["material_type"] = normalise_material(fields["material_type"])
        if fields["classification"]:
            classification = normalise_classification(fields["classification"])
            if classification is None:
                self.problem(f"{path}.classification",
                             "must be source or daughter (fille)", fields["classification"])
            fields["classification"] = classification
        fields["latitude"] = self.within(fields["latitude"], *LATITUDE_RANGE, f"{path}.latitude")
        fields["longitude"] = self.within(fields["longitude"], *LONGITUDE_RANGE,
                                          f"{path}.longitude")
        fields["collection_date"] = self.date(raw.get("collection_date"),
                                              f"{path}.collection_date")

    def isotope_values(self, record: isof.IsotopeRecord, raw: Mapping[str, Any],
                       path: str) -> list[dict[str, Any]]:
        """The IsoFind values of one ISOF record: its ratio, its delta, or (rarely) both."""
        problems_before = len(self.problems)
        common = {
            "instrument": self.text(record.instrument, f"{path}.instrument"),
            "session_date": self.date(raw.get("session_date"), f"{path}.session_date"),
            "notes": self.text(record.notes, f"{path}.notes"),
            "n_cycles": self.integer(raw.get("n_cycles"), f"{path}.n_cycles"),
        }
        element = self.element(record.element, f"{path}.element")
        standard = self.text(record.standard, f"{path}.standard")
        extension = self.isotope_extension(self.extension(raw), f"{path}.{EXTENSION_KEY}")
        values = []
        for delta, name_key, value_key, uncertainty_key in (
            (False, "system", "ratio", "ratio_2se"),
            (True, "delta_notation", "delta_value", "delta_2sd"),
        ):
            value = self.number(raw.get(value_key), f"{path}.{value_key}")
            if value is None:
                # A notation or an uncertainty without its value is no measurement.
                continue
            quantity = self.quantity(getattr(record, name_key), delta, f"{path}.{name_key}")
            uncertainty = self.number(raw.get(uncertainty_key), f"{path}.{uncertainty_key}")
            if uncertainty is not None and uncertainty < 0:
                self.problem(f"{path}.{uncertainty_key}", "must be 0 or more", uncertainty)
            if quantity is None:
                continue
            refusal = quantity.refuses(value)
            if refusal is not None:
                self.problem(f"{path}.{value_key}", refusal, value)
            if element is not None and element not in quantity.elements:
                self.problem(f"{path}.element",
                             f"{quantity.name} is not a quantity of {element}", record.element)
            inferred = inferred_isotope_fields(delta=delta, isof_standard=standard,
                                               uncertainty=uncertainty)
            values.append({
                "element": element or quantity.element, "ratio": quantity.name, "value": value,
                "uncertainty": uncertainty, **common, **inferred, **extension,
            })
        if not values and len(self.problems) == problems_before:
            self.skipped[_SKIPPED_EMPTY] += 1
        return [{name: value[name] for name in ISOTOPE_FIELDS} for value in values]

    def quantity(self, name: Any, delta: bool, path: str) -> IsotopeQuantity | None:
        kind, example = ("delta", "δ65Cu") if delta else ("ratio", "206Pb/204Pb")
        text = self.text(name, path)
        if text is None:
            self.problem(path, f"a {kind} value needs its {path.rsplit('.', 1)[-1]}", name)
            return None
        quantity = (parse_delta if delta else parse_ratio)(text, self.custom)
        if quantity is None:
            self.problem(path, f"{text!r} is not an isotope {kind} ({example})", name)
        return quantity

    def isotope_extension(self, extension: Mapping[str, Any], path: str) -> dict[str, Any]:
        """The IsoFind-only fields an IsoFind export wrote where it could not be inferred."""
        fields: dict[str, Any] = {}
        for name in ISOTOPE_EXTENSION_FIELDS:
            if name not in extension:
                continue
            value, where = extension[name], f"{path}.{name}"
            if name in ISOTOPE_EXTENSION_NUMBERS:
                fields[name] = self.number(value, where)
            else:
                fields[name] = self.text(value, where)
        if fields.get("uncertainty_type_declared"):
            label = parse_uncertainty_type(fields["uncertainty_type_declared"])
            if label is None:
                self.problem(f"{path}.uncertainty_type_declared",
                             "not an uncertainty type (1σ, 2σ, 1SD, 2SD, 1SE, 2SE)",
                             fields["uncertainty_type_declared"])
            fields["uncertainty_type_declared"] = label
        if fields.get("correlated_ratio"):
            correlated = parse_isotope_quantity(fields["correlated_ratio"], self.custom)
            if correlated is None:
                self.problem(f"{path}.correlated_ratio", "not an isotope ratio",
                             fields["correlated_ratio"])
            fields["correlated_ratio"] = correlated.name if correlated else None
        if "correlation" in fields:
            fields["correlation"] = self.within(fields["correlation"], -1, 1,
                                                f"{path}.correlation")
        return fields

    # --- methods, pipelines, yields, assignments ---

    def method(self, key: str, method: isof.Method, raw: Mapping[str, Any]) -> dict[str, Any]:
        path = f"methods.{key}"
        raw_equipment = raw.get("equipment") or {}
        equipment = None
        if method.equipment is not None:
            equipment = {name: self.text(getattr(method.equipment, name),
                                         f"{path}.equipment.{name}")
                         for name in EQUIPMENT_FIELDS}
            equipment["resin_volume_ml"] = self.number(raw_equipment.get("resin_volume_ml"),
                                                       f"{path}.equipment.resin_volume_ml")
        reference = None
        if method.reference is not None:
            reference = {"doi": self.text(method.reference.doi, f"{path}.reference.doi"),
                         "citation": self.text(method.reference.citation,
                                               f"{path}.reference.citation")}
        return {
            "key": key,
            "name": self.text(method.name, f"{path}.name"),
            "type": self.text(method.type, f"{path}.type"),
            "element": self.loose_element(method.element, f"{path}.element"),
            "target_matrices": list(method.target_matrices),
            "duration": self.text(method.duration, f"{path}.duration"),
            "duration_hours": self.number(raw.get("duration_hours"), f"{path}.duration_hours"),
            "yield_min_pct": self.number(raw.get("yield_min_pct"), f"{path}.yield_min_pct"),
            "yield_max_pct": self.number(raw.get("yield_max_pct"), f"{path}.yield_max_pct"),
            "equipment": equipment,
            "steps": [self.step(step, raw_step, f"{path}.steps[{index}]")
                      for index, (step, raw_step) in enumerate(zip(method.steps,
                                                                   raw.get("steps") or [],
                                                                   strict=True))],
            "reference": reference,
            "notes": self.text(method.notes, f"{path}.notes"),
        }

    def step(self, step: Any, raw: Mapping[str, Any], path: str) -> dict[str, Any]:
        final = raw.get("final")
        if final is not None and not isinstance(final, bool):
            # The parser takes bool("false") for True.
            self.problem(f"{path}.final", "must be true or false", final)
        return {"num": self.integer(step.num, f"{path}.num"),
                "title": self.text(step.title, f"{path}.title"),
                "detail": self.text(step.detail, f"{path}.detail"),
                "final": step.final}

    def loose_element(self, value: Any, path: str) -> str | None:
        """A method's or pipeline's element: its symbol when it names one, else as written
        (labs write 'Pb, Zn' or 'all' there)."""
        text = self.text(value, path)
        if text is None:
            return None
        return normalise_element(text, self.custom) or text

    def pipeline(self, key: str, pipeline: isof.Pipeline,
                 raw: Mapping[str, Any]) -> dict[str, Any]:
        path = f"pipelines.{key}"
        stages = [{"order": self.integer(stage.order, f"{path}.stages[{index}].order"),
                   "method_key": self.text(stage.method_key,
                                           f"{path}.stages[{index}].method_key"),
                   "label": self.text(stage.label, f"{path}.stages[{index}].label")}
                  for index, stage in enumerate(pipeline.stages)]
        return {"key": key, "name": self.text(pipeline.name, f"{path}.name"),
                "element": self.loose_element(pipeline.element, f"{path}.element"),
                "description": self.text(pipeline.description, f"{path}.description"),
                "stages": stages}

    def known_sample(self, source_id: str, path: str) -> None:
        if not source_id:
            self.problem(path, "no sample id", source_id)
        elif source_id not in self.sample_ids:
            self.problem(path, f"no sample with id {source_id!r} in the file", source_id)

    def purification_yield(self, key: str, entry: isof.PurificationYield,
                           raw: Mapping[str, Any]) -> dict[str, Any]:
        path = f"purification.{key}"
        self.known_sample(entry.sample_id, path)
        element = normalise_element(entry.element, self.custom) if entry.element else None
        if element is None:
            self.problem(path, "the key must be '<sample id>_<element>' with a known element",
                         key)
        if raw.get("value_pct") is None:  # the parser would read it as 0 %
            self.problem(f"{path}.value_pct", "a purification yield needs its value_pct", None)
        percent = self.number(raw.get("value_pct"), f"{path}.value_pct")
        if percent is not None and percent < 0:
            self.problem(f"{path}.value_pct", "must be 0 or more", percent)
        return {"source_id": entry.sample_id, "element": element, "yield_percent": percent,
                "date": self.text(entry.date, f"{path}.date"),
                "operator": self.text(entry.operator, f"{path}.operator"),
                "method_key": self.text(entry.method_key, f"{path}.method_key"),
                "notes": self.text(entry.notes, f"{path}.notes")}

    def assignment(self, index: int, assignment: isof.Assignment) -> dict[str, Any]:
        path = f"assignments[{index}]"
        self.known_sample(assignment.sample_id, f"{path}.sample_id")
        method_key = self.text(assignment.method_key, f"{path}.method_key")
        pipeline_key = self.text(assignment.pipeline_key, f"{path}.pipeline_key")
        if method_key is None and pipeline_key is None:
            self.problem(path, "an assignment needs a method_key or a pipeline_key", None)
        return {"source_id": assignment.sample_id, "method_key": method_key,
                "pipeline_key": pipeline_key,
                "assigned_at": self.text(assignment.assigned_at, f"{path}.assigned_at"),
                "assigned_by": self.text(assignment.assigned_by, f"{path}.assigned_by")}

