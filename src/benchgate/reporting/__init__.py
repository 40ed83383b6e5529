"""Reports: run log, summary (JSON/Markdown), plots, Allure."""
