"""Command options made from the flows' parameter models (flows/cli_params.py): the help a user
reads is the description the UI form shows, a value the model rejects is a one-line usage error
naming the option, found before any Prefect server is started."""

from __future__ import annotations

import argparse
import importlib
import os
import re

import pytest
from pydantic import BaseModel

from flows import crawl, langid
from flows.cli import UsageError, build_parser, main
from flows.cli_params import Opt, _unwrap_optional, add_options, build, field_info


def _actions(command: str) -> dict[str, argparse.Action]:
    parser = build_parser(command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices[command]._actions}


@pytest.mark.parametrize(
    "command,model,opts",
    [
        ("langid", langid.LangIDParams, langid.CLI_OPTIONS),
        ("crawl", crawl.CrawlParams, crawl.CLI_OPTIONS),
    ],
)
def test_every_option_says_what_the_ui_form_says(command, model, opts) -> None:
    actions = _actions(command)
    for opt in opts:
        info = model.model_fields[opt.field]
        action = actions[opt.field]
        if opt.invert:
            assert action.option_strings == [opt.invert]
            continue
        assert info.description and action.help.startswith(info.description), (opt, action.help)
    if command == "langid":
        assert actions["mode"].choices == ["doc", "line"]


def test_defaults_types_and_errors_come_from_the_model() -> None:
    p = argparse.ArgumentParser()
    add_options(p, langid.LangIDParams, langid.CLI_OPTIONS)
    args = p.parse_args(["in.jsonl", "--out", "o.parquet"])
    params = build(langid.LangIDParams, langid.CLI_OPTIONS, args)
    assert (params.mode, params.batch_size, params.model_path) == ("doc", 2048, None)
    assert "(default: 2048)" in next(a.help for a in p._actions if a.dest == "batch_size")
    bad = p.parse_args(["in.jsonl", "--out", "o.parquet", "--batch-size", "0"])
    with pytest.raises(UsageError, match=r"^invalid --batch-size \(0\): .*greater than or equal"):
        build(langid.LangIDParams, langid.CLI_OPTIONS, bad)
    # A comma-separated list, a repeatable one and an inverted boolean.
    p = argparse.ArgumentParser()
    opts = [Opt("seeds", positional=True), Opt("allow_hosts", flag="--allow-host", repeat=True)]
    opts += [Opt("build", invert="--no-build"), Opt("allowed_hosts", split=",")]
    add_options(p, crawl.CrawlParams, opts)
    args = p.parse_args(["http://a/", "--no-build", "--allowed-hosts", "a.org, b.org"])
    params = build(crawl.CrawlParams, opts, args)
    assert params.build is False and params.allowed_hosts == ["a.org", "b.org"]
    args = p.parse_args(["http://a/", "--allow-host", "x:1", "--allow-host", "y:2"])
    params = build(crawl.CrawlParams, opts, args)
    assert params.build is True and params.allow_hosts == ["x:1", "y:2"]


def test_usage_errors_exit_2_with_one_line_and_start_no_server(tmp_path, capsys) -> None:
    root = tmp_path / "root"
    cases = [
        ["crawl", "http://127.0.0.1/", "--out", str(root), "--name", "bad name"],
        ["crawl", "http://127.0.0.1/", "--out", str(root), "--name", "x", "--max-pages", "0"],
        ["langid", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o.jsonl")],
    ]
    lines = []
    for argv in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"crossling {argv[0]}: error: "), err
        lines += err
    assert "invalid --name ('bad name'): String should match pattern" in lines[0]
    assert "invalid --max-pages (0): Input should be greater than or equal to 1" in lines[1]
    assert "missing.jsonl: no such file or directory" in lines[2]
    assert not os.path.exists(root)  # nothing was started for it, not even a local server


