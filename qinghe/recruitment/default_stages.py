"""The platform's default pipeline stages, as migration jobs/0002 seeded them (their
messages' placeholders in Chinese since recruitment/0002)."""

DEFAULT_STAGES = [
    # code, name, kind, position, terminal, hire, notify, message
    (
        "applied",
        "已投递",
        "applied",
        10,
        False,
        False,
        True,
        "你已成功投递“【岗位名称】”，企业将尽快查看。",
    ),
    ("screening", "筛选", "screening", 20, False, False, False, ""),
    (
        "interview",
        "面试",
        "interview",
        30,
        False,
        False,
        True,
        "“【岗位名称】”邀请你参加面试，请留意面试安排。",
    ),
    (
        "offer",
        "录用",
        "offer",
        40,
        False,
        True,
        True,
        "恭喜！你已被“【企业名称】”录用（【岗位名称】）。",
    ),
    ("onboarded", "入职", "onboarded", 50, True, False, False, ""),
    (
        "rejected",
        "未通过",
        "rejected",
        90,
        True,
        False,
        True,
        "感谢你投递“【岗位名称】”，很遗憾这次未能通过。",
    ),
    ("withdrawn", "撤回", "withdrawn", 95, True, False, False, ""),
]
