pytest_plugins = ("benchgate.plugin", "pytester")
