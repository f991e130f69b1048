"""The scaled-out platform on one machine, in the foreground: `manage.py scaleout` (plan.py says
which processes, supervisor.py runs and restarts them)."""
