"""Deadlines in working days: China's official calendar, the operator's local days, the limits
by request type and urgency, and the enterprise line's 2110 clocks.

    local_time.py    Asia/Shanghai days; every deadline is returned as aware UTC
    workdays.py      WorkCalendar: official + local working days, arithmetic in workdays
    rules.py         Limit, DeadlineRules (handling, 签收, due-soon), standing()
    rules.toml       the default limits, and the template of an operator's file
    clocks_2110.py   the enterprise line's contact / answer / solve clocks

Pure logic: the standard library and chinese_calendar only (an import contract keeps the
package independent of the other domains).
"""