# Every command made from a flow's parameter model: (argv to its parser, module, model, options,
# fields set only in the UI or a deployment, and a bad value with the option its error names).
COMMANDS = [
    (["corpus"], "flows.corpus", "CorpusParams", "CLI_OPTIONS",
     ["x", "--out", "R", "--name", "n", "--workers", "0"], "--workers"),
    (["dedup"], "flows.dedup", "DedupParams", "CLI_OPTIONS",
     ["x", "--out", "O", "--threshold", "1.5"], "--threshold"),
    (["train"], "flows.train", "TrainConfig", "CLI_OPTIONS",
     ["--data", "{tmp}", "--corpus", "c", "--alpha", "2"], "--alpha"),
    (["backtranslate"], "flows.backtranslate", "BacktranslateParams", "CLI_OPTIONS",
     ["--data", "{tmp}", "--corpus", "c", "--lang", "en", "--to", "zh", "--rounds", "11"],
     "--rounds"),
    (["pipeline"], "flows.pipeline", "PipelineParams", "CLI_OPTIONS",
     ["x", "--out", "R", "--name", "bad name"], "--name"),
    (["compress"], "flows.compress", "CompressParams", "CLI_OPTIONS",
     ["ckpt", "--student-width", "0"], "--student-width"),
    (["quality-model", "train"], "flows.quality", "QualityModelParams", "TRAIN_OPTIONS",
     ["--positive", "a", "--negative", "b", "--out", "o", "--epoch", "0"], "--epoch"),
    (["thresholds"], "flows.quality", "ThresholdsParams", "THRESHOLDS_OPTIONS",
     ["a", "--out", "t.json", "--keep", "2"], "--keep"),
    (["evaluate"], "flows.evaluate", "EvaluateParams", "CLI_OPTIONS",
     ["--data", "{tmp}", "--max-rows", "0"], "--max-rows"),
    (["crawl"], "flows.crawl", "CrawlParams", "CLI_OPTIONS",
     ["http://127.0.0.1/", "--out", "R", "--name", "n", "--max-pages", "0"], "--max-pages"),
    (["langid"], "flows.langid", "LangIDParams", "CLI_OPTIONS",
     ["x", "--out", "o.parquet", "--batch-size", "0"], "--batch-size"),
]  # fmt: skip


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every parameter of a model, a nested model's fields by their dotted names."""
    out = []
    for name, info in model.model_fields.items():
        inner = _unwrap_optional(info.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out += _leaves(inner, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)  # argparse wraps lines (also after a hyphen)


@pytest.mark.parametrize("argv,module,model,opts", [c[:4] for c in COMMANDS], ids=lambda v: v)
def test_help_shows_every_parameter_with_the_ui_description(argv, module, model, opts, capsys):
    mod = importlib.import_module(module)
    model, opts = getattr(mod, model), getattr(mod, opts)
    ui_only = getattr(mod, "UI_ONLY", {})
    declared = [o.field for o in opts]
    assert len(declared) == len(set(declared)), "a parameter declared twice"
    for leaf in _leaves(model):
        covered = leaf in declared or any(leaf == u or leaf.startswith(u + ".") for u in ui_only)
        assert covered, f"{argv[0]}: parameter {leaf} is neither an option nor in UI_ONLY"
    # Options declared outside the model: only the command line's own (and the --config FILE
    # and --backtranslate XX:YY spellings of a dict field and of two nested fields).
    parser = build_parser(argv[0])
    for word in argv:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    own = {a.dest for a in parser._actions} - {o.dest for o in opts}
    assert own <= {"help", "json", "needs_prefect", "config", "backtranslate"}, own
    with pytest.raises(SystemExit) as done:
        build_parser(argv[0]).parse_args([*argv, "--help"])
    assert done.value.code == 0
    shown = _squeezed(capsys.readouterr().out)
    for opt in opts:
        description = field_info(model, opt.field).description
        assert description, f"{argv[0]}: {opt.field} has no description for the UI form"
        assert opt.spelled() in shown or opt.positional
        assert _squeezed(description) in shown, (argv[0], opt.field)


@pytest.mark.parametrize("argv,bad,option", [(c[0], c[4], c[5]) for c in COMMANDS], ids=str)
def test_a_bad_value_is_one_line_naming_the_option(argv, bad, option, tmp_path, capsys):
    rc = main([*argv, *(a.replace("{tmp}", str(tmp_path)) for a in bad)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith(f"crossling {argv[0]}: error: invalid {option} ("), err


@pytest.mark.parametrize(
    "argv",
    [
        ["corpus", "x", "--out", "R", "--name", "n"],
        ["crawl", "http://a/", "--out", "R", "--name", "n"],
        ["pipeline", "x", "--out", "R", "--name", "n"],
        ["train", "--data", "R", "--corpus", "c"],
        ["evaluate", "--data", "R"],
        ["backtranslate", "--data", "R", "--corpus", "c", "--lang", "en", "--to", "zh"],
        ["compress", "ckpt", "--data", "R"],
        ["demo", "--out", "R"],
    ],
    ids=lambda argv: argv[0],
)
def test_a_command_runs_against_the_service_of_its_data_root(argv) -> None:
    """Whatever the option is called and whichever field it fills, the command's runs go to the
    Prefect server of the data root it names."""
    from flows.cli import command_root

    assert command_root(build_parser(argv[0]).parse_args(argv)) == "R"
