"""Output paths are checked before any work: a `--out` (or run folder) that is a file, a folder where a file is
wanted, a path under a file, or an unwritable place is one `cardiofm: error:` line and exit status 2.

The tests run as root here, where mode bits (chmod 0o555) do not stop writes; the real read-only tests are
skipped for root, and the "not writable" branch is also driven by making the write probe fail
(monkeypatching ``cardiofm.paths._probe``), plus a real kernel-refused folder (sysfs) where there is one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cardiofm.errors import OutputError
from cardiofm.paths import check_output_dir, check_output_file

from conftest import PTBXL, RECORD_1

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
CONTENT = b"precious\n"


def cli(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    """Run ``cardiofm ARGS`` in this process through the real entry point (``main``)."""
    from cardiofm.cli import main

    monkeypatch.setattr(sys, "argv", ["cardiofm", *map(str, args)])
    with pytest.raises(SystemExit) as exc:
        main()
    got = capsys.readouterr()
    return exc.value.code, got.out, got.err


def assert_one_line_error(code: int, err: str, *names: object) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cardiofm: error: "), err
    for name in names:
        assert str(name) in lines[0], (name, err)


@pytest.fixture
def afile(tmp_path: Path) -> Path:
    f = tmp_path / "afile"
    f.write_bytes(CONTENT)
    return f


def only(tmp_path: Path, *names: str) -> None:
    """Nothing was created in ``tmp_path`` besides ``names``: no work was done."""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def probe_fails(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make the write probe refuse ``folder`` as a read-only folder would (root ignores mode bits)."""
    import cardiofm.paths

    real = cardiofm.paths._probe

    def probe(d: Path) -> None:
        if Path(d).absolute() == Path(folder).absolute():
            raise PermissionError(13, "Permission denied", str(d))
        real(d)

    monkeypatch.setattr(cardiofm.paths, "_probe", probe)


# --- the helpers -------------------------------------------------------------------------------------------


def test_check_output_dir_accepts_writable_and_creatable_without_creating(tmp_path):
    assert check_output_dir(tmp_path) == tmp_path
    new = tmp_path / "a" / "b"
    assert check_output_dir(new) == new
    only(tmp_path)  # neither the folder nor a probe file is left behind


def test_check_output_dir_refuses_file_and_path_under_file(afile):
    with pytest.raises(OutputError, match="is a file, not a folder") as e:
        check_output_dir(afile, what="--out")
    assert str(afile) in str(e.value) and "--out" in str(e.value)
    with pytest.raises(OutputError, match="is a file, not a folder") as e:
        check_output_dir(afile / "sub" / "deeper")
    assert str(afile / "sub" / "deeper") in str(e.value) and str(afile) in str(e.value)
    assert afile.read_bytes() == CONTENT


def test_check_output_dir_refuses_broken_link(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    with pytest.raises(OutputError, match="broken symbolic link"):
        check_output_dir(tmp_path / "link")


def test_check_output_dir_unwritable_via_failing_probe(tmp_path, monkeypatch):
    probe_fails(monkeypatch, tmp_path)
    with pytest.raises(OutputError, match=r"not writable \(Permission denied\)") as e:
        check_output_dir(tmp_path, what="run folder")
    assert str(tmp_path) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(OutputError, match=r"cannot create the folder, .* not writable") as e:
        check_output_dir(tmp_path / "new" / "run")  # would be created in the unwritable folder
    assert str(tmp_path / "new" / "run") in str(e.value)


@pytest.mark.skipif(AS_ROOT, reason="root ignores mode bits, so chmod cannot make a read-only folder")
def test_check_output_dir_real_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="not writable"):
            check_output_dir(ro)
        with pytest.raises(OutputError, match="not writable"):
            check_output_dir(ro / "sub")
        with pytest.raises(OutputError, match="not writable"):
            check_output_file(ro / "x.csv")
    finally:
        ro.chmod(0o755)


def _sysfs() -> bool:
    try:
        return any(line.split()[1:3] == ["/sys", "sysfs"] for line in Path("/proc/mounts").read_text().splitlines())
    except OSError:
        return False


@pytest.mark.skipif(not _sysfs(), reason="needs Linux sysfs mounted at /sys")
def test_check_output_dir_real_kernel_refused_folder():
    """sysfs refuses to create regular files for everyone, root included: a real unwritable folder."""
    with pytest.raises(OutputError, match="not writable"):
        check_output_dir("/sys")
    with pytest.raises(OutputError, match="cannot create the folder, /sys is not writable"):
        check_output_dir("/sys/cardiofm-out")


def test_check_output_file(tmp_path, afile):
    before = afile.stat().st_mtime_ns
    assert check_output_file(afile) == afile  # an existing file may be overwritten later; now it is untouched
    assert afile.read_bytes() == CONTENT and afile.stat().st_mtime_ns == before
    assert check_output_file(tmp_path / "new" / "p.csv") == tmp_path / "new" / "p.csv"
    with pytest.raises(OutputError, match="is a folder, not a file") as e:
        check_output_file(tmp_path)
    assert str(tmp_path) in str(e.value)
    with pytest.raises(OutputError, match="is a file, not a folder") as e:
        check_output_file(afile / "p.csv")
    assert str(afile / "p.csv") in str(e.value)
    only(tmp_path, "afile")


