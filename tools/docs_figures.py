"""Make the manual's figures (docs/img/) from chainrule itself, never by hand.

    python tools/docs_figures.py               # the network diagram and the training curves
    python tools/docs_figures.py --playground  # also the playground's screenshot (the browser
                                               # tests take it; needs chromium, chromedriver)

Each figure is drawn by the command a reader would run; the playground's is the browser test's
screenshot of the chain-rule panel. Needs the ``plot`` extra.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "img"


def chainrule(*args: str, cwd: Path) -> None:
    """Run one chainrule command as a reader would (``python -m chainrule``)."""
    subprocess.run([sys.executable, "-m", "chainrule", *args], cwd=cwd, check=True)


def command_figures(out: Path) -> list[Path]:
    """The network diagram of seed 001 and the training curves of iris, written into ``out``."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        shutil.copy(ROOT / "chainrule" / "datasets" / "iris.csv", work / "iris.csv")
        seed001 = str(ROOT / "examples" / "seed001.toml")
        chainrule("explain", seed001, "--diagram", "seed001_diagram.png", cwd=work)
        train = ["train", "iris.csv", "--target", "species", "--epochs", "200", "--seed", "0"]
        chainrule(*train, "--out", "iris.npz", "--plot", "iris_curves.png", "--quiet", cwd=work)
        made = [work / "seed001_diagram.png", work / "iris_curves.png"]
        return [Path(shutil.copy(path, out / path.name)) for path in made]


def playground_screenshot(out: Path) -> Path:
    """The browser test's screenshot of the chain-rule panel, as ``out/playground.png``."""
    with tempfile.TemporaryDirectory() as folder:
        environment = {**os.environ, "CHAINRULE_SCREENSHOTS": folder}
        test = "tests/test_playground_browser.py::test_clicking_a_weight_shows_the_numbers_"
        command = [sys.executable, "-m", "pytest", "-q", test + "explain_prints"]
        subprocess.run(command, cwd=ROOT, env=environment, check=True)
        return Path(shutil.copy(Path(folder) / "03-chain-rule.png", out / "playground.png"))


def graded_class_report(out: Path) -> Path:
    """The report of a class of 30 graded (``chainrule grade``) on answers made from the key
    with a mistake in most rows, screenshotted by headless Chromium as ``out/class_report.png``."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("the report's screenshot needs chromium (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        chainrule("init-example", "week3.toml", "--exercise", cwd=work)
        chainrule("exercise", "week3.toml", "--count", "30", "--out", "class", "--format",
                  "markdown", cwd=work)  # fmt: skip
        _answers_with_mistakes(work / "class", work / "answers.csv")
        chainrule("grade", "class", "answers.csv", "--out", "report", cwd=work)
        shot = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
        shot += ["--window-size=900,1500", f"--screenshot={work / 'report.png'}"]
        page = (work / "report" / "report.html").as_uri()
        subprocess.run([browser, *shot, page], check=True, capture_output=True, timeout=120)
        return Path(shutil.copy(work / "report.png", out / "class_report.png"))


def _answers_with_mistakes(variants: Path, answers: Path) -> None:
    """An answers table as a spreadsheet exports it: the key's values to 3 digits, student k
    making mistake k % 6 (none, a doubled gradient, a forgotten learning rate, a sign, blanks,
    a doubled error)."""
    import csv
    import tomllib

    with (variants / "key.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    for k, row in enumerate(rows):
        spec = tomllib.loads((variants / f"{row['id']}.toml").read_text())
        value = {s: float(v) for s, v in row.items() if s != "id"}
        w5, rate, mistake = spec["weights"]["w5"]["value"], spec["learning_rate"], k % 6
        if mistake == 1:
            value["dE/dw5"] *= 2
            value["w5+"] = w5 - rate * value["dE/dw5"]
        elif mistake == 2:
            value["w5+"] = w5 - value["dE/dw5"]
        elif mistake == 3:
            value["dE/dw1"] = -value["dE/dw1"]
        elif mistake == 5:
            value["E"] *= 2
        for symbol in value:
            blank = mistake == 4 and symbol in ("dE/dw1", "w5+")
            row[symbol] = "" if blank else f"{value[symbol]:#.3g}".rstrip(".")
    with answers.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


EXERCISE_ROSTER = [("ada", "Ada Lovelace"), ("alan", "Alan Turing"), ("grace", "Grace Hopper")]


def exercise_pages(out: Path) -> list[Path]:
    """A student's sheet and a page of the key of a class drawn from the softmax starter
    template, as ``chainrule exercise`` typesets them into its PDFs, rendered to PNG by Typst
    from the same source: ``out/exercise_sheet.png``, ``out/exercise_key.png``."""
    from chainrule.teaching.key import key_typst
    from chainrule.teaching.roster import Student
    from chainrule.teaching.sheets import PAGE, sheet_typst
    from chainrule.teaching.task import sheet_of
    from chainrule.teaching.template import load_template
    from chainrule.teaching.typesetting import compile_png
    from chainrule.teaching.variants import draw_variant

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        chainrule("init-example", "week4.toml", "--kind", "softmax", "--exercise", cwd=work)
        template = load_template(work / "week4.toml")
        variants = [draw_variant(template, Student(*entry)) for entry in EXERCISE_ROSTER]
        pages = {
            "exercise_sheet.png": compile_png(sheet_typst(sheet_of(template, variants[0])))[0],
            "exercise_key.png": compile_png(PAGE + key_typst(template, variants))[1],
        }
        for name, image in pages.items():
            (out / name).write_bytes(image)
        return [out / name for name in pages]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playground", action="store_true", help="also the screenshot")
    parser.add_argument("--report", action="store_true", help="also a graded class's report")
    parser.add_argument(
        "--exercise", action="store_true", help="also a sheet and the key (the teaching extra)"
    )
    parser.add_argument("--out", type=Path, default=IMAGES, help="default: docs/img")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    made = command_figures(args.out)
    if args.playground:
        made.append(playground_screenshot(args.out))
    if args.report:
        made.append(graded_class_report(args.out))
    if args.exercise:
        made += exercise_pages(args.out)
    for path in made:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
