"""What a user gets from the archives: the sdist runs its own tests, the wheel carries the
model, the training code and the bundled corpus, and works installed away from the checkout.

Both archives are built offline, as a packager would (``pip wheel --no-build-isolation``
with the setuptools of this environment: the dev extra pins ``setuptools>=77``), the wheel
from the unpacked sdist, as ``pip install tonecheck-0.1.0.tar.gz`` does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

# What `make test` needs from the unpacked sdist, besides every tests/test_*.py.
SDIST_NEEDS = [
    "pyproject.toml", "MANIFEST.in", "Makefile", "README.md", "LICENSE",
    "data/authored.csv", "data/real_labels.csv", "data/LABELS.md", "data/decisions.md", "data/README.md",
    "examples/drafts.csv", "docs/architecture.md",
    "models/tonecheck.json", "models/__init__.py",
    "src/tonecheck/known/fr_core_news_sm-3.8.0.token_match.json", "src/tonecheck/pages/static/report.html",
    "tests/conftest.py",
]
# Left behind by builds and runs: never in an archive (an sdist's own PKG-INFO and
# tonecheck.egg-info/ are setuptools' and belong there).
JUNK = re.compile(r"(^|/)(__pycache__|\.tmp|\.git|\.venv|build|\.hypothesis)(/|$)|\.pyc$|\.partial$")


def _run(*args: str, timeout: int = 600, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _setuptools_is_new_enough() -> bool:
    try:
        from importlib.metadata import version

        return int(version("setuptools").split(".")[0]) >= 77
    except Exception:  # noqa: BLE001 - not installed, or an odd version string
        return False


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """(sdist path, its unpacked folder, wheel path, the wheel installed with --target)."""
    if not _setuptools_is_new_enough():
        pytest.skip("building offline needs setuptools>=77 in this environment: pip install -e '.[dev]'")
    work = tmp_path_factory.mktemp("packaging")
    # Build from a copy of the work tree: a build writes build/ and *.egg-info beside the sources,
    # and setuptools would pack a stale build/lib of an earlier run.
    tree = work / "tree"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".tmp", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache"))
    dist = work / "dist"
    code = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    name = _run(sys.executable, "-c", code, str(dist), cwd=tree).stdout.strip().splitlines()[-1]
    sdist = dist / name
    with tarfile.open(sdist) as tar:
        tar.extractall(work / "unpacked", filter="data")
    unpacked = work / "unpacked" / name.removesuffix(".tar.gz")
    built = _run(sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "--no-index",
                 "-w", str(work / "wheels"), str(unpacked), env={**os.environ, "PIP_NO_INPUT": "1"})
    (wheel,) = (work / "wheels").glob("tonecheck-*.whl")
    target = work / "installed"
    _run(sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target), str(wheel))
    return {"sdist": sdist, "unpacked": unpacked, "wheel": wheel, "target": target,
            "build_log": built.stdout + built.stderr, "work": work}


def _sdist_names(sdist: Path) -> set[str]:
    with tarfile.open(sdist) as tar:
        return {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name and m.isfile()}


def test_sdist_holds_what_its_tests_need(archives):
    names = _sdist_names(archives["sdist"])
    missing = [n for n in SDIST_NEEDS if n not in names]
    missing += [f"tests/{p.name}" for p in (ROOT / "tests").glob("test_*.py") if f"tests/{p.name}" not in names]
    meta = json.loads((ROOT / "models" / "tonecheck.json").read_text(encoding="utf-8"))
    missing += [f"models/{meta[k]}" for k in ("engine_file", "estimators_file") if f"models/{meta[k]}" not in names]
    # Every file the README links to (the label guide, the data card, the reports, the pictures).
    for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", (ROOT / "README.md").read_text(encoding="utf-8")):
        if "://" not in link and (ROOT / link).is_file() and link not in names:
            missing.append(link)
    assert not missing, f"not in the sdist: {missing}"
    assert not [n for n in names if JUNK.search(n)], "build or run leftovers in the sdist"


def test_tests_run_from_the_unpacked_sdist(archives):
    """The corpus tests read data/ beside tests/, as in the checkout."""
    unpacked = archives["unpacked"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_normalise.py", "tests/test_data.py"],
        cwd=unpacked, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(unpacked / "src")},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"\d+ passed", done.stdout) and " error" not in done.stdout.splitlines()[-1]


def test_wheel_builds_without_packaging_warnings_and_holds_the_model_and_the_corpus(archives):
    assert "is absent from the `packages` configuration" not in archives["build_log"]
    with zipfile.ZipFile(archives["wheel"]) as z:
        names = set(z.namelist())
        meta = json.loads(z.read("tonecheck/_models/tonecheck.json"))
        real_labels_header = z.read("tonecheck/_data/real_labels.csv").decode("utf-8").splitlines()[0]
    for k in ("engine_file", "estimators_file"):
        assert f"tonecheck/_models/{meta[k]}" in names, f"the model's {k} {meta[k]} is not in the wheel"
    for module in ("training/__init__.py", "training/train.py", "training/corpus.py", "training/fitted.py",
                   "pages/static/report.html", "known/fr_core_news_sm-3.8.0.token_match.json", "py.typed",
                   "_data/authored.csv", "_data/real_labels.csv"):
        assert f"tonecheck/{module}" in names, f"tonecheck/{module} is not in the wheel"
    assert "text" not in real_labels_header.split(","), "the real posts' texts are never shipped"
    # Only the two corpus files and their card from data/, nothing of tests/ or the labelling work.
    assert sorted(n for n in names if n.startswith("tonecheck/_data/")) == [
        "tonecheck/_data/README.md", "tonecheck/_data/authored.csv", "tonecheck/_data/real_labels.csv"]
    assert not [n for n in names if n.startswith(("tests/", "data/", "tonecheck/tests")) or JUNK.search(n)]
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(archives["wheel"]) as z:
        assert "tonecheck = tonecheck.cli:main" in z.read(entry).decode()


def _installed(archives, *args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m tonecheck`` (or ``python -c``) with only the installed wheel for tonecheck."""
    env = {**os.environ, "PYTHONPATH": str(archives["target"])}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_installed_wheel_loads_its_model_and_assesses(archives, tmp_path):
    code = (
        "import json, tonecheck\n"
        "from tonecheck.model_folder import default_model_path\n"
        "r = tonecheck.assess('Restez chez vous et profitez de -30 % avec le code RESTEZCHEZVOUS')\n"
        "print(json.dumps({'file': tonecheck.__file__, 'model': str(default_model_path()), 'label': r.label.value,"
        " 'evidence': [e.text for e in r.evidence]}))\n"
    )
    done = _installed(archives, "-c", code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    target = str(archives["target"])
    assert out["file"].startswith(target) and out["model"] == f"{target}/tonecheck/_models/tonecheck.json"
    assert out["label"] == "tone-deaf" and "-30" in out["evidence"]


def test_train_with_bundled_works_from_the_installed_wheel(archives, tmp_path):
    """Away from a checkout there is no data/authored.csv: --with-bundled trains on the corpus
    the wheel ships, plus the user's own file."""
    done = _installed(archives, "-m", "tonecheck", "train", "--output", "m0", "--folds", "0", cwd=tmp_path)
    assert done.returncode == 2 and "pass --with-bundled" in done.stderr

    mine = tmp_path / "mine.csv"
    mine.write_text("text;label\n" + "".join(
        f"Nouvelle collection capsule n°{i} en boutique dès samedi;promotional\n" for i in range(12)), encoding="cp1252")
    done = _installed(archives, "-m", "tonecheck", "train", "--with-bundled", "--data", str(mine), "--folds", "0",
                      "--real-texts", str(tmp_path / "no-real-texts"), "--output", "m", cwd=tmp_path, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "real posts skipped" in done.stdout  # their texts are not shipped: --real-texts FOLDER
    trained = json.loads((tmp_path / "m" / "tonecheck.json").read_text(encoding="utf-8"))["trained_on"]
    bundled = f"{archives['target']}/tonecheck/_data/authored.csv"
    assert trained["files"] == [bundled, str(mine)]
    from tonecheck.training.corpus import read_posts, without_duplicates

    expected = [p for p in read_posts(bundled) + read_posts(mine) if p.split != "test"]
    assert trained["posts"] == len(without_duplicates(expected)[0]) and f"training on {trained['posts']} posts" in done.stdout
    code = "import tonecheck; m = tonecheck.load_model('m'); print(tonecheck.assess('Merci aux soignants', model=m).label.value)"
    done = _installed(archives, "-c", code, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() in ("supportive", "promotional", "tone-deaf", "preventive")
