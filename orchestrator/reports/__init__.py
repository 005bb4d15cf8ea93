"""Run and inspection reports (HTML and Markdown, English and zh-CN).

``model.ReportInput`` is what the app hands over (results + facts around the run,
plain data: this package does not read the store), ``view`` decides content and
order, ``render.render_report`` produces a ``document.ReportDocument``.
Nothing is imported here, so ``i18n`` stays cheap to import (settings use it).
"""
