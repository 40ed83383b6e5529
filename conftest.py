pytest_plugins = ("benchgate.plugin",)
