"""The console in a real headless browser: Playwright drives Debian's chromium.

The console is served by ``streamlit run`` on 127.0.0.1 on a free port, over a copy of
the real tables/ in a temporary folder (its own registry, drafts and users). A county
admin signs in, changes the dibao standard, sees the sample decisions change, finds a
household by its id, publishes, finds the new version in the history, publishes a
second one and withdraws it. A screenshot of every page is saved under
tests/output/ (gitignored). ``make test`` installs chromium when it is missing; this
test fails, rather than skips, when the browser is not there.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / "tests" / "output"
CHROMIUM = Path(os.environ.get("JIUZHU_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
AS_OF = "2025-06-01"
PASSWORD = "xihu-demo-password"
# the sample households of the county the demo admin keeps (the preview counts them)
XIHU_SAMPLES = sum(
    json.loads(line)["county_code"] == "330106"
    for line in (REPO / "tables" / "samples" / "households.jsonl").read_text(encoding="utf-8").splitlines()
)


def write_dibao(page, value: str) -> None:  # type: ignore[no-untyped-def]
    """Type a new 低保标准 into the open 调整一项本县标准 form and write it (W406: the
    city sets it; the console says so before writing, and writes it all the same)."""
    page.get_by_label("标准", exact=True).click()
    page.keyboard.type("dibao_standard")
    page.keyboard.press("Enter")
    page.get_by_label("新取值").fill(value)
    page.get_by_role("button", name="写入工作副本").click()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from console.users import add_user

    work = tmp_path_factory.mktemp("console-e2e")
    tables = work / "tables"
    shutil.copytree(REPO / "tables", tables, ignore=shutil.ignore_patterns("__pycache__"))
    state = work / "state"
    add_user(state / "users.yaml", "xihu-admin", "county_admin", PASSWORD, "330106")
    add_user(state / "users.yaml", "reviewer", "reviewer", "reviewer-demo-password")
    port = free_port()
    env = {**os.environ, "JIUZHU_TABLES": str(tables), "JIUZHU_STATE": str(state),
           "JIUZHU_REGISTRY": str(work / "registry" / "jiuzhu-registry.duckdb"),
           "JIUZHU_AS_OF": AS_OF}
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = (OUTPUT / "console-server.log").open("w", encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "console" / "app.py"),
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
         "--client.toolbarMode", "viewer"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def wait_healthy(url: str, server: subprocess.Popen) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"控制台进程已退出（{server.returncode}），见 tests/output/console-server.log")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("控制台 90 秒内没有启动")


def metrics(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-testid="stMetric"]')].map(m => [
              m.querySelector('[data-testid="stMetricLabel"]').innerText.trim(),
              m.querySelector('[data-testid="stMetricValue"]').innerText.trim()]))"""
    )


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_timeout(800)  # let charts and grids finish drawing
    page.screenshot(path=str(OUTPUT / f"console-{name}.png"), full_page=True)


def go(page, title: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
    wait_idle(page)


def wait_idle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until Streamlit has finished the run (its status widget disappears)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=180_000)


