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
from console import signin_limit
from console.config import settings
from console.ui import SIGNED_OUT, AccessDenied, diagnostics_list, signed_in
from console.users import (
    COUNTY_ADMIN,
    PROVINCE_MAINTAINER,
    UserError,
    authenticate,
    current,
)

VIEWS = Path(__file__).parent / "views"
st.set_page_config(page_title="救助 · 决策表控制台", page_icon="🧮", layout="wide")


def sign_in() -> None:
    st.title("救助 · 决策表控制台")
    st.caption("浙江省低收入人口救助决策表：编辑标准、检查、预览、发布与对比")
    left, _ = st.columns([2, 3])
    with left.form("signin"):
        name = st.text_input("用户名", key="signin_name")
        password = st.text_input("密码", type="password", key="signin_password")
        submitted = st.form_submit_button("登录", type="primary")
    left.caption("账号由管理人员用 jiuzhu user add 创建；忘记密码请联系管理人员重设。")
    reason = st.session_state.get(SIGNED_OUT)
    if reason and not submitted:
        left.warning(reason)
    if submitted:
        config = settings()
        paused = signin_limit.paused_until(config.state, name)
        if paused is not None:  # refused before any password is checked, for any name
            left.error(signin_limit.refusal(paused))
            return
        try:
            user = authenticate(config.users, name, password)
        except UserError as error:
            left.error(str(error))
            return
        if user is None:
            paused = signin_limit.failed(config.state, name)
            left.error(signin_limit.refusal(paused) if paused else "用户名或密码不正确。")
            return
        signin_limit.succeeded(config.state, name)
        now = current(config.users, user.name)
        st.session_state.clear()
        st.session_state["user"] = user
        st.session_state["user_stamp"] = now[1] if now else ""
        st.rerun()


def pages(role: str) -> list:  # type: ignore[type-arg]
    def page(name: str, title: str, icon: str) -> st.Page:
        return st.Page(VIEWS / f"{name}.py", title=title, icon=icon, url_path=name)

    found = [
        page("standards", "标准与规则", ":material/table_view:"),
        page("preview", "样本预览", ":material/groups:"),
        page("analysis", "一致性检查", ":material/fact_check:"),
    ]
    if role == COUNTY_ADMIN:
        found.append(page("publish", "发布", ":material/publish:"))
    found.append(page("history", "历史与对比", ":material/history:"))
    if role == PROVINCE_MAINTAINER:
        found.append(page("province", "省级工作簿", ":material/account_balance:"))
    return found


def main() -> None:
    user = signed_in()
    if user is None:
        st.navigation([st.Page(sign_in, title="登录", url_path="signin")], position="hidden").run()
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
