"""Swagger UI's Authorize, end to end in a real headless Chromium.

`jwtgate demo --app examples.fastapi_app:app` serves the FastAPI example (Swagger UI's
assets from the local `swagger-ui-bundle-v2` package: no internet) against the demo's
development issuer. The browser opens /docs, picks a scope on the padlock dialog,
signs in on the issuer's login page (authorization code with PKCE, in a popup, across
origins: CORS), and "Try it out" answers 200 where the token has the scope and 403
where it has not. Needs Debian's `chromium` (`.ci/run` installs it) and the
`playwright` Python package, driven against that browser (never `playwright install`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from servers import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    """The demo serving the FastAPI example; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTGATE_")}
    log = (tmp_path / "demo.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("jwtgate")), "demo", "--app",
         "examples.fastapi_app:app", "--port", str(port), "--issuer-port", "0"],
        cwd=ROOT, env={**env, "XDG_CACHE_HOME": str(tmp_path)}, stdout=log, stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/docs", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.monotonic() < deadline, "the demo never served /docs"
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _status(page: object, operation: str) -> str:
    op = page.locator(f"#operations-default-{operation}")  # type: ignore[attr-defined]
    op.locator(".opblock-summary").first.click()
    op.locator("button.try-out__btn").click()
    op.locator("button.execute").click()
    cell = op.locator(".live-responses-table tbody .response-col_status").first
    cell.wait_for(timeout=15000)
    return str(cell.inner_text()).split()[0]  # "403" (then "Undocumented")


def test_authorize_signs_in_and_try_it_out_answers_200_and_403(demo: str) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(demo + "/docs")
            # The padlock of GET /items names the scope it needs.
            items = page.locator("#operations-default-list_items_items_get")
            items.locator(".authorization__btn").click()
            dialog = page.locator(".modal-ux")
            assert "items:read" in dialog.inner_text()
            page.locator(".modal-ux .close-modal").click()

            page.click("button.authorize")
            flow = page.locator(".auth-container").filter(has_text="authorization_code").first
            assert flow.locator("#client_id_authorization_code").input_value() == "jwtgate-demo"
            assert "with PKCE" in flow.inner_text()
            flow.locator("label[for='items:read-authorization_code-checkbox-jwtgate']").click()
            with page.expect_popup() as popup_info:
                flow.locator("button.modal-btn.authorize").click()
            login = popup_info.value
            login.wait_for_selector("#sign-in")
            assert "Development sign-in" in login.inner_text("body")
            assert login.is_checked("input[name=grant_scope][value='items:read']")
            assert not login.is_checked("input[name=grant_scope][value='items:write']")
            with login.expect_event("close", timeout=15000):  # oauth2-redirect closes it.
                login.click("#sign-in")
            # The code is exchanged (with its PKCE verifier) once the popup has closed.
            sync_api.expect(flow).to_contain_text("Authorized", timeout=15000)
            page.click("button.btn-done")

            assert _status(page, "list_items_items_get") == "200"
            assert _status(page, "create_item_items_post") == "403"
            # Swagger UI's own files came from the app, not from a CDN.
            assert all(url.startswith("http://127.0.0.1") for url in requests), requests
        finally:
            browser.close()
