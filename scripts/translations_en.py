#!/usr/bin/env python3
"""Fill the English catalogue from the table below and compile all catalogues.

Workflow for translators (message ids are the Chinese source texts):

    pybabel extract -F babel.cfg -k _l -o survey/translations/messages.pot .
    pybabel update -i survey/translations/messages.pot -d survey/translations
    python scripts/translations_en.py        # or edit survey/translations/<lang>/LC_MESSAGES/messages.po
    pybabel compile -d survey/translations   # done by this script too
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "survey" / "translations" / "en" / "LC_MESSAGES" / "messages.po"

EN = {
    "公众对生态文明建设满意度与参与度调查": "Survey of public satisfaction and participation in eco-civilization",
    "跳到主要内容": "Skip to main content",
    "生态文明建设公众调查": "Eco-civilization public survey",
    "显示设置": "Display settings",
    "标准字号": "Normal text",
    "大字模式": "Large text",
    "（选填）": "(optional)",
    "（如与上题相关，请按实际情况填写；不适用可不填）": "(answer if it applies to you; otherwise leave it blank)",
    "本次调查已结束": "This survey has ended",
    "感谢您的关注。本采集点已停止收集问卷。": "Thank you for your interest. This collection point no longer accepts answers.",
    "调查单位：%(org)s": "Conducted by: %(org)s",
    "匿名填写，不收集姓名、电话等个人信息": "Anonymous: no name, phone number or other personal information is collected",
    "大约需要 %(n)s 分钟": "Takes about %(n)s minutes",
    "点击下方按钮，表示您自愿参加本次调查，并同意我们以匿名方式使用您的回答进行统计分析。": "By pressing the button below you agree to take part voluntarily and to the anonymous use of your answers for statistics.",
    "同意并开始填写": "Agree and start",
    "进度": "Progress",
    "第 %(i)s 页，共 %(n)s 页": "Page %(i)s of %(n)s",
    "有 %(n)s 处需要修改，请查看标红的题目。": "%(n)s answers need attention: see the questions marked in red.",
    "上一页": "Back",
    "提交问卷": "Submit",
    "下一页": "Next",
    "感谢您的参与": "Thank you for taking part",
    "与您同区县、同性别、同年龄段的受访者名额已满，本次无需继续填写。感谢您对生态文明建设的支持！": "We already have enough answers from people of your district, sex and age group, so there is no need to continue. Thank you for your support!",
    "页面已过期，请重新开始": "This page has expired: please start again",
    "页面停留时间过长或已失效。": "The page was open for too long or is no longer valid.",
    "页面信息不完整或已被修改。": "The page was incomplete or had been altered.",
    "您已填写的内容仍保存在本机，重新开始后会自动填入。": "Your answers are still kept on this device and will be filled in again.",
    "重新开始": "Start again",
    "感谢您的关注": "Thank you for your interest",
    "提交成功，感谢您的参与！": "Submitted. Thank you for taking part!",
    "回执码": "Receipt code",
    "请保存回执码。如需撤回本次回答，可凭回执码联系调查单位。": "Keep the receipt code. To withdraw your answer, contact the survey organizer with this code.",
    "工作台": "Workspace",
    "生态文明建设公众调查平台": "Eco-civilization public survey platform",
    "主菜单": "Main menu",
    "退出": "Log out",
    "页面不存在": "Page not found",
    "链接可能有误或已失效，请重新扫描二维码。": "The link may be wrong or expired. Please scan the QR code again.",
    "提交内容过大": "Submission too large",
    "请缩短填写的文字后重新提交。": "Please shorten your text and submit again.",
    "请求方式不正确": "Method not allowed",
    "请返回上一页，通过页面上的按钮操作。": "Please go back and use the buttons on the page.",
    "服务器出现问题": "Server error",
    "请稍后重试；您填写的内容仍保存在本机。": "Please try again later; your answers are kept on this device.",
}


def main() -> int:
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if message.id in EN:
            message.string = EN[message.id]
            message.flags.discard("fuzzy")
        elif not message.string:
            missing.append(message.id)
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=100)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "compile",
            "-d",
            str(ROOT / "survey" / "translations"),
            "--statistics",
        ],
        check=True,
    )
    for text in missing:
        print(f"untranslated: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