def test_check_output_file_unwritable_via_failing_probe(tmp_path, monkeypatch):
    probe_fails(monkeypatch, tmp_path)
    with pytest.raises(OutputError, match="not writable") as e:
        check_output_file(tmp_path / "p.csv")
    assert str(tmp_path / "p.csv") in str(e.value)
    with pytest.raises(OutputError, match="not writable"):
        check_output_file(tmp_path / "new" / "p.csv")


@pytest.mark.skipif(AS_ROOT, reason="root ignores mode bits, so chmod cannot make a read-only file")
def test_check_output_file_real_read_only_file(afile):
    afile.chmod(0o444)
    with pytest.raises(OutputError, match="file is not writable"):
        check_output_file(afile)


# --- every command refuses before any work -------------------------------------------------------------------


@pytest.mark.parametrize("recipe", ["anyecg", "clef"])
def test_train_and_pretrain_refuse_file_as_run_folder(tmp_path, afile, capsys, monkeypatch, recipe):
    verb = "train" if recipe == "anyecg" else "pretrain"
    for out in (afile, afile / "run"):
        code, _, err = cli(capsys, monkeypatch, verb, recipe, "--out", out)
        assert_one_line_error(code, err, out, "run folder")
    assert afile.read_bytes() == CONTENT
    only(tmp_path, "afile")


def test_train_refuses_default_run_folder_under_a_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("runs").write_bytes(CONTENT)  # default run folder: runs/<name>-<variant>
    code, _, err = cli(capsys, monkeypatch, "train", "anyecg")
    assert_one_line_error(code, err, Path("runs") / "anyecg-synthetic")
    only(tmp_path, "runs")


def test_train_refuses_unwritable_run_folder(tmp_path, capsys, monkeypatch):
    probe_fails(monkeypatch, tmp_path)
    code, _, err = cli(capsys, monkeypatch, "train", "anyecg", "--out", tmp_path / "run")
    assert_one_line_error(code, err, tmp_path / "run", "not writable")
    only(tmp_path)


def test_evaluate_refuses_file_and_unwritable_run_folder(tmp_path, afile, capsys, monkeypatch):
    code, _, err = cli(capsys, monkeypatch, "evaluate", afile)
    assert_one_line_error(code, err, afile, "run folder")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("name: x\n")
    probe_fails(monkeypatch, run)
    code, _, err = cli(capsys, monkeypatch, "evaluate", run)
    assert_one_line_error(code, err, run, "not writable")
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml"]


@pytest.mark.parametrize("verb", ["predict", "zeroshot"])
def test_predict_and_zeroshot_refuse_folder_or_path_under_file(tmp_path, afile, capsys, monkeypatch, verb):
    run = tmp_path / "run"
    run.mkdir()
    extra = ["--label", "AFIB"] if verb == "zeroshot" else []
    for out in (tmp_path, afile / "p.csv"):
        code, _, err = cli(capsys, monkeypatch, verb, run, *extra, "--source", "ptbxl", "--root", PTBXL,
                           "--out", out)
        assert_one_line_error(code, err, out)
    assert afile.read_bytes() == CONTENT
    only(run)  # no external/ cache built


def test_generate_refuses_file_out(tmp_path, afile, capsys, monkeypatch):
    for out in (afile, afile / "gen"):
        code, _, err = cli(capsys, monkeypatch, "generate", "sinus bradycardia", "--run", tmp_path / "norun",
                           "--out", out)
        assert_one_line_error(code, err, out)
    only(tmp_path, "afile")


def test_data_build_refuses_file_out(tmp_path, afile, capsys, monkeypatch):
    for out in (afile, afile / "store"):
        code, _, err = cli(capsys, monkeypatch, "data", "build", "--source", "ptbxl", "--root", PTBXL,
                           "--out", out, "--no-progress")
        assert_one_line_error(code, err, out)
    assert afile.read_bytes() == CONTENT
    only(tmp_path, "afile")


def test_data_synth_refuses_file_out(tmp_path, afile, capsys, monkeypatch):
    for out in (afile, afile / "cohort"):
        code, _, err = cli(capsys, monkeypatch, "data", "synth", "--n", "2", "--out", out, "--no-progress")
        assert_one_line_error(code, err, out)
    assert afile.read_bytes() == CONTENT
    only(tmp_path, "afile")


def test_data_plot_refuses_folder_or_path_under_file(tmp_path, afile, capsys, monkeypatch):
    for out in (tmp_path, afile / "ecg.png"):
        code, _, err = cli(capsys, monkeypatch, "data", "plot", str(RECORD_1) + ".hea", "--out", out)
        assert_one_line_error(code, err, out)
    only(tmp_path, "afile")


