from trading import admin_executions  # noqa: F401  (decisions and executions, issue 4)
