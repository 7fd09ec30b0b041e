"""Command-line options built from a flow's pydantic parameter model.

A flow declares each parameter once, as a pydantic ``Field`` with a ``description``: the Prefect UI
renders that model as the run form, and ``crossling <command> --help`` shows the same text, type,
choices and default, because the command's options are made from the model here. A command only
says how a field is spelled on the command line (:class:`Opt`: positional or ``--flag``, a
metavar, repeatable, comma-separated, an inverted boolean), then builds the model from the parsed
options with :func:`build`, which turns a validation error into the one-line usage error the CLI
prints (naming the option, not the field).

    OPTS = [Opt("input", positional=True, metavar="IN"), Opt("output", flag="--out"), Opt("mode")]
    add_options(parser, LangIDParams, OPTS)
    params = build(LangIDParams, OPTS, args)
"""

from __future__ import annotations

import argparse
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined


@dataclass(frozen=True)
class Opt:
    """How one field of a parameter model is spelled on the command line."""

    field: str  # the model's field name; "near.threshold": a field of a nested model field
    flag: str | None = None  # "--out"; default: "--" + the field name with dashes
    positional: bool = False  # a positional argument (a list field takes one or more)
    metavar: str | None = None  # shown in --help instead of the type
    repeat: bool = (
        False  # a list field given as a repeatable option (``--allow-host A --allow-host B``)
    )
    split: str | None = None  # a list field given as one value split on this (``--langs de,fr``)
    invert: str | None = None  # a boolean field that defaults to True: this flag sets it False
    # (its help: "Turns off: ", the field's description, then ``extra_help``)
    required: bool | None = None  # None: required when the model field has no default
    default: Any = None  # a command-line default other than the model's (None: the model's)
    extra_help: str | None = None  # appended to the field's description
    const: Any = None  # a flag without a value that sets the field to this (``--paragraphs``)
    type: Any = (
        None  # the value's argparse type where the model's is too narrow (``--budget none``)
    )

    @property
    def dest(self) -> str:
        return self.field.replace(".", "__")

    def spelled(self) -> str:
        """How a usage error names this option."""
        if self.positional:
            return self.metavar or self.field.upper()
        return self.invert or self.flag or "--" + self.field.split(".")[-1].replace("_", "-")


def field_info(model: type[BaseModel], field: str) -> FieldInfo:
    """The pydantic field a (dotted) name refers to: ``near.threshold`` is ``threshold`` of the
    model that the ``near`` field holds."""
    *outer, last = field.split(".")
    for name in outer:
        model = _unwrap_optional(model.model_fields[name].annotation)
    return model.model_fields[last]


def _unwrap_optional(annotation: Any) -> Any:
    """``X | None`` -> ``X`` (other unions are left as they are)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _scalar(annotation: Any) -> tuple[Any, list[Any] | None]:
    """The argparse ``type`` and ``choices`` of a scalar annotation."""
    annotation = _unwrap_optional(annotation)
    if typing.get_origin(annotation) is Literal:
        choices = list(typing.get_args(annotation))
        return type(choices[0]), choices
    if annotation in (int, float, str):
        return annotation, None
    return str, None


def _default_text(value: Any) -> str | None:
    if value is None or value is PydanticUndefined or value == [] or value is False:
        return None
    return str(value)


def _help(info: FieldInfo, opt: Opt, default: Any, required: bool) -> str:
    text = (info.description or "").rstrip()
    if opt.invert:  # the flag turns the field off: its own words, else the field's negated
        text = f"Turns off: {text}" + (f" ({opt.extra_help})" if opt.extra_help else "")
        return text.replace("%", "%%")
    if opt.extra_help:
        text = f"{text} {opt.extra_help}".strip()
    shown = _default_text(default)
    if shown is not None and not required and "default" not in text.lower():
        text = f"{text} (default: {shown})".strip()
    return text.replace("%", "%%")


def add_options(
    parser: argparse.ArgumentParser, model: type[BaseModel], opts: Sequence[Opt]
) -> None:
    """Add one argument per :class:`Opt`, with the help, type, choices and default of its field."""
    for opt in opts:
        info = field_info(model, opt.field)
        annotation = _unwrap_optional(info.annotation)
        model_default = None if info.is_required() else info.get_default(call_default_factory=True)
        default = opt.default if opt.default is not None else model_default
        required = info.is_required() if opt.required is None else opt.required
        kw: dict[str, Any] = {"help": _help(info, opt, default, required)}
        if opt.metavar and not opt.invert:
            kw["metavar"] = opt.metavar
        elif "." in opt.field and not opt.positional and annotation is not bool:
            # --threshold THRESHOLD, not NEAR__THRESHOLD
            kw["metavar"] = opt.field.split(".")[-1].upper()
        is_list = typing.get_origin(annotation) in (list, tuple)
        if opt.const is not None:
            kw["help"] = _help(info, opt, None, False)
            parser.add_argument(
                opt.spelled(), dest=opt.dest, action="store_const", const=opt.const, **kw
            )
            continue
        if annotation is bool:
            if opt.invert:
                parser.add_argument(opt.invert, dest=opt.dest, action="store_false", **kw)
                parser.set_defaults(**{opt.dest: True})
            else:
                parser.add_argument(opt.spelled(), dest=opt.dest, action="store_true", **kw)
            continue
        if is_list:
            item_type, choices = _scalar(typing.get_args(annotation)[0])
            kw["type"] = item_type
            if choices:
                kw["choices"] = choices
            if opt.positional:
                kw["nargs"] = "+" if required else "*"
            elif opt.repeat:
                kw["action"] = "append"
            elif opt.split:
                kw["type"] = str
            else:
                kw["nargs"] = "+"
        else:
            kw["type"], choices = _scalar(annotation)
            if choices:
                kw["choices"] = choices
        if opt.type is not None:
            kw["type"] = opt.type
        if "choices" in kw and not opt.metavar:
            kw.pop("metavar", None)  # argparse shows the choices
        if opt.positional:
            parser.add_argument(opt.dest, **kw)
        else:
            parser.add_argument(
                opt.spelled(),
                dest=opt.dest,
                required=required,
                # a nested model's field left out stays out (its model's default applies,
                # and the command can tell it was not given)
                default=None if (is_list and opt.repeat) or "." in opt.field else default,
                **kw,
            )


def values(opts: Sequence[Opt], args: argparse.Namespace) -> dict[str, Any]:
    """The model fields given on the command line (options left out are not passed: the
    model's defaults apply)."""
    out: dict[str, Any] = {}
    for opt in opts:
        value = getattr(args, opt.dest, None)
        if value is None:
            continue
        if opt.split and isinstance(value, str):
            value = [v.strip() for v in value.split(opt.split) if v.strip()]
        *outer, last = opt.field.split(".")
        into = out
        for name in outer:
            into = into.setdefault(name, {})
        into[last] = value
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k] = _merge(merged[k], v)
        else:
            merged[k] = v
    return merged