def test_demo_refuses_file_out(tmp_path, afile, capsys, monkeypatch):
    for out in (afile, afile / "demo"):
        code, _, err = cli(capsys, monkeypatch, "demo", "--out", out)
        assert_one_line_error(code, err, out)
    only(tmp_path, "afile")


def test_entry_point_in_a_subprocess(tmp_path, afile):
    """The same through a real process: stderr is the one line, no traceback, no store created."""
    r = subprocess.run([sys.executable, "-c", "from cardiofm.cli import main; main()", "data", "build",
                        "--source", "ptbxl", "--root", str(PTBXL), "--out", str(afile / "store")],
                       capture_output=True, text=True, timeout=120)
    assert_one_line_error(r.returncode, r.stderr, afile / "store")
    only(tmp_path, "afile")


def test_train_fails_before_the_training_stack_is_even_imported(tmp_path, afile):
    code = ("import sys\nfrom cardiofm.cli import main\ntry:\n    main()\nfinally:\n"
            "    print(sorted(m for m in ('torch', 'lightning') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code, "train", "anyecg", "--out", str(afile)],
                       capture_output=True, text=True, timeout=120)
    assert_one_line_error(r.returncode, r.stderr, afile)
    assert r.stdout.strip() == "[]"


# --- library callers get the same checks ---------------------------------------------------------------------


def test_library_entry_points_check_outputs(tmp_path, afile, monkeypatch):
    from cardiofm.config import load_config
    from cardiofm.demo import run_demo
    from cardiofm.engine.inference import predict_external
    from cardiofm.engine.rundir import RunDir
    from cardiofm.systems.sediff.generate import generate
    from cardiofm.systems.shared.evaluation import evaluate_run
    from cardiofm.systems.supreme.zeroshot import zero_shot

    with pytest.raises(OutputError, match="run folder"):
        RunDir.create(load_config("anyecg"), afile)
    with pytest.raises(OutputError, match="run folder"):
        RunDir.create(load_config("anyecg", None, [f"out={afile / 'run'}"]))
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("name: x\n")
    with pytest.raises(OutputError, match="is a folder, not a file"):
        predict_external(run, "ptbxl", PTBXL, tmp_path)
    with pytest.raises(OutputError, match="is a folder, not a file"):
        zero_shot(run, ["AFIB"], "ptbxl", PTBXL, tmp_path)
    (run / "external").write_bytes(CONTENT)  # the cache of the new data's store cannot be made
    with pytest.raises(OutputError, match="run folder cache"):
        predict_external(run, "ptbxl", PTBXL, tmp_path / "p.csv")
    (run / "external").unlink()
    with pytest.raises(OutputError, match="is a file, not a folder"):
        generate(tmp_path / "norun", "sinus bradycardia", afile)
    with pytest.raises(OutputError, match="is a file, not a folder"):
        run_demo(afile)
    probe_fails(monkeypatch, run)
    with pytest.raises(OutputError, match="not writable"):
        evaluate_run(run)
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml"]
    only(tmp_path, "afile", "run")


# --- the last-resort net in main() ---------------------------------------------------------------------------


def test_main_turns_an_escaping_oserror_into_one_line(tmp_path, capsys, monkeypatch):
    import cardiofm.demo

    def disk_full(out, **kw):
        raise OSError(28, "No space left on device", str(Path(out) / "store" / "chunk_0.npy"))

    monkeypatch.setattr(cardiofm.demo, "run_demo", disk_full)
    code, _, err = cli(capsys, monkeypatch, "demo", "--out", tmp_path / "demo")
    assert_one_line_error(code, err, "No space left on device", tmp_path / "demo" / "store" / "chunk_0.npy")

    def denied(out, **kw):
        raise PermissionError(13, "Permission denied", str(out))

    monkeypatch.setattr(cardiofm.demo, "run_demo", denied)
    code, _, err = cli(capsys, monkeypatch, "demo", "--out", tmp_path / "demo")
    assert_one_line_error(code, err, f"Permission denied: {tmp_path / 'demo'}")


def test_main_keeps_tracebacks_of_programming_errors(tmp_path, monkeypatch):
    import cardiofm.demo
    from cardiofm.cli import main

    def bug(out, **kw):
        raise TypeError("a bug")

    monkeypatch.setattr(cardiofm.demo, "run_demo", bug)
    monkeypatch.setattr(sys, "argv", ["cardiofm", "demo", "--out", str(tmp_path / "demo")])
    with pytest.raises(TypeError, match="a bug"):
        main()


def test_os_error_line():
    from cardiofm.cli import os_error_line

    assert os_error_line(PermissionError(13, "Permission denied", "/a/b")) == "Permission denied: /a/b"
    assert os_error_line(OSError(18, "Invalid cross-device link", "/a", None, "/b")) == \
        "Invalid cross-device link: /a -> /b"
    assert os_error_line(OSError("no errno\nhere")) == "no errno here"
