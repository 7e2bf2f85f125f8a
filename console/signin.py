"""The sign-in form: a name and password checked against the users file, with the
limit on failed sign-ins (``console.signin_limit``). Shown by the console's sign-in
page and by any page opened while signed out (``console.ui.context``), which then
shows itself once the user is signed in."""

from __future__ import annotations

import streamlit as st

from console import signin_limit
from console.config import settings
from console.users import UserError, authenticate, current

SIGNED_OUT = "signed_out_reason"  # why the last session ended, said above the form


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
