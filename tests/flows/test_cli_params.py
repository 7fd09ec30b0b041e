"""Command options made from the flows' parameter models (flows/cli_params.py): the help a user
reads is the description the UI form shows, a value the model rejects is a one-line usage error
naming the option, found before any Prefect server is started."""

from __future__ import annotations

import argparse
import os

import pytest

from flows import crawl, langid
from flows.cli import UsageError, build_parser, main
from flows.cli_params import Opt, add_options, build


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
