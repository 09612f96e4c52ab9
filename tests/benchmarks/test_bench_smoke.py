"""The issue 15 benchmarks run end to end at a tiny size: the harness itself is checked (the
passes it times must be exact: no changes, then exactly the churn), not the figures."""

from __future__ import annotations

import pytest

from bench import bench_opencti_fetch, bench_pass

pytestmark = pytest.mark.slow


def test_whole_pass_benchmark_times_exact_passes(capsys: pytest.CaptureFixture[str]) -> None:
    bench_pass.main(["--sizes", "200", "--repeat", "1", "--latency-ms", "1"])
    out = capsys.readouterr().out
    # 200 indicators: 200 documents and 50 blocklist entries (the SHA-256 quarter), as applied
    assert out.count("No changes. Tanium is in sync (250 object(s) up to date).") == 4
    assert out.count("Plan: 1 to create, 1 to update, 1 to delete, 248 unchanged") == 4
    for stage in ("imports", "source", "tanium", "desired", "pass"):
        assert stage in out


def test_incremental_rounds_once_a_pass_leaves_a_local_snapshot(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # no incremental mode yet: pretend the first pass left one, so the rounds run (full
    # passes all, each still checked exact)
    monkeypatch.setattr(bench_pass, "local_snapshot", lambda state: ["snapshot.json"])
    bench_pass.main(
        ["--sizes", "200", "--sources", "opencti", "--repeat", "1", "--latency-ms", "1",
         "--incremental"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert out.count("No changes. Tanium is in sync (250 object(s) up to date).") == 4
    assert out.count("Plan: 1 to create, 1 to update, 1 to delete, 248 unchanged") == 4
    assert "incremental vs full pass, 200, churned:" in out


def test_churn_expects_documents_and_entries() -> None:
    churn = bench_pass.Churn.of(20_000, 0.01)
    assert (len(churn.new), len(churn.revoked), len(churn.relabelled)) == (67, 67, 67)
    assert not {*churn.revoked} & {*churn.relabelled}
    # a hash indicator is a document and an entry whose notes carry the labels
    assert churn.expected() == (83, 100, 67)


def test_fetch_benchmark_compares_with_pycti(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pycti")
    bench_opencti_fetch.main(["--count", "300", "--repeat", "1", "--page-size", "100"])
    out = capsys.readouterr().out
    for contender in ("octi-tanium", "pycti same fields", "pycti default"):
        assert f"\n{contender} " in out
    assert "octi-tanium vs pycti same fields:" in out