def test_sign_in_change_the_dibao_standard_preview_publish_history(console: str) -> None:
    assert CHROMIUM.exists(), f"找不到 {CHROMIUM}：请运行 make browser（apt-get install -y chromium）"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             headless=True)
        page = browser.new_page(viewport={"width": 1440, "height": 2200}, locale="zh-CN")
        page.set_default_timeout(120_000)
        try:
            walk_through(page, console)
        except Exception:
            page.screenshot(path=str(OUTPUT / "console-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def upload_limit() -> int:
    import tomllib

    config = (REPO / "console" / ".streamlit" / "config.toml").read_text(encoding="utf-8")
    return int(tomllib.loads(config)["server"]["maxUploadSize"])


def withdraw_a_version(page) -> None:  # type: ignore[no-untyped-def]
    """Publish a second version (dibao 1800), withdraw it with a reason, a review and a
    ticked confirmation, and find the withdrawal in force in the history."""
    go(page, "标准与规则")
    if not page.get_by_label("新取值").is_visible():
        page.get_by_text("调整一项本县标准").click()
    write_dibao(page, "1800")
    page.get_by_text("「低保标准」改为 1800").wait_for()
    wait_idle(page)
    go(page, "发布")
    page.get_by_label("版本说明（必填）").fill("低保标准提高到 1800 元")
    page.get_by_role("button", name="发布前检查").click()
    page.get_by_role("button", name="确认发布").wait_for(timeout=180_000)
    wait_idle(page)
    page.get_by_role("button", name="确认发布").click()
    page.get_by_text("已发布 330106@2").wait_for(timeout=180_000)

    go(page, "撤回版本")
    page.get_by_label("撤回原因（必填）").fill("文件暂缓执行")
    page.get_by_role("button", name="撤回前核对").click()
    page.get_by_role("heading", name="撤回前核对").wait_for(timeout=180_000)
    page.get_by_text("自 2025-06-01 起恢复").wait_for()
    wait_idle(page)
    confirm = page.get_by_role("button", name="确认撤回第 2 版")
    assert confirm.is_disabled()  # until the confirmation is ticked
    page.get_by_text("我确认撤回第 2 版").click()
    wait_idle(page)
    shot(page, "9-withdraw-review")
    confirm.click()
    page.get_by_text("已撤回第 2 版：发布了 330106@3").wait_for(timeout=180_000)
    wait_idle(page)
    shot(page, "10-withdrawn")
    go(page, "历史与对比")
    page.get_by_text("现行版本：330106@3").wait_for()
    page.get_by_text("共 3 个版本").wait_for()


def sign_in_at(page, url: str) -> None:  # type: ignore[no-untyped-def]
    """Open a page's URL in a new session (signed out): the sign-in form, in Chinese,
    not Streamlit's English "Page not found"; the admin signs in."""
    page.goto(url)
    page.get_by_label("用户名").wait_for()
    wait_idle(page)
    page.wait_for_timeout(1000)  # the dialog would come with the first run
    assert page.get_by_text("Page not found").count() == 0, url
    page.get_by_label("用户名").fill("xihu-admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def walk_through(page, console: str) -> None:  # type: ignore[no-untyped-def]
    if True:
        page.goto(console)
        page.get_by_label("用户名").fill("xihu-admin")
        page.get_by_label("密码").fill(PASSWORD)
        shot(page, "0-signin")
        page.get_by_role("button", name="登录").click()
        page.get_by_role("heading", name="标准与规则").first.wait_for()
        page.get_by_text("不属于低收入人口").first.wait_for()
        wait_idle(page)
        before = metrics(page)
        shot(page, "1-standards")

        page.get_by_text("调整一项本县标准").click()
        write_dibao(page, "1600")
        page.get_by_text("已加入「低保标准」1600").wait_for()
        page.get_by_text("不属于低收入人口").first.wait_for()
        wait_idle(page)
        after = metrics(page)
        assert after["低保"] != before["低保"], (before, after)
        assert int(after["低保"]) > int(before["低保"])
        shot(page, "2-standards-after-form")

        # the same standard edited in the grid itself: third row (dibao_standard), 值
        canvas = page.get_by_test_id("stDataFrame").first.locator("canvas").first
        box = canvas.bounding_box()
        assert box is not None
        row_height = 35  # Streamlit's grid: a 35 px header, then 35 px rows
        page.mouse.click(box["x"] + 70, box["y"] + row_height * 3 + row_height / 2)  # row 3, 标识
        for key in ("ArrowRight", "ArrowRight", "Enter"):  # 名称, then 值, and open its editor
            page.wait_for_timeout(300)
            page.keyboard.press(key)
        page.wait_for_timeout(300)
        page.keyboard.press("ControlOrMeta+A")
        page.keyboard.type("1700")
        page.wait_for_timeout(300)
        page.keyboard.press("Enter")
        page.get_by_text("已保存对「标准参数」的修改").wait_for()
        page.get_by_text("不属于低收入人口").first.wait_for()
        wait_idle(page)
        edited = metrics(page)
        assert edited != after, (after, edited)  # 1,700: a higher marginal line moves households
        shot(page, "2-standards-after-grid-edit")

        go(page, "样本预览")
        page.get_by_text("的决策理由").first.wait_for()
        shot(page, "3-preview")
        # the upload limit of console/.streamlit/config.toml is the one streamlit run uses
        page.get_by_text("上传家庭数据").click()
        limit = upload_limit()
        assert f"{limit}MB per file" in page.get_by_test_id("stFileUploaderDropzoneInstructions").inner_text()
        page.get_by_text(f"每个文件不超过 {limit} MB").first.wait_for()
        # more than 50 households: 50 offered; another found by typing its id
        assert XIHU_SAMPLES > 50
        page.get_by_text(f"共 {XIHU_SAMPLES} 户，下面列出前 50 户").wait_for()
        page.get_by_role("textbox", name="查找家庭编号").fill("S120")
        page.keyboard.press("Enter")
        page.get_by_text("家庭 S120（330106").wait_for()
        wait_idle(page)
        shot(page, "3-preview-found")
        go(page, "一致性检查")
        page.get_by_text("分析用时").wait_for(timeout=180_000)
        shot(page, "4-analysis")

        go(page, "发布")
        page.get_by_label("版本说明（必填）").fill("依据杭州市调整，低保标准提高到 1600 元")
        page.get_by_role("button", name="发布前检查").click()
        page.get_by_role("button", name="确认发布").wait_for(timeout=180_000)
        wait_idle(page)
        shot(page, "5-publish-review")
        page.get_by_role("button", name="确认发布").click()
        page.get_by_text("已发布 330106@1").wait_for(timeout=180_000)
        shot(page, "6-published")

        go(page, "历史与对比")
        page.get_by_text("现行版本：330106@1").wait_for()
        page.get_by_role("button", name="比较").click()
        page.get_by_text("对家庭决策的影响").wait_for(timeout=180_000)
        wait_idle(page)
        shot(page, "7-history")

        withdraw_a_version(page)

        sign_in_at(page, f"{console}/history")  # a reload: a new session, then the page itself
        page.get_by_text("现行版本：330106@3").wait_for()
        sign_in_at(page, f"{console}/province")  # another role's page: refused in Chinese
        page.get_by_text("只有省级维护人员").wait_for()
        assert page.get_by_text("Page not found").count() == 0
        shot(page, "8-url-of-another-roles-page")
