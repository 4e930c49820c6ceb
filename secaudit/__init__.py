"""secaudit: security posture audits for smart-city command-center infrastructure."""

__version__ = "0.1.0"
