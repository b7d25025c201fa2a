"""The playground in headless Chromium (Debian's chromium and chromium-driver, driven by
selenium): one browser and one server for the module. Each state is saved as a screenshot
under a temporary folder (its path is printed with ``-s``)."""

import json
import os
import shutil
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

import chainrule as cr  # noqa: E402
from chainrule.cli import main  # noqa: E402
from chainrule.explain import spec_to_toml  # noqa: E402
from chainrule.playground.controller import Playground  # noqa: E402
from chainrule.playground.server import running  # noqa: E402
from chainrule.playground.settings import parse_settings  # noqa: E402

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1250",
]
DEFAULTS = {
    "dataset": "circles",
    "hidden": "4, 2",
    "activation": "tanh",
    "learning_rate": "0.03",
    "optimizer": "sgd",
    "batch_size": "10",
    "l2": "0",
    "seed": "0",
    "samples": "200",
    "noise": "0.1",
    "test_fraction": "0.5",
}


class Page:
    """The browser, the server and helpers to read and click the page. ``entry`` is the address
    the server printed, with its token; loading it gives the browser the token's cookie, with
    which ``url``, the server's plain address, loads too."""

    def __init__(self, driver, entry, playground, shots):
        self.driver, self.entry, self.playground, self.shots = driver, entry, playground, shots
        self.url, self.token = entry.split("?token=")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def find(self, css):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition, timeout=20, message="the page did not get there"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.05)
        self.shot("timeout")
        raise AssertionError(message)

    def open(self, **fields):
        """A fresh run with ``fields`` over the defaults, and the page loaded anew."""
        body = json.dumps(DEFAULTS | fields).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"token {self.token}"}
        request = urllib.request.Request(self.url + "api/settings", body, headers, method="POST")
        urllib.request.urlopen(request, timeout=10).read()
        self.driver.get(self.entry)
        self.wait(lambda: self.js("return app.frame !== null && app.state !== null"))
        assert self.driver.current_url == self.url  # the page took the token out of the address
        self.console()  # start each test with an empty log

    def epoch(self) -> int:
        return int(self.find("#epoch").text)

    def console(self) -> list[dict]:
        return self.driver.get_log("browser")

    def errors(self) -> list[str]:
        return [e["message"] for e in self.console() if e["level"] == "SEVERE"]

    def shot(self, name, show=None):
        if show is not None:  # scroll what the screenshot is about into view
            self.js("arguments[0].scrollIntoView({block: 'center'})", self.find(show))
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))

    def click_at(self, element, x, y):
        """Click ``element`` at (x, y) pixels from its top left corner."""
        from selenium.webdriver.common.action_chains import ActionChains

        size = element.size
        ActionChains(self.driver).move_to_element_with_offset(
            element, x - size["width"] / 2, y - size["height"] / 2
        ).click().perform()

    def click_edge(self, layer, source, target):
        line = self.find(
            f".edge-hit[data-layer='{layer}'][data-from='{source}'][data-to='{target}']"
        )
        x1, y1, x2, y2 = (float(line.get_attribute(a)) for a in ("x1", "y1", "x2", "y2"))
        self.click_at(self.find("#network"), (x1 + x2) / 2, (y1 + y2) / 2)

    def set_field(self, field, text):
        from selenium.webdriver.common.keys import Keys

        element = self.find(f"#{field}")
        element.click()
        element.send_keys(Keys.CONTROL, "a")  # modifiers are released after each call
        element.send_keys(Keys.BACKSPACE)
        element.send_keys(text, Keys.TAB)

    def message(self, field) -> str:
        return self.find(f".error[data-for='{field}']").text

    def pause_and_settle(self):
        if self.js("return app.playing"):
            self.find("#play").click()
        assert self.playground.session.wait_paused()  # an epoch that had started finishes
        epoch = self.playground.session.snapshot().epoch
        self.wait(lambda: self.epoch() == epoch)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    if not (CHROMIUM and DRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install them)")
    from selenium.webdriver.chrome.service import Service

    # tools/docs_figures.py names a folder to keep them in (the manual's screenshot)
    named = os.environ.get("CHAINRULE_SCREENSHOTS")
    shots = Path(named) if named else tmp_path_factory.mktemp("playground-screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    playground = Playground(parse_settings(DEFAULTS), speed="fast")
    try:
        with running(playground) as entry:
            yield Page(driver, entry, playground, shots)
    finally:
        driver.quit()
        print(f"\nplayground screenshots: {shots}")


def _network(page):
    """The run's network, built here from its settings and current parameters."""
    network = cr.MLP([2, 4, 2, 1], activation="tanh", loss="binary_cross_entropy", dtype="float64")
    network.set_parameters(page.playground.session.snapshot().parameters)
    return network


def test_the_page_loads_without_console_errors(page):
    page.open()
    assert page.find("#boundary").get_attribute("data-epoch") == "0"
    assert len(page.find_all(".edge-hit")) == 2 * 4 + 4 * 2 + 2 * 1
    assert len(page.find_all("image.node")) == 2 + 4 + 2 + 1
    assert len(page.find_all("circle.bias")) == 4 + 2 + 1
    # each edge: orange for a positive weight, blue for a negative one, wider when larger
    weights = page.playground.session.snapshot().parameters
    edges = page.js(
        "return [...document.querySelectorAll('line.edge')].map(e => [+e.dataset.weight,"
        " e.getAttribute('stroke'), +e.getAttribute('stroke-width')])"
    )
    network = _network(page)
    expected = [w for layer in network.layers for w in layer.W.ravel()]
    assert sorted(w for w, _, _ in edges) == pytest.approx(sorted(expected), rel=1e-12)
    assert all((colour == "rgb(245,147,34)") == (w > 0) for w, colour, _ in edges)
    by_size = sorted(edges, key=lambda e: abs(e[0]))
    assert by_size[0][2] < by_size[-1][2]
    assert weights.size == network.n_params
    page.shot("01-loaded")
    assert page.console() == []


def test_training_moves_the_loss_down_and_redraws_the_boundary(page):
    page.open()
    canvas = page.find("#boundary")
    before = page.js("return arguments[0].toDataURL()", canvas)
    page.find("#step").click()
    page.wait(lambda: page.epoch() == 1)
    page.find("#play").click()
    # with the default settings the loss halves after about 230 epochs: wait for that (or fail
    # after 60 s), not for an epoch count the page may pause before
    halved = "const l = app.history.loss; return l.length >= 150 && l[l.length - 1] < 0.5 * l[0]"
    page.wait(lambda: page.js(halved), timeout=60, message="the loss did not halve in 60 s")
    page.pause_and_settle()
    loss = page.js("return app.history.loss")
    assert len(loss) == page.epoch() and loss[-1] < 0.5 * loss[0]
    assert page.find("#train-loss").text == (
        f"{loss[-1]:.3f}" if loss[-1] >= 0.001 else f"{loss[-1]:.2e}".replace("e-0", "e-")
    )
    assert loss == page.playground.session.snapshot().history["loss"]
    assert canvas.get_attribute("data-epoch") == str(page.epoch())
    assert page.js("return arguments[0].toDataURL()", canvas) != before
    page.shot("02-trained")
    page.find("#show-python").click()
    code = page.wait(lambda: page.find("#python").text)
    assert f"epochs={page.epoch()}" in code and "net.fit(" in code
    assert page.errors() == []


def test_clicking_a_weight_shows_the_numbers_explain_prints(page, tmp_path, capsys):
    page.open()
    for _ in range(3):
        page.find("#step").click()
    page.wait(lambda: page.epoch() == 3)
    # choose the sample by clicking its point on the map
    sample = 17
    x, y = page.js(f"return toPixel(...app.state.points.X[{sample}], 300)")
    page.click_at(page.find("#boundary"), x, y)
    page.wait(lambda: page.js("return app.sample") == sample)
    page.click_edge(2, 1, 0)
    page.wait(lambda: page.find_all("#chain-rows tr"), message="no chain rule shown")
    rows = page.js(
        "return [...document.querySelectorAll('#chain-rows tr')].map("
        "tr => [tr.dataset.symbol, tr.querySelector('.line').textContent, tr.className])"
    )
    network = _network(page)
    points = page.playground.session.points
    explanation = cr.explain.explain(
        network, x=points.X[sample], t=[float(points.y[sample])], learning_rate=0.03
    )
    printed = explanation.render("text").splitlines()
    assert all(line in printed for _, line, _ in rows)
    (focus,) = [symbol for symbol, _, kind in rows if kind == "focus"]
    assert explanation.trace[focus].kind == "gradient"
    # the weight's gradient, from the engine itself: W of layer 2, row 1, column 0
    _, grads = network.loss_and_gradients(points.X[[sample]], points.y[[sample], None] * 1.0)
    assert explanation.trace[focus].value == pytest.approx(grads[1][0][1, 0], rel=1e-12)
    kinds = {explanation.trace[symbol].kind for symbol, _, _ in rows}
    assert {"net", "out", "delta", "path_sum", "gradient", "update"} <= kinds
    # the page's spec file, through `chainrule explain`, prints the same lines
    href = page.find("#chain-spec").get_attribute("href")
    spec = tmp_path / "clicked.toml"
    spec.write_text(urllib.parse.unquote(href.split(",", 1)[1]))
    assert main(["explain", str(spec)]) == 0
    cli = capsys.readouterr().out.splitlines()
    assert all(line in cli for _, line, _ in rows)
    page.shot("03-chain-rule", show="#chain-panel")
    # a neuron: its delta, summed over both paths to the next layer
    page.find("image.node[data-layer='1'][data-index='2']").click()
    page.wait(lambda: "neuron" in page.find("#chain-title").text)
    symbols = page.js("return app.chain.rows.map(r => r.symbol)")
    focus = page.js("return app.chain.focus")
    assert explanation.trace[focus].kind == "delta" and focus in symbols
    paths = [s for s in symbols if explanation.trace[s].kind == "path_sum"]
    assert any(explanation.trace[s].note.count("via") == 2 for s in paths)
    assert page.errors() == []


def test_the_check_box_flags_a_planted_wrong_value(page):
    if not page.find_all("#chain-value"):
        page.open()
        page.click_edge(1, 0, 2)
        page.wait(lambda: page.find_all("#chain-value"))
    focus = page.js("return app.chain.focus")
    correct = page.js("return app.chain.rows.find(r => r.symbol === app.chain.focus).value")
    assert page.find("#chain-symbol").get_attribute("value") == focus
    page.find("#chain-value").send_keys(f"{correct:.6g}")
    page.find("#chain-check-button").click()
    verdict = page.wait(lambda: page.find("#chain-verdict").text)
    assert verdict.startswith("✔ right") and "ok" in page.find("#chain-verdict").get_attribute(
        "class"
    )
    page.js("document.getElementById('chain-value').value = ''")
    page.find("#chain-value").send_keys(f"{2 * correct:.6g}")
    page.find("#chain-check-button").click()
    page.wait(lambda: page.find("#chain-verdict").text.startswith("✘"))
    verdict = page.find("#chain-verdict")
    assert verdict.get_attribute("data-kind") == "factor_two"
    assert "twice its correct value" in verdict.text
    page.shot("04-check-wrong", show="#chain-verdict")
    page.js("document.getElementById('chain-value').value = ''")
    page.find("#chain-value").send_keys("twelve")
    page.find("#chain-check-button").click()
    page.wait(lambda: page.message("chain-check"))
    assert "type a number" in page.message("chain-check")
    assert all("400" in message for message in page.errors())


def test_bad_inputs_show_their_messages_beside_the_field(page, tmp_path):
    page.open()
    run = page.js("return app.state.run")
    page.set_field("learning_rate", "0")
    page.wait(lambda: page.message("learning_rate"))
    assert page.message("learning_rate") == "learning rate must be a number > 0 and <= 10, got '0'"
    page.set_field("learning_rate", "quick")
    page.wait(lambda: "quick" in page.message("learning_rate"))
    page.set_field("hidden", "")
    page.wait(lambda: page.message("hidden"))
    assert page.message("hidden") == "give at least one hidden layer, e.g. 4, 2"
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n0.5,1.0,a\n0.25,oops,b\n")
    page.find("#csv").send_keys(str(bad))
    page.wait(lambda: page.message("csv"))
    assert page.message("csv") == "bad.csv: column 'x2' is not numeric: row 3 holds 'oops'"
    page.shot("05-bad-inputs")
    assert page.js("return app.state.run") == run  # nothing was applied
    # every bad answer was a 400 the page handled; no script error
    assert all("400" in message for message in page.errors())
    # fixing the fields clears their messages and the page trains again
    page.set_field("hidden", "3")
    page.set_field("learning_rate", "0.1")
    page.wait(lambda: page.message("learning_rate") == "" and page.message("hidden") == "")
    page.wait(lambda: page.js("return app.state.run") > run)
    assert page.js("return app.state.settings.hidden") == [3]
    good = tmp_path / "good.csv"
    good.write_text("u,v,colour\n0,0,red\n1,1,red\n0,1,blue\n1,0,blue\n0.1,0.9,blue\n")
    page.find("#csv").send_keys(str(good))
    page.wait(lambda: page.js("return app.state.settings.dataset") == "csv")
    assert page.message("csv") == "" and page.js("return app.state.points.y.length") == 5
    page.find("#step").click()
    page.wait(lambda: page.epoch() == 1)
    page.shot("05b-csv")
    assert all("400" in message for message in page.errors())  # the fields fixed one by one


def test_a_reload_and_a_closed_tab_mid_training_leave_the_run_going(page):
    page.open()
    page.find("#play").click()
    page.wait(lambda: page.epoch() >= 20)
    page.driver.refresh()
    page.wait(lambda: page.js("return typeof app !== 'undefined' && app.frame !== null"))
    first = page.epoch()
    page.wait(lambda: page.epoch() > first + 20, message="the run stopped after a reload")
    main_tab = page.driver.current_window_handle
    page.driver.switch_to.new_window("tab")
    page.driver.get(page.url)
    page.wait(lambda: page.js("return app.frame !== null"))
    page.driver.close()
    page.driver.switch_to.window(main_tab)
    second = page.epoch()
    page.wait(lambda: page.epoch() > second + 20, message="the run stopped after a tab closed")
    page.pause_and_settle()
    assert page.js("return app.history.loss.length") == page.epoch()
    page.shot("06-after-reload")
    assert page.errors() == []


def test_a_spec_file_steps_forward_and_backward(page, tmp_path, capsys):
    page.open()
    network = cr.MLP(
        [2, 2, 1], activation="sigmoid", loss="binary_cross_entropy", seed=5, dtype="float64"
    )
    explanation = cr.explain.explain(network, x=[0.4, -0.6], t=[1.0], learning_rate=0.5)
    spec = tmp_path / "example.toml"
    spec.write_text(spec_to_toml(explanation.spec) + '\n[claims]\nz1 = "0.5"\n')
    assert main(["explain", str(spec)]) == 0
    printed = capsys.readouterr().out.splitlines()
    page.find("#spec-file").send_keys(str(spec))
    page.wait(lambda: page.find("#spec-steps").is_displayed())
    for _ in range(3):
        page.find("#spec-next").click()
    lines = page.js(
        "return [...document.querySelectorAll('#spec-rows tr')].map("
        "tr => [tr.querySelector('.line').textContent, tr.className])"
    )
    shown = [line for line, kind in lines if kind != "hidden-value"]
    assert len(shown) == 3 and all(line in printed for line in shown)
    assert lines[2][1] == "current" and lines[3][0].endswith("= ?")
    page.shot("07-spec-stepping", show="#spec-position")
    page.find("#spec-back").click()
    assert page.find("#spec-position").text.startswith("value 2 of")
    page.find("#spec-all").click()
    rows = page.find_all("#spec-rows tr.hidden-value")
    assert rows == []
    claim = page.find("#spec-claims .verdict")
    assert "wrong" in claim.get_attribute("class") and "z1" in claim.text
    assert "x1" not in page.js("return app.spec.symbols")  # given values are not checked
    page.find("#spec-value").send_keys("123")
    page.find("#spec-check-button").click()
    page.wait(lambda: page.find("#spec-verdict").text.startswith("✘"))
    page.shot("07b-spec-check", show="#spec-verdict")
    broken = tmp_path / "broken.toml"
    broken.write_text("title = 'x'\n[inputs]\nx1 = \n")
    page.find("#spec-file").send_keys(str(broken))
    page.wait(lambda: page.message("spec"))
    assert "line" in page.message("spec") and not page.find("#spec-steps").is_displayed()
    assert all("400" in message for message in page.errors())