def usage_message(e: ValidationError, opts: Sequence[Opt]) -> str:
    """A validation error as one line naming the option (or the field) and the problem."""
    err = e.errors()[0]
    loc = [str(x) for x in err["loc"]]
    by_field = {o.field: o for o in opts}
    named = next(
        (".".join(loc[:n]) for n in range(len(loc), 0, -1) if ".".join(loc[:n]) in by_field), None
    )
    where = by_field[named].spelled() if named else ".".join(loc) or "options"
    value = err.get("input")
    shown = f" ({value!r})" if isinstance(value, str | int | float) and loc else ""
    return f"invalid {where}{shown}: {err['msg']}"


def build(
    model: type[BaseModel], opts: Sequence[Opt], args: argparse.Namespace, **extra: Any
) -> Any:
    """The model from the parsed options (and ``extra`` fields the command sets itself, merged
    into the options' nested dicts).

    Raises:
        flows.cli.UsageError: a value the model rejects, named by its option.
    """
    from flows.cli import UsageError

    try:
        return model(**_merge(values(opts, args), extra))
    except ValidationError as e:
        raise UsageError(usage_message(e, opts)) from None


def complete(model: type[BaseModel], opts: Sequence[Opt], skip: Sequence[str] = ()) -> list[Opt]:
    """``opts`` and then an option for each other top-level field of ``model`` (not in ``skip``),
    spelled the default way: ``--field-name``, and ``--no-field-name`` for a boolean whose
    default is True. A field added to the model is then an option without a line here."""
    named = {o.field.split(".")[0] for o in opts} | set(skip)
    out = list(opts)
    for name, info in model.model_fields.items():
        if name in named:
            continue
        if _unwrap_optional(info.annotation) is bool and info.default is True:
            out.append(Opt(name, invert="--no-" + name.replace("_", "-")))
        else:
            out.append(Opt(name))
    return out


def signature_model(fn: Any, name: str) -> type[BaseModel]:
    """A parameter model of a flow whose parameters are its function's arguments (no model of
    its own): each argument's type and default, and as its description the docstring's ``Args``
    entry, which is what Prefect's UI form shows for it (``parameter_docstrings``)."""
    import inspect

    from prefect.utilities.callables import parameter_docstrings
    from pydantic import Field, create_model

    fn = getattr(fn, "fn", fn)  # a prefect Flow: its function
    hints = typing.get_type_hints(fn)
    docs = parameter_docstrings(inspect.getdoc(fn))
    fields: dict[str, Any] = {}
    for arg, p in inspect.signature(fn).parameters.items():
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[arg] = (hints[arg], Field(default, description=docs.get(arg)))
    return create_model(name, **fields)
