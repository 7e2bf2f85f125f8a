"""The Jiuzhu console: ``streamlit run console/app.py`` (``make console``).

Signs the user in from the users file, then offers the pages their role allows. Every
page asks ``console.ui.context`` for the county again, so a page reached by its URL
checks the same limits as one reached from the menu.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st

from compiler.errors import JiuzhuError
from console.config import problems
from console.signin import sign_in
from console.ui import AccessDenied, diagnostics_list, signed_in
from console.users import COUNTY_ADMIN, PROVINCE_MAINTAINER

VIEWS = Path(__file__).parent / "views"
st.set_page_config(page_title="救助 · 决策表控制台", page_icon="🧮", layout="wide")


PAGES = [  # (view and URL path, title, icon, the one role it is for; None: every role)
    ("standards", "标准与规则", ":material/table_view:", None),
    ("preview", "样本预览", ":material/groups:", None),
    ("analysis", "一致性检查", ":material/fact_check:", None),
    ("publish", "发布", ":material/publish:", COUNTY_ADMIN),
    ("withdraw", "撤回版本", ":material/undo:", COUNTY_ADMIN),
    ("history", "历史与对比", ":material/history:", None),
    ("province", "省级工作簿", ":material/account_balance:", PROVINCE_MAINTAINER),
]


def pages(role: str) -> list[st.Page]:
    """Every page, those of other roles hidden from the menu: opened by URL they refuse
    in Chinese (each page checks access itself) where Streamlit would say, in English,
    that the page does not exist."""
    return [st.Page(VIEWS / f"{name}.py", title=title, icon=icon, url_path=name,
                    visibility="visible" if only in (None, role) else "hidden")
            for name, title, icon, only in PAGES]


def signed_out_pages() -> list[st.Page]:
    """The sign-in form, and every page under its URL: a page opened from a bookmark,
    or reloaded (a new session, signed out), shows the form (``ui.context``) and then
    itself, where Streamlit would say, in English, that the page does not exist."""
    return [st.Page(sign_in, title="登录", url_path="signin"),
            *[st.Page(VIEWS / f"{name}.py", title=title, url_path=name, visibility="hidden")
              for name, title, *_ in PAGES]]


def _log_to_stderr() -> None:
    """The library's logger has only a NullHandler: a page's failure logged with its
    traceback reached no file (helper-39). Added once; Streamlit reruns this script."""
    logger = logging.getLogger("jiuzhu")
    if not any(getattr(h, "_jiuzhu_console", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._jiuzhu_console = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def main() -> None:
    _log_to_stderr()
    wrong = problems()  # a JIUZHU_AS_OF that is no date and the like, said in Chinese
    if wrong:
        for line in wrong:
            st.error(f"控制台无法使用：{line}")
        st.stop()
    user = signed_in()
    if user is None:
        st.navigation(signed_out_pages(), position="hidden").run()
        return
    navigation = st.navigation(pages(user.role))
    with st.sidebar:
        where = f" · {user.county}" if user.county else ""
        st.markdown(f"**{user.name}**  \n{user.role_cn}{where}")
        if st.button("退出登录", key="signout"):
            st.session_state.clear()
            st.rerun()
    try:
        navigation.run()
    except JiuzhuError as error:  # a library refusal that a page did not expect
        diagnostics_list(error.diagnostics)
    except AccessDenied:
        st.error("没有权限查看该内容。")
    except Exception as error:  # a bug: say so plainly, keep the traceback in the log
        if os.environ.get("JIUZHU_DEBUG"):
            raise
        logging.getLogger("jiuzhu").exception("console page failed")
        st.error(f"内部错误（请报告给开发者）：{type(error).__name__}: {error}")


main()
