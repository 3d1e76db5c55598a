"""The wizard's screens, one per runbook step or group of steps."""
