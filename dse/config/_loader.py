"""Reading study.yaml: safe YAML, pydantic validation, one-line errors naming the field."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from dse._errors import StudyFileError, settings_error
from dse.config._plugins import load_plugins
from dse.config._schema import StudyConfig
from dse.optimizers import OptimizerSettings, UnknownOptimizerError, optimizer_settings


def load_study(path: str | Path) -> StudyConfig:
    """Read and validate a study file.

    Args:
        path: the study.yaml file.

    Returns:
        The validated, frozen configuration.

    Raises:
        StudyFileError: one line naming the file, the field path and what was expected.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudyFileError(str(path), None, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyFileError(str(path), None, f"cannot read: {exc}") from None
    try:
        loader = _UniqueKeyLoader(text)  # a SafeLoader: plain data, no object tags
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise StudyFileError(str(path), None, _yaml_reason(exc)) from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise StudyFileError(str(path), None, f"expected a mapping of sections, got {got}")
    load_plugins(data.get("plugins", ()), path)
    return validate_settings(data, path)


def validate_settings(data: dict[str, Any], path: str | Path | None = None) -> StudyConfig:
    """Validate study settings given as plain data (a parsed study file, or from Python).

    Args:
        data: the sections, as study.yaml would hold them.
        path: the study file they come from, or None for settings given from Python.

    Raises:
        SettingsError: one line naming the field path and what was expected (a
            `StudyFileError` naming the file too when `path` is given).
    """
    try:
        return StudyConfig.model_validate(data)
    except ValidationError as exc:
        field, reason = describe_validation_error(exc, data)
        raise settings_error(None if path is None else str(path), field, reason) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load, except that a key given twice in one mapping is an error.

    Plain YAML keeps the last of two `search_space:` blocks and silently drops the first.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: invalid YAML: {problem}"
    return f"invalid YAML: {problem}"


def describe_validation_error(
    exc: ValidationError, data: Any, prefix: tuple[Any, ...] = ()
) -> tuple[str, str]:
    """The first error of a validation as (field path, reason), both on one line.

    Args:
        exc: the error.
        data: the whole study's data the validated value sits in.
        prefix: where the validated value sits in `data`, when it is a section alone.
    """
    error = exc.errors()[0]
    loc = _user_loc(prefix + tuple(error["loc"]), data)
    field = _format_loc(loc) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(StudyConfig, loc[:-1], data)
        reason = "unknown key"
        if allowed:
            reason += f"; expected one of: {', '.join(allowed)}"
        return field, reason
    if kind == "missing":
        return field, "required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    if kind == "unknown_optimizer":
        return f"{field}.kind", message
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("discriminator", "kind").strip("'")
        return f"{field}.{tag}", message.replace("\n", " ")
    if kind in ("literal_error",) or "input" not in error:
        return field, message.replace("\n", " ")
    return field, f"{message} (got {error['input']!r})".replace("\n", " ")


def _user_loc(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Drop the tags pydantic inserts for discriminated unions, keep the user's own keys."""
    out: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("kind") == part:
            continue
        if isinstance(part, str) and _UNION_MEMBER.match(part):
            continue  # pydantic names the union member it tried ('constrained-int', ...)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
        out.append(part)
    return tuple(out)


_UNION_MEMBER = re.compile(
    r"^(constrained-\w+|literal\[.*\]|function-\w+\[.*\]|(int|float|str|bool|none)"
    r"|(list|tuple|dict|tagged-union|union)\[.*\])$"
)


def _format_loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...], data: Any) -> list[str]:
    """The keys of the section at `loc`, found by walking the schema's annotations."""
    node: Any = model
    value = data
    for part in loc:
        if isinstance(part, int):
            value = value[part] if isinstance(value, list) and part < len(value) else None
            node = _element_type(node)
            continue
        model_cls = _model_of(node, value)
        if model_cls is None or part not in model_cls.model_fields:
            return []
        node = model_cls.model_fields[part].annotation
        value = value.get(part) if isinstance(value, dict) else None
        if typing.get_origin(node) is dict:
            node = typing.get_args(node)[1]
    model_cls = _model_of(node, value)
    return list(model_cls.model_fields) if model_cls is not None else []


def _model_of(node: Any, value: Any) -> type[BaseModel] | None:
    """The pydantic model a type annotation stands for, choosing union members (and the
    registered optimizer settings) by `kind`."""
    if isinstance(node, type) and issubclass(node, OptimizerSettings):
        kind = value.get("kind") if isinstance(value, dict) else None
        try:
            return optimizer_settings(str(kind))
        except UnknownOptimizerError:
            return node
    if isinstance(node, type) and issubclass(node, BaseModel):
        return node
    origin = typing.get_origin(node)
    if origin is typing.Annotated:
        return _model_of(typing.get_args(node)[0], value)
    if origin in (typing.Union, types.UnionType):
        members = [m for m in (_model_of(a, value) for a in typing.get_args(node)) if m]
        kind = value.get("kind") if isinstance(value, dict) else None
        for member in members:
            field = member.model_fields.get("kind")
            if field is not None and kind in typing.get_args(field.annotation):
                return member
        return members[0] if len(members) == 1 else None
    return None


def _element_type(node: Any) -> Any:
    origin = typing.get_origin(node)
    if origin is typing.Annotated:
        return _element_type(typing.get_args(node)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(node):
            if typing.get_origin(arg) in (list, tuple):
                return _element_type(arg)
    if origin in (list, tuple):
        return typing.get_args(node)[0]
    return node
